"""``/api/v1/api-keys/`` and requests authenticated by a key, over HTTP: create, list,
revoke; both headers; scopes refused and allowed; expiry; global keys; keys of banned,
deactivated and deleted users; the secret never shown again nor logged."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.access import SYSTEM_ACTOR
from accounts.constants import AuditKind
from accounts.models import AuditEvent, Ban, User
from apikeys.keys import parse_key
from apikeys.models import ApiKey
from apikeys.services import api_key_create
from config.client import SYSTEM
from tests.factories import DEFAULT_PASSWORD
from tests.helpers import account, client_for

pytestmark = pytest.mark.django_db

KEYS = "/api/v1/api-keys/"
ME = "/api/v1/users/me/"


def key_client(key: str, *, header: str = "authorization") -> APIClient:
    client = APIClient()
    if header == "authorization":
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    else:
        client.credentials(HTTP_X_API_KEY=key)
    return client


def create(client: APIClient, **body: object) -> dict:
    response = client.post(KEYS, {"name": "script", **body}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_create_list_and_revoke_and_the_secret_is_shown_once(caplog) -> None:
    caplog.set_level(logging.DEBUG)
    owner = account()
    client = client_for(owner)

    created = create(client, scopes=["users:read"])
    key = created["key"]
    listed = client.get(KEYS).json()

    assert parse_key(key) is not None
    assert created["prefix"] in key
    assert created["scopes"] == ["users:read"]
    assert (created["global"], created["revoked"]) == (False, False)
    assert listed["count"] == 1
    [item] = listed["results"]
    assert "key" not in item
    assert item == {name: value for name, value in created.items() if name != "key"}
    secret = parse_key(key).secret
    assert secret not in str(listed)
    assert key not in caplog.text
    assert secret not in caplog.text
    assert secret not in str(list(AuditEvent.objects.values("payload")))
    assert all(secret not in message.body for message in mail.outbox)

    response = client.delete(f"{KEYS}{created['id']}/")
    assert response.status_code == 204
    assert client.get(KEYS).json()["results"][0]["revoked"] is True
    assert key_client(key).get(ME).status_code == 401


def test_a_key_acts_as_its_owner_with_either_header() -> None:
    owner = account()
    key = create(client_for(owner))["key"]

    for header in ("authorization", "x-api-key"):
        response = key_client(key, header=header).get(ME)
        assert response.status_code == 200, response.content
        assert response.json()["id"] == str(owner.pk)


def test_the_scheme_name_is_case_insensitive() -> None:
    owner = account()
    key = create(client_for(owner))["key"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"api-key {key}")
    assert client.get(ME).status_code == 200


def test_a_bearer_token_wins_over_a_key() -> None:
    owner, other = account(), account()
    key = create(client_for(other))["key"]
    client = client_for(owner)
    client.credentials(
        HTTP_AUTHORIZATION=client._credentials["HTTP_AUTHORIZATION"], HTTP_X_API_KEY=key
    )

    assert client.get(ME).json()["id"] == str(owner.pk)


def test_scopes_allow_and_refuse() -> None:
    owner = account()
    read_only = create(client_for(owner), scopes=["users:read"])["key"]
    writer = create(client_for(owner), scopes=["users:read", "users:write"])["key"]

    assert key_client(read_only).get(ME).status_code == 200
    refused = key_client(read_only).patch(ME, {"bio": "by key"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "insufficient_scope"
    assert User.objects.get(pk=owner.pk).bio != "by key"

    allowed = key_client(writer).patch(ME, {"bio": "by key"}, format="json")
    assert allowed.status_code == 200, allowed.content
    assert User.objects.get(pk=owner.pk).bio == "by key"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/v1/auth/password/change/", {"old_password": DEFAULT_PASSWORD}),
        ("delete", ME, {"password": DEFAULT_PASSWORD}),
        ("post", "/api/v1/users/me/email/", {"email": "new@example.com"}),
        ("get", "/api/v1/auth/sessions/", None),
        ("post", "/api/v1/auth/logout/all/", None),
        ("get", "/api/v1/auth/mfa/", None),
        ("post", "/api/v1/auth/mfa/totp/setup/", None),
        ("get", KEYS, None),
        ("post", KEYS, {"name": "another"}),
    ],
)
def test_a_key_cannot_touch_credentials_or_keys(
    method: str, path: str, body: dict | None
) -> None:
    """A stolen key must not take the account over: every scope, still refused."""
    owner = account()
    key = create(client_for(owner))["key"]

    response = getattr(key_client(key), method)(path, body, format="json")

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "insufficient_scope"
    assert ApiKey.objects.count() == 1
    assert User.objects.get(pk=owner.pk).is_active


def test_a_key_cannot_revoke_keys() -> None:
    owner = account()
    first = create(client_for(owner))
    second = create(client_for(owner))

    response = key_client(first["key"]).delete(f"{KEYS}{second['id']}/")

    assert response.status_code == 403
    assert not ApiKey.objects.filter(revoked_at__isnull=False).exists()


def test_an_expired_key_stops_working() -> None:
    owner = account()
    with time_machine.travel("2026-11-21T10:00:00Z", tick=False):
        key = create(client_for(owner), expires_at="2026-11-21T11:00:00Z")["key"]
        assert key_client(key).get(ME).status_code == 200
    with time_machine.travel("2026-11-21T10:59:59Z", tick=False):
        assert key_client(key).get(ME).status_code == 200
    with time_machine.travel("2026-11-21T11:00:00Z", tick=False):
        response = key_client(key).get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_an_expiry_in_the_past_is_refused() -> None:
    response = client_for(account()).post(
        KEYS,
        {"name": "x", "expires_at": (timezone.now() - timedelta(days=1)).isoformat()},
        format="json",
    )
    assert response.status_code == 400
    assert "expires_at" in response.json()["errors"]


def test_a_banned_users_key_stops_at_once_and_works_again_after_the_ban() -> None:
    owner, moderator = account(), account("moderator")
    key = create(client_for(owner))["key"]
    assert key_client(key).get(ME).status_code == 200  # warm: cached

    staff = client_for(moderator)
    banned = staff.post(
        f"/api/v1/users/{owner.pk}/ban/", {"reason": "spam"}, format="json"
    )
    assert banned.status_code == 200, banned.content
    assert key_client(key).get(ME).status_code == 401

    assert staff.delete(f"/api/v1/users/{owner.pk}/ban/").status_code == 204
    assert key_client(key).get(ME).status_code == 200


def test_a_deactivated_users_key_stops_at_once() -> None:
    owner, moderator = account(), account("moderator")
    key = create(client_for(owner))["key"]
    assert key_client(key).get(ME).status_code == 200

    deactivated = client_for(moderator).patch(
        f"/api/v1/users/{owner.pk}/", {"is_active": False}, format="json"
    )
    assert deactivated.status_code == 200, deactivated.content

    assert key_client(key).get(ME).status_code == 401


def test_a_deleted_users_key_stops_at_once() -> None:
    owner = account()
    client = client_for(owner)
    key = create(client)["key"]
    assert key_client(key).get(ME).status_code == 200

    response = client.delete(ME, {"password": DEFAULT_PASSWORD}, format="json")
    assert response.status_code == 204, response.content

    assert key_client(key).get(ME).status_code == 401
    assert not ApiKey.objects.exists()


def test_a_revoked_key_stops_at_once_even_when_warm() -> None:
    owner = account()
    client = client_for(owner)
    created = create(client)
    assert key_client(created["key"]).get(ME).status_code == 200

    client.delete(f"{KEYS}{created['id']}/")

    assert key_client(created["key"]).get(ME).status_code == 401


@pytest.mark.parametrize(
    "raw",
    ["nonsense", "gth_" + "a" * 49, "Bearer-ish"],
)
def test_malformed_keys_are_401(raw: str) -> None:
    response = key_client(raw).get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_wrong_secret_for_a_real_prefix_is_audited(settings) -> None:
    owner = account()
    created = create(client_for(owner))
    parsed = parse_key(created["key"])
    from apikeys.keys import checksum

    body = f"gth_{parsed.prefix}_{'Z' * 32}"
    forged = body + checksum(body)

    response = key_client(forged).get(ME)

    assert response.status_code == 401
    event = AuditEvent.objects.get(kind=AuditKind.API_KEY_REJECTED)
    assert event.target == owner
    assert event.payload == {"key_id": created["id"], "prefix": parsed.prefix}


def test_rejections_are_audited_at_most_so_often(settings) -> None:
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "api_key_rejections_audited_per_key": "2/h",
    }
    owner = account()
    parsed = parse_key(create(client_for(owner))["key"])
    from apikeys.keys import checksum

    for letter in "WXYZ":
        body = f"gth_{parsed.prefix}_{letter * 32}"
        key_client(body + checksum(body)).get(ME)

    assert AuditEvent.objects.filter(kind=AuditKind.API_KEY_REJECTED).count() == 2


def test_failed_lookups_are_limited_per_address(settings) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "api_key_failures_per_ip": "3/m"}
    owner = account()
    key = create(client_for(owner))["key"]

    statuses = [key_client("gth_nonsense").get(ME).status_code for _ in range(4)]
    locked = key_client("gth_nonsense").get(ME)

    assert statuses == [401, 401, 401, 429]
    assert locked.status_code == 429
    assert locked.json()["code"] == "rate_limited"
    assert "Retry-After" in locked
    # a warm, valid key is not slowed down by the check; a cold one is refused
    assert key_client(key).get(ME).status_code == 429


def test_last_use_is_written_at_most_once_a_minute() -> None:
    owner = account()
    created = create(client_for(owner))
    with time_machine.travel("2026-11-21T10:00:00Z", tick=False):
        key_client(created["key"]).get(ME, REMOTE_ADDR="203.0.113.5")
    first = ApiKey.objects.get(pk=created["id"])
    with time_machine.travel("2026-11-21T10:00:30Z", tick=False):
        key_client(created["key"]).get(ME, REMOTE_ADDR="203.0.113.6")

    assert ApiKey.objects.get(pk=created["id"]).last_used_at == first.last_used_at
    assert first.last_used_ip == "203.0.113.5"
    listed = client_for(owner).get(KEYS).json()["results"][0]
    assert listed["last_used_ip"] == "203.0.113.5"
    assert listed["last_used_at"] == "2026-11-21T10:00:00Z"


def test_default_scopes_and_scope_validation_over_http() -> None:
    client = client_for(account())
    created = create(client)
    assert created["scopes"] == [
        "users:read",
        "users:write",
        "files:read",
        "files:write",
        "flags:read",
        "flags:write",
    ]
    for scopes in (["admin"], ["tokens:introspect"], ["nope"]):
        response = client.post(KEYS, {"name": "x", "scopes": scopes}, format="json")
        assert response.status_code == 400, response.content
        assert "scopes" in response.json()["errors"]


def test_global_keys_are_for_admins_and_go_only_where_a_view_takes_them() -> None:
    admin, user = account("admin"), account()
    refused = client_for(user).post(
        KEYS, {"name": "svc", "global": True, "scopes": ["users:read"]}, format="json"
    )
    assert refused.status_code == 403

    created = create(
        client_for(admin), **{"global": True, "scopes": ["tokens:introspect"]}
    )
    assert created["global"] is True
    assert ApiKey.objects.get(pk=created["id"]).user is None
    assert client_for(admin).get(KEYS).json()["count"] == 0  # not the admin's own

    response = key_client(created["key"]).get(ME)
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"

    assert client_for(admin).delete(f"{KEYS}{created['id']}/").status_code == 204


def test_a_global_key_where_a_view_takes_one() -> None:
    from rest_framework.response import Response
    from rest_framework.test import APIRequestFactory
    from rest_framework.views import APIView

    from apikeys.authentication import ApiKeyClaims, ServicePrincipal

    class IntrospectLike(APIView):
        accepts_global_api_keys = True
        required_scopes = {"POST": "tokens:introspect"}

        def post(self, request):
            assert isinstance(request.user, ServicePrincipal)
            assert isinstance(request.auth, ApiKeyClaims)
            return Response(
                {"global": request.auth.is_global, "who": str(request.user)}
            )

    _, key = api_key_create(
        actor=SYSTEM_ACTOR,
        owner_id=None,
        name="svc",
        scopes=["tokens:introspect"],
        expires_at=None,
        client=SYSTEM,
    )
    _, weak = api_key_create(
        actor=SYSTEM_ACTOR,
        owner_id=None,
        name="svc",
        scopes=["users:read"],
        expires_at=None,
        client=SYSTEM,
    )
    factory = APIRequestFactory()

    ok = IntrospectLike.as_view()(factory.post("/", HTTP_X_API_KEY=key))
    lacking = IntrospectLike.as_view()(factory.post("/", HTTP_X_API_KEY=weak))

    assert ok.status_code == 200
    assert ok.data == {"global": True, "who": "global API key"}
    assert lacking.status_code == 403


@pytest.mark.parametrize("mfa_required_for_staff", [True, False])
def test_staff_powers_need_the_admin_scope(settings, mfa_required_for_staff) -> None:
    """A key is no sign-in with a second factor: a staff owner's key acts as a plain
    user unless it has the ``admin`` scope, whether or not staff need a second factor."""
    settings.MFA_REQUIRED_FOR_STAFF = mfa_required_for_staff
    admin = account("admin")
    target = account()
    plain = create(client_for(admin), scopes=["users:read", "users:write"])["key"]
    powered = create(client_for(admin), scopes=["users:read", "users:write", "admin"])[
        "key"
    ]

    # What staff see of an account (its email) is for the admin-scoped key alone.
    profile = f"/api/v1/users/{target.pk}/"
    assert "email" not in key_client(plain).get(profile).json()
    assert key_client(powered).get(profile).json()["email"] == target.email

    assert key_client(plain).get("/api/v1/users/").status_code == 403
    listed = key_client(powered).get("/api/v1/users/")
    assert listed.status_code == 200, listed.content

    ban = {"reason": "spam"}
    refused = key_client(plain).post(
        f"/api/v1/users/{target.pk}/ban/", ban, format="json"
    )
    assert refused.status_code == 403
    assert not Ban.objects.exists()
    banned = key_client(powered).post(
        f"/api/v1/users/{target.pk}/ban/", ban, format="json"
    )
    assert banned.status_code == 200, banned.content


def test_staff_revoke_a_users_key_and_users_cannot_see_others() -> None:
    owner, stranger, moderator = account(), account(), account("moderator")
    created = create(client_for(owner))

    assert client_for(stranger).delete(f"{KEYS}{created['id']}/").status_code == 404
    assert client_for(moderator).delete(f"{KEYS}{created['id']}/").status_code == 204
    assert key_client(created["key"]).get(ME).status_code == 401
    assert AuditEvent.objects.get(kind=AuditKind.API_KEY_REVOKED).actor == moderator


def test_creation_and_revocation_email_the_owner() -> None:
    owner = account()
    client = client_for(owner)
    mail.outbox.clear()
    created = create(client)
    client.delete(f"{KEYS}{created['id']}/")

    subjects = [message.subject for message in mail.outbox]
    assert any("created" in subject for subject in subjects), subjects
    assert any("revoked" in subject for subject in subjects), subjects
    assert all(message.to == [owner.email] for message in mail.outbox)


def test_requires_scope_permission_for_views_that_check_one_more_scope() -> None:
    from rest_framework.permissions import IsAuthenticated
    from rest_framework.response import Response
    from rest_framework.test import APIRequestFactory
    from rest_framework.views import APIView

    from apikeys.authentication import RequiresScope

    class Upload(APIView):
        required_scopes = {"POST": "users:read"}
        permission_classes = [IsAuthenticated, RequiresScope("files:write")]

        def post(self, request):
            return Response({"ok": True})

    owner = account()
    _, reader = api_key_create(
        actor=owner,
        owner_id=owner.pk,
        name="r",
        scopes=["users:read"],
        expires_at=None,
        client=SYSTEM,
    )
    _, writer = api_key_create(
        actor=owner,
        owner_id=owner.pk,
        name="w",
        scopes=["users:read", "files:write"],
        expires_at=None,
        client=SYSTEM,
    )
    factory = APIRequestFactory()

    refused = Upload.as_view()(factory.post("/", HTTP_X_API_KEY=reader))
    allowed = Upload.as_view()(factory.post("/", HTTP_X_API_KEY=writer))
    by_token = Upload.as_view()(
        factory.post(
            "/",
            HTTP_AUTHORIZATION=client_for(owner)._credentials["HTTP_AUTHORIZATION"],
        )
    )

    assert refused.status_code == 403
    assert refused.data["code"] == "insufficient_scope"
    assert allowed.status_code == 200
    assert by_token.status_code == 200
