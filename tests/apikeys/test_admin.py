"""API keys in the admin (issue 14): one list with owner, prefix, scopes, expiry, last use
and revocation, read-only; revoking and creating global keys through the services and
``accounts.access``; the full key shown once, on the page that answers its creation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.access import SYSTEM_ACTOR
from accounts.constants import AuditKind
from accounts.crypto import encrypt_secret
from accounts.models import AuditEvent, TOTPAuthenticator, User
from apikeys.keys import parse_key, secret_matches
from apikeys.models import ApiKey
from apikeys.scopes import Scope
from apikeys.services import api_key_create
from config.client import SYSTEM
from tests.helpers import account, admin_client_for, otp_verified_staff_client

pytestmark = pytest.mark.django_db

LIST = "/admin/apikeys/apikey/"
CREATE_GLOBAL = "/admin/apikeys/apikey/create-global/"
WHEN = datetime(2026, 12, 9, 14, 0, tzinfo=UTC)


def make_key(
    owner: User | None, name: str = "laptop", **fields: object
) -> tuple[ApiKey, str]:
    """A key made as ``manage.py apikey create`` makes it, then ``fields`` set as its
    use and revocation would have."""
    key, raw = api_key_create(
        actor=SYSTEM_ACTOR,
        owner_id=owner.pk if owner else None,
        name=name,
        scopes=None if owner else [Scope.USERS_READ, Scope.FLAGS_READ],
        expires_at=None,
        client=SYSTEM,
    )
    if fields:
        ApiKey.objects.filter(pk=key.pk).update(**fields)
        key.refresh_from_db()
    return key, raw


@pytest.fixture
def superadmin() -> tuple[Client, User]:
    return otp_verified_staff_client()


@pytest.fixture
def staff(superadmin: tuple[Client, User]) -> Client:
    return superadmin[0]


# --- the list ----------------------------------------------------------------------------


def test_the_list_shows_owner_prefix_scopes_expiry_last_use_and_revocation(
    staff: Client,
) -> None:
    ada = account(username="ada")
    laptop, laptop_raw = make_key(
        ada, last_used_at=WHEN, last_used_ip="203.0.113.9", expires_at=WHEN
    )
    ci, ci_raw = make_key(None, "ci", revoked_at=WHEN)

    response = staff.get(LIST)

    assert response.status_code == 200
    page = response.content.decode()
    for column in ("Key", "Owner", "Name", "Scopes", "Expires", "Last use", "Revoked"):
        assert column in page
    assert f"gth_{laptop.prefix}_…" in page
    assert f"gth_{ci.prefix}_…" in page
    assert "(global)" in page
    assert "users:read, flags:read" in page
    assert "2026-12-09 14:00 UTC from 203.0.113.9" in page  # last use
    assert '<td class="field-expires">2026-12-09 14:00 UTC</td>' in page
    assert '<td class="field-last_use">never</td>' in page  # the global key
    assert '<td class="field-revoked">2026-12-09 14:00 UTC</td>' in page
    assert '<td class="field-revoked">—</td>' in page
    assert laptop_raw not in page
    assert ci_raw not in page
    assert laptop.secret_hash not in page


def test_times_are_in_the_staff_members_zone(superadmin: tuple[Client, User]) -> None:
    client, staff = superadmin
    staff.timezone = "Europe/Paris"
    staff.save()
    make_key(account(username="ada"), last_used_at=WHEN, last_used_ip="203.0.113.9")

    page = client.get(LIST).content.decode()

    assert "2026-12-09 15:00 CET from 203.0.113.9" in page


def test_the_list_never_counts_every_key(
    staff: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from config.paginator import CappedCountPaginator

    monkeypatch.setattr(CappedCountPaginator, "count_cap", 2)
    for number in range(3):
        make_key(None, f"service {number}")

    with CaptureQueriesContext(connection) as queries:
        response = staff.get(LIST)

    assert response.status_code == 200
    counts = [
        q["sql"] for q in queries.captured_queries if "count(" in q["sql"].lower()
    ]
    assert counts
    assert all("LIMIT 3" in sql for sql in counts)  # the cap and one more
    assert "more than 2 API keys" in response.content.decode()
    # Nor a count per filter choice ("Show counts"), even when asked for.
    assert "_facets" not in response.content.decode()
    with CaptureQueriesContext(connection) as faceted:
        staff.get(LIST, {"_facets": "True"})
    assert not [
        q
        for q in faceted.captured_queries
        if "count(" in q["sql"].lower() and "LIMIT" not in q["sql"]
    ]


def test_the_list_takes_a_constant_number_of_statements(staff: Client) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_key(account(), revoked_at=WHEN)
    with CaptureQueriesContext(connection) as few:
        staff.get(LIST)
    for _ in range(5):
        make_key(account())
        make_key(None, "service")

    with CaptureQueriesContext(connection) as many:
        staff.get(LIST)

    assert len(many.captured_queries) == len(few.captured_queries)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("state=live", {"live", "global"}),
        ("state=expired", {"expired"}),
        ("state=revoked", {"revoked"}),
        ("owner=global", {"global"}),
        ("owner=user", {"live", "expired", "revoked"}),
        ("", {"live", "expired", "revoked", "global"}),
    ],
)
def test_the_filters(staff: Client, query: str, expected: set[str]) -> None:
    ada = account(username="ada")
    keys = {
        "live": make_key(ada, "live", expires_at=timezone.now() + timedelta(days=1)),
        "expired": make_key(
            ada, "expired", expires_at=timezone.now() - timedelta(minutes=1)
        ),
        "revoked": make_key(ada, "revoked", revoked_at=WHEN),
        "global": make_key(None, "global"),
    }

    page = staff.get(f"{LIST}?{query}").content.decode()

    shown = {name for name, (key, _) in keys.items() if key.prefix in page}
    assert shown == expected


@pytest.mark.parametrize(
    "term", ["{prefix}", "gth_{prefix}", "gth_{prefix}_…", "deploy", "grac"]
)
def test_search_by_prefix_as_keys_begin_by_name_or_owner(
    staff: Client, term: str
) -> None:
    wanted, _ = make_key(account(username="grace"), "deploy bot")
    other, _ = make_key(account(username="ada"), "laptop")

    page = staff.get(LIST, {"q": term.format(prefix=wanted.prefix)}).content.decode()

    assert wanted.prefix in page
    assert other.prefix not in page


# --- read-only: no raw add, change or delete ---------------------------------------------


def test_keys_are_read_only_and_their_page_shows_no_digest(staff: Client) -> None:
    key, raw = make_key(account(username="ada"))
    page_url = f"{LIST}{key.pk}/change/"

    page = staff.get(page_url)
    changed = staff.post(
        page_url, {"name": "renamed", "scopes": '["admin"]', "revoked_at": ""}
    )

    assert page.status_code == 200
    content = page.content.decode()
    assert 'name="_save"' not in content
    assert key.secret_hash not in content
    assert raw not in content
    assert key.prefix in content
    assert changed.status_code == 403
    assert staff.post(f"{LIST}add/", {"name": "x"}).status_code == 403
    assert staff.post(f"{LIST}{key.pk}/delete/", {"post": "yes"}).status_code == 403
    key.refresh_from_db()
    assert (key.name, key.revoked_at) == ("laptop", None)
    assert ApiKey.objects.count() == 1


def test_api_keys_sit_in_the_accounts_section_after_sessions(staff: Client) -> None:
    section, _files, _feature_flags = staff.get("/admin/").context["app_list"]

    names = [model["name"] for model in section["models"]]
    assert section["name"] == "Accounts"
    assert names[names.index("Sessions") + 1] == "API keys"
    assert staff.get("/admin/apikeys/").context["app_list"] == [section]


# --- revoke ------------------------------------------------------------------------------


def revoke(client: Client, *keys: ApiKey):
    return client.post(
        LIST,
        {"action": "revoke_keys", "_selected_action": [str(key.pk) for key in keys]},
        follow=True,
    )


def test_revoking_from_the_list_goes_through_the_service(
    superadmin: tuple[Client, User],
) -> None:
    client, staff = superadmin
    ada = account(username="ada", email="ada@example.com")
    laptop, raw = make_key(ada)
    ci, _ = make_key(None, "ci")
    mail.outbox.clear()
    assert works(raw)

    response = revoke(client, laptop, ci)

    for key in (laptop, ci):
        key.refresh_from_db()
        assert key.revoked_at is not None
        assert key.revoked_by == staff
    assert not works(raw)  # from the next request on
    events = AuditEvent.objects.filter(kind=AuditKind.API_KEY_REVOKED)
    assert {(event.actor, event.target) for event in events} == {
        (staff, ada),
        (staff, None),
    }
    assert [message.to for message in mail.outbox] == [["ada@example.com"]]
    page = response.content.decode()
    assert f"Revoked: gth_{ci.prefix}_…, gth_{laptop.prefix}_…." in page or (
        f"Revoked: gth_{laptop.prefix}_…, gth_{ci.prefix}_…." in page
    )


def works(raw: str) -> bool:
    return APIClient().get("/api/v1/users/me/", HTTP_X_API_KEY=raw).status_code == 200


def test_a_revoked_key_is_not_revoked_again(staff: Client) -> None:
    key, _ = make_key(account(), revoked_at=WHEN)

    page = revoke(staff, key).content.decode()

    key.refresh_from_db()
    assert key.revoked_at == WHEN
    assert not AuditEvent.objects.filter(kind=AuditKind.API_KEY_REVOKED).exists()
    assert "No key was revoked." in page


def test_a_moderator_revokes_only_the_keys_accounts_access_allows() -> None:
    """Moderators revoke keys of users and testers (``revoke_api_key``), not an admin's
    nor a global key (``create_global_api_key``): those are named and left alone."""
    client = admin_client_for(account("moderator"))
    users_key, _ = make_key(account(username="ada"))
    admins_key, _ = make_key(account("admin", username="root2"))
    global_key, _ = make_key(None, "ci")

    page = revoke(client, users_key, admins_key, global_key).content.decode()

    assert ApiKey.objects.get(pk=users_key.pk).revoked_at is not None
    assert ApiKey.objects.get(pk=admins_key.pk).revoked_at is None
    assert ApiKey.objects.get(pk=global_key.pk).revoked_at is None
    assert f"Revoked: gth_{users_key.prefix}_…." in page
    assert "Not allowed to revoke:" in page
    assert f"gth_{admins_key.prefix}_…" in page
    assert f"gth_{global_key.prefix}_…" in page


def test_the_revoke_action_is_offered_to_staff_who_may_revoke() -> None:
    """Staff by the ``is_staff`` flag alone see the keys (``acts_as_staff``) but take no
    action on them; moderators revoke."""
    moderator = admin_client_for(account("moderator"))
    flagged = account(is_staff=True)
    TOTPAuthenticator.objects.create(
        user=flagged,
        name="app",
        confirmed=True,
        encrypted_key=encrypt_secret(b"2" * 20),
    )
    flagged_client = admin_client_for(flagged)
    key, _ = make_key(account())

    assert "revoke_keys" in moderator.get(LIST).content.decode()
    listing = flagged_client.get(LIST)
    assert listing.status_code == 200
    assert key.prefix in listing.content.decode()
    assert "revoke_keys" not in listing.content.decode()
    revoke(flagged_client, key)
    assert ApiKey.objects.get(pk=key.pk).revoked_at is None


# --- create a global key -----------------------------------------------------------------


def test_staff_create_a_global_key_and_see_it_once(
    superadmin: tuple[Client, User],
) -> None:
    client, staff = superadmin
    assert 'id="create-global-key"' in client.get(LIST).content.decode()
    form = client.get(CREATE_GLOBAL)
    assert form.status_code == 200
    for scope in Scope:
        assert f'value="{scope}"' in form.content.decode()

    response = client.post(
        CREATE_GLOBAL,
        {"name": "ci", "scopes": ["users:read", "tokens:introspect"], "expires_at": ""},
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "will not be shown again" in page.replace("\n", " ")
    key = ApiKey.objects.get()
    [raw] = [
        word for word in page.split('"') if word.startswith("gth_") and "…" not in word
    ]
    parsed = parse_key(raw)
    assert parsed is not None
    assert parsed.prefix == key.prefix
    assert secret_matches(parsed.secret, key.secret_hash)
    assert key.user is None
    assert key.created_by == staff
    assert key.scopes == ["users:read", "tokens:introspect"]
    assert key.expires_at is None
    assert "no-store" in response["Cache-Control"]
    event = AuditEvent.objects.get(kind=AuditKind.API_KEY_CREATED)
    assert (event.actor, event.target) == (staff, None)
    # Never again: not in the list, not on the key's page, not in the log of changes.
    for url in (LIST, f"{LIST}{key.pk}/change/", "/admin/"):
        assert parsed.secret not in client.get(url).content.decode()


def test_a_global_keys_expiry_is_read_in_the_staff_members_zone(
    superadmin: tuple[Client, User],
) -> None:
    client, staff = superadmin
    staff.timezone = "Europe/Paris"
    staff.save()
    year = timezone.now().year + 1

    client.post(
        CREATE_GLOBAL,
        {"name": "ci", "scopes": ["users:read"], "expires_at": f"{year}-01-01T12:00"},
    )

    assert ApiKey.objects.get().expires_at == datetime(
        year, 1, 1, 12, 0, tzinfo=ZoneInfo("Europe/Paris")
    )


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"name": "ci", "scopes": []}, "This field is required."),
        ({"name": "", "scopes": ["users:read"]}, "This field is required."),
        ({"name": "ci", "scopes": ["root"]}, "Select a valid choice."),
        (
            {"name": "ci", "scopes": ["users:read"], "expires_at": "2020-01-01T00:00"},
            "Choose a moment in the future.",
        ),
    ],
)
def test_the_form_refuses_what_the_service_would(
    staff: Client, data: dict, error: str
) -> None:
    response = staff.post(CREATE_GLOBAL, data)

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not ApiKey.objects.exists()


def test_only_staff_who_may_create_global_keys_are_offered_the_page() -> None:
    """Admins and up (``create_global_api_key``); a moderator neither sees the link nor
    gets the page."""
    moderator = admin_client_for(account("moderator"))
    admin = admin_client_for(account("admin"))

    assert 'id="create-global-key"' not in moderator.get(LIST).content.decode()
    assert moderator.get(CREATE_GLOBAL).status_code == 403
    assert (
        moderator.post(
            CREATE_GLOBAL, {"name": "ci", "scopes": ["users:read"]}
        ).status_code
        == 403
    )
    assert 'id="create-global-key"' in admin.get(LIST).content.decode()
    assert (
        admin.post(CREATE_GLOBAL, {"name": "ci", "scopes": ["users:read"]}).status_code
        == 200
    )
    assert ApiKey.objects.get().name == "ci"


def test_an_expired_key_says_so_in_the_list(staff: Client) -> None:
    ended = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    make_key(account(), expires_at=ended)

    page = staff.get(LIST).content.decode()

    assert '<td class="field-expires">expired 2026-11-30 08:00 UTC</td>' in page
