"""Staff find and edit users in the Django admin."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from accounts.constants import AuditKind
from accounts.models import AuditEvent, AuthSession, User
from tests.factories import UserFactory
from tests.helpers import (
    account,
    admin_client_for,
    amr_of,
    bearer,
    otp_verified_staff_client,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_logged_in(db: None) -> Client:
    return otp_verified_staff_client()[0]


def test_user_list_shows_readable_columns_and_searches(
    admin_client_logged_in: Client,
) -> None:
    UserFactory(
        username="grace", email="grace@example.com", display_name="Grace Hopper"
    )
    UserFactory(username="linus", email="linus@example.com")

    response = admin_client_logged_in.get("/admin/accounts/user/", {"q": "hopper"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "grace@example.com" in page
    assert "linus@example.com" not in page
    for column in ("Username", "Email address", "Display name", "Active", "Last login"):
        assert column in page


@pytest.mark.parametrize(
    "query", ["is_active__exact=0", "is_staff__exact=1", "language=en"]
)
def test_user_list_filters(admin_client_logged_in: Client, query: str) -> None:
    UserFactory(is_active=False)

    response = admin_client_logged_in.get(f"/admin/accounts/user/?{query}")

    assert response.status_code == 200


def test_staff_add_a_user_from_the_admin(admin_client_logged_in: Client) -> None:
    response = admin_client_logged_in.post(
        "/admin/accounts/user/add/",
        {
            "username": "heidi",
            "email": "Heidi@Example.com",
            "usable_password": "true",
            "password1": "a long enough password here",
            "password2": "a long enough password here",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    heidi = User.objects.get(username="heidi")
    assert heidi.email == "heidi@example.com"
    assert heidi.display_name == "heidi"
    assert heidi.check_password("a long enough password here")


def test_the_user_page_refuses_an_invalid_timezone(
    admin_client_logged_in: Client,
) -> None:
    user = UserFactory()

    response = admin_client_logged_in.post(
        f"/admin/accounts/user/{user.pk}/change/",
        {
            "username": user.username,
            "email": user.email,
            "display_name": user.display_name,
            "timezone": "Nowhere/Special",
            "language": "en",
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )

    assert response.status_code == 200  # the form is shown again with the error
    assert "is not a time zone name" in response.content.decode()
    user.refresh_from_db()
    assert user.timezone == "UTC"


def test_the_admin_is_closed_to_non_staff(client: Client) -> None:
    client.force_login(UserFactory())

    response = client.get("/admin/accounts/user/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_staff_revoke_a_session_from_the_admin_and_its_token_dies(
    admin_client_logged_in: Client, user: User, login
) -> None:
    from accounts.models import AuthSession

    tokens = login(user)
    assert bearer(tokens["access"]).get("/api/v1/users/me/").status_code == 200
    session = AuthSession.objects.get(user=user)

    response = admin_client_logged_in.post(
        "/admin/accounts/authsession/",
        {"action": "revoke_sessions", "_selected_action": [str(session.pk)]},
    )

    assert response.status_code == 302
    assert bearer(tokens["access"]).get("/api/v1/users/me/").status_code == 401
    assert user.audit_events.filter(kind="session.revoked").exists()


def test_audit_events_are_listed_and_read_only(
    admin_client_logged_in: Client, user: User
) -> None:
    from accounts.constants import AuditKind
    from accounts.models import AuditEvent

    event = AuditEvent.objects.create(
        kind=AuditKind.LOGIN_FAILED, target=user, ip="192.0.2.1"
    )

    listing = admin_client_logged_in.get(
        "/admin/accounts/auditevent/", {"q": user.username}
    )
    assert listing.status_code == 200
    assert "Failed sign-in attempt" in listing.content.decode()
    assert (
        admin_client_logged_in.get("/admin/accounts/auditevent/add/").status_code == 403
    )
    page = admin_client_logged_in.get(f"/admin/accounts/auditevent/{event.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    deleted = admin_client_logged_in.post(
        f"/admin/accounts/auditevent/{event.pk}/delete/", {"post": "yes"}
    )
    assert deleted.status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_ban_reason_page_leads_back_to_the_list_it_came_from(user: User) -> None:
    """Its Cancel kept neither the search nor the filters (href="."), and its breadcrumbs
    skipped the section and the list."""
    client = otp_verified_staff_client()[0]

    form = client.post(
        f"/admin/accounts/user/?q={user.username}&is_active__exact=1",
        {"action": "ban_for_a_day", "_selected_action": [str(user.pk)]},
    ).content.decode()

    cancel = f'href="/admin/accounts/user/?q={user.username}&amp;is_active__exact=1"'
    assert cancel in form
    assert '<a href="/admin/accounts/user/">Users</a>' in form


def test_ban_for_a_day_from_the_list_asks_a_reason_and_kills_tokens(
    user: User, login
) -> None:
    from django.core import mail

    from accounts.models import Ban

    client = otp_verified_staff_client()[0]
    session = login(user)

    form = client.post(
        "/admin/accounts/user/",
        {"action": "ban_for_a_day", "_selected_action": [str(user.pk)]},
    )
    assert form.status_code == 200
    assert 'name="reason"' in form.content.decode()
    assert not Ban.objects.exists()

    done = client.post(
        "/admin/accounts/user/",
        {
            "action": "ban_for_a_day",
            "_selected_action": [str(user.pk)],
            "reason": "spam",
        },
    )

    assert done.status_code == 302
    ban = Ban.objects.get(user=user)
    assert ban.reason == "spam"
    assert ban.until is not None
    assert bearer(session["access"]).get("/api/v1/users/me/").status_code == 401
    assert mail.outbox[-1].to == [user.email]
    listing = client.get("/admin/accounts/user/", {"banned": "yes"}).content.decode()
    assert user.username in listing
    assert "until" in listing
    page = client.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()
    assert "spam" in page  # the ban history inline

    client.post(
        "/admin/accounts/user/", {"action": "unban", "_selected_action": [str(user.pk)]}
    )
    assert Ban.objects.in_force().count() == 0


def test_lifting_a_ban_from_the_list_says_whose_was_lifted(user: User) -> None:
    """Issue 13 (found by the first staff member's browser journey): the action used to
    lift the ban and come back to the list without a word, as if nothing had happened;
    an account that was not banned is named with the reason."""
    from accounts.models import Ban

    client, staff = otp_verified_staff_client()
    Ban.objects.create(user=user, created_by=staff, reason="spam")
    not_banned = UserFactory(username="never_banned")

    def unban(*accounts: User) -> list[str]:
        """The messages the list shows once the action sent the staff member back."""
        response = client.post(
            "/admin/accounts/user/",
            {"action": "unban", "_selected_action": [str(a.pk) for a in accounts]},
            follow=True,
        )
        assert response.redirect_chain == [("/admin/accounts/user/", 302)]
        return sorted(str(message) for message in response.context["messages"])

    assert unban(user, not_banned) == [
        f"Ban lifted: {user.username}.",
        "never_banned: This account is not banned.",
    ]
    assert not Ban.objects.in_force().exists()
    # Nothing lifted: no word of success.
    assert unban(not_banned) == ["never_banned: This account is not banned."]


@pytest.mark.parametrize(
    "query", ["verified=yes", "mfa=no", "banned=no", "groups__id__exact=1"]
)
def test_the_new_filters(admin_client_logged_in: Client, query: str) -> None:
    UserFactory()

    assert (
        admin_client_logged_in.get(f"/admin/accounts/user/?{query}").status_code == 200
    )


def test_revoke_all_sessions_and_resend_verification_actions(login) -> None:
    from allauth.account.models import EmailAddress
    from django.core import mail

    client = otp_verified_staff_client()[0]
    account = UserFactory()
    EmailAddress.objects.create(
        user=account, email=account.email, primary=True, verified=False
    )
    session = login(account)

    client.post(
        "/admin/accounts/user/",
        {"action": "revoke_all_sessions", "_selected_action": [str(account.pk)]},
    )
    assert bearer(session["access"]).get("/api/v1/users/me/").status_code == 401

    mail.outbox.clear()
    client.post(
        "/admin/accounts/user/",
        {"action": "resend_verification", "_selected_action": [str(account.pk)]},
    )
    [message] = mail.outbox
    assert "verify-email" in message.body


# --- Staff edit only what their role allows (the API's rules) -------------------------


def change_form_data(client: Client, user: User, **changes: object) -> dict:
    """What the user's admin page would post back unchanged, with ``changes``."""
    page = client.get(f"/admin/accounts/user/{user.pk}/change/")
    assert page.status_code == 200
    data: dict = {}
    forms = [page.context["adminform"].form]
    for inline in page.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            key = form.add_prefix(name)
            if isinstance(value, list):
                data[key] = [getattr(item, "pk", item) for item in value]
            else:
                data[key] = "on" if value is True else value
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_an_admin_cannot_raise_anyones_rights_from_the_admin() -> None:
    admin, user = account("admin"), account("user")
    client = admin_client_for(admin)
    superadmin_group = Group.objects.get(name="superadmin")

    for target in (user, admin):  # someone they outrank, and themselves
        response = client.post(
            f"/admin/accounts/user/{target.pk}/change/",
            change_form_data(
                client,
                target,
                display_name="Renamed",
                is_superuser="on",
                is_staff="on",
                groups=[superadmin_group.pk],
            ),
        )

        assert response.status_code == 302
        target.refresh_from_db()
        assert target.display_name == "Renamed"  # the profile is theirs to edit
        assert not target.is_superuser
        assert superadmin_group not in target.groups.all()


def test_staff_cannot_change_or_delete_accounts_they_do_not_outrank() -> None:
    moderator, admin, superadmin = (
        account("moderator"),
        account("admin"),
        account("superadmin"),
    )
    client = admin_client_for(moderator)

    for target in (admin, superadmin):
        page = f"/admin/accounts/user/{target.pk}/change/"
        assert client.get(page).status_code == 200  # view only
        refused = client.post(page, {"username": target.username, "display_name": "x"})
        assert refused.status_code == 403
        target.refresh_from_db()
        assert target.display_name != "x"
    deleted = admin_client_for(superadmin).post(
        f"/admin/accounts/user/{moderator.pk}/delete/", {"post": "yes"}
    )
    assert deleted.status_code == 403  # "delete personal data" is the way
    assert User.objects.filter(pk=moderator.pk).exists()


def test_a_superadmin_changes_roles_from_the_admin_by_the_roles_rules() -> None:
    superadmin, user = account("superadmin"), account("user")
    client = admin_client_for(superadmin)
    groups = {group.name: group.pk for group in Group.objects.all()}

    client.post(
        f"/admin/accounts/user/{user.pk}/change/",
        change_form_data(client, user, groups=[groups["moderator"]]),
    )

    user.refresh_from_db()
    assert [group.name for group in user.groups.all()] == ["moderator"]
    assert user.is_staff  # follows the role
    assert AuditEvent.objects.filter(
        kind=AuditKind.ROLES_CHANGED, target=user, actor=superadmin
    ).exists()

    # the last superadmin keeps the role, and is told why
    response = client.post(
        f"/admin/accounts/user/{superadmin.pk}/change/",
        change_form_data(client, superadmin, groups=[groups["admin"]]),
        follow=True,
    )
    assert "Roles unchanged: This is the last superadmin" in response.content.decode()
    assert superadmin.groups.filter(name="superadmin").exists()


def test_admin_actions_skip_accounts_the_staff_member_does_not_outrank() -> None:
    from accounts.services.sessions import session_create
    from config.client import SYSTEM

    admin, superadmin, user = account("admin"), account("superadmin"), account()
    session_create(user=superadmin, client=SYSTEM, amr=amr_of(superadmin))
    client = admin_client_for(admin)
    selected = [str(superadmin.pk), str(user.pk)]

    for action in ("reset_mfa", "revoke_all_sessions"):
        response = client.post(
            "/admin/accounts/user/",
            {"action": action, "_selected_action": selected},
            follow=True,
        )
        assert "Not allowed to" in response.content.decode()
    client.post(
        "/admin/accounts/user/",
        {
            "action": "erase_personal_data",
            "_selected_action": selected,
            "confirmed": "yes",
        },
    )

    assert superadmin.totpauthenticator_set.exists()  # the superadmin's factor stays
    assert AuthSession.objects.filter(user=superadmin, revoked_at=None).exists()
    assert User.objects.get(pk=superadmin.pk).is_active
    assert not User.objects.get(pk=user.pk).is_active  # the user's data went


# --- At scale (issue 13): no page counts every account; filters and search use indexes ---


def test_the_user_list_never_counts_every_account(
    admin_client_logged_in: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from config.paginator import CappedCountPaginator

    monkeypatch.setattr(CappedCountPaginator, "count_cap", 2)
    for number in range(3):
        UserFactory(username=f"counted_{number}")

    with CaptureQueriesContext(connection) as queries:
        response = admin_client_logged_in.get("/admin/accounts/user/")

    assert response.status_code == 200
    counts = [
        q["sql"] for q in queries.captured_queries if "count(" in q["sql"].lower()
    ]
    assert counts
    assert all("LIMIT 3" in sql for sql in counts)  # the cap and one more
    assert "more than 2 users" in response.content.decode()


def test_a_page_past_the_cap_is_counted_to_its_end(
    admin_client_logged_in: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from config.paginator import CappedCountPaginator

    monkeypatch.setattr(CappedCountPaginator, "count_cap", 2)
    monkeypatch.setattr(admin_site_user_admin(), "list_per_page", 2)
    for number in range(4):
        UserFactory(username=f"paged_{number}")

    # 5 accounts (with the staff member's): page 2 ends at 4, past the cap of 2.
    response = admin_client_logged_in.get("/admin/accounts/user/", {"p": 2})

    assert response.status_code == 200
    assert response.context["cl"].result_count == 4
    assert "more than 4 users" in response.content.decode()


def admin_site_user_admin() -> object:
    from django.contrib import admin

    return admin.site._registry[User]


def test_the_admin_searches_as_the_api_does(admin_client_logged_in: Client) -> None:
    UserFactory(username="grace", email="grace@example.com", display_name="G. H.")
    UserFactory(username="ada", email="countess@example.com", display_name="Ada")

    def found(term: str) -> bool:
        page = admin_client_logged_in.get("/admin/accounts/user/", {"q": term})
        return "grace@example.com" in page.content.decode()

    assert found("gra")  # the start of the username
    assert found("GRACE@EX")  # of the email, in any case
    assert found("h.")  # any part of the display name
    # No longer a substring of the username or email: no index serves that.
    assert not found("race")


def test_a_searched_page_is_sorted_from_its_matches(
    admin_client_logged_in: Client,
) -> None:
    for name in ("sorted_c", "sorted_a", "sorted_b"):
        UserFactory(username=name)

    response = admin_client_logged_in.get(
        "/admin/accounts/user/", {"q": "sorted_", "o": "-1"}
    )

    names = [user.username for user in response.context["cl"].result_list]
    assert names == ["sorted_c", "sorted_b", "sorted_a"]


def test_the_mfa_filter_finds_accounts_with_a_confirmed_factor() -> None:
    client, staff = otp_verified_staff_client()  # has an authenticator app
    plain = UserFactory(username="plain")

    def listed(value: str) -> set[str]:
        response = client.get("/admin/accounts/user/", {"mfa": value})
        return {user.username for user in response.context["cl"].result_list}

    assert listed("yes") == {staff.username}
    assert listed("no") == {plain.username}


def test_the_language_filter_offers_the_configured_languages(
    admin_client_logged_in: Client,
) -> None:
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    code = settings.LANGUAGES[-1][0]
    UserFactory(username="speaker", language=code)

    with CaptureQueriesContext(connection) as queries:
        response = admin_client_logged_in.get(
            "/admin/accounts/user/", {"language": code}
        )

    assert "speaker" in {user.username for user in response.context["cl"].result_list}
    choices = [
        choice["display"]
        for spec in response.context["cl"].filter_specs
        if getattr(spec, "parameter_name", None) == "language"
        for choice in spec.choices(response.context["cl"])
    ]
    assert choices[1:] == [name for _code, name in settings.LANGUAGES]
    # Not the values in use, which only a scan of every account finds.
    assert not any("DISTINCT" in q["sql"] for q in queries.captured_queries)


def test_the_verified_filter_tells_verified_addresses_from_the_others() -> None:
    from allauth.account.models import EmailAddress

    client, staff = otp_verified_staff_client()
    verified, unverified = UserFactory(username="checked"), UserFactory(username="not")
    EmailAddress.objects.create(
        user=verified, email=verified.email, primary=True, verified=True
    )
    EmailAddress.objects.create(
        user=unverified, email=unverified.email, primary=True, verified=False
    )

    def listed(value: str) -> set[str]:
        response = client.get("/admin/accounts/user/", {"verified": value})
        return {user.username for user in response.context["cl"].result_list}

    yes, no = listed("yes"), listed("no")
    assert "checked" in yes
    assert "not" not in yes
    assert "not" in no
    assert "checked" not in no
    assert staff.username in yes | no
