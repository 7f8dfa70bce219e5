"""Every operation of the OpenAPI schema answers the shape the schema declares.

One case per operation (two where the answer has two shapes) calls it where it succeeds,
as a user or as a staff member signed in with a second factor, and checks the answer
against the schema's response for its status: the status and content type are declared,
and the body validates -- types, formats (timestamps in UTC with a ``Z``), required keys,
and no key the schema does not name (objects are closed for this check). A route added
without a case fails ``test_every_operation_has_a_case``.
"""

from __future__ import annotations

import re
import tempfile
from base64 import b32decode
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from functools import cached_property
from typing import Any
from urllib.parse import unquote, urlencode

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django_otp.oath import TOTP
from jsonschema import Draft7Validator, FormatChecker
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.test import APIClient

from accounts.models import User
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.files.avatar_images import png_bytes

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "violet lanterns drift over quiet harbours"


# --- The schema, as JSON Schema ---------------------------------------------------------


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def json_schema(node: Any, components: dict[str, Any]) -> Any:
    """An OpenAPI 3.0 schema as JSON Schema: ``$ref`` resolved, ``nullable`` as a null
    alternative, and every object with ``properties`` closed to other keys."""
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return json_schema(components[node["$ref"].rpartition("/")[2]], components)
    result = {key: value for key, value in node.items() if key != "nullable"}
    if "properties" in result:
        result["properties"] = {
            name: json_schema(property_schema, components)
            for name, property_schema in result["properties"].items()
        }
        result.setdefault("additionalProperties", False)
    for key in ("items", "additionalProperties", "not"):
        if isinstance(result.get(key), dict):
            result[key] = json_schema(result[key], components)
    for key in ("oneOf", "anyOf", "allOf"):
        if key in result:
            result[key] = [json_schema(member, components) for member in result[key]]
    if node.get("nullable"):
        return {"anyOf": [result, {"type": "null"}]}
    return result


# The contract's timestamps: UTC, a Z, microseconds when there are any (as DRF renders).
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?Z")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
FORMAT_PATTERNS = {
    "date-time": TIMESTAMP,
    "uuid": UUID,
    "email": re.compile(r"[^@\s]+@[^@\s]+"),
    "uri": re.compile(r"https?://\S+"),
}
FORMATS = FormatChecker(formats=())
for _name, _pattern in FORMAT_PATTERNS.items():
    # A format constrains strings only; the type keyword checks the rest.
    FORMATS.checks(_name)(
        lambda value, pattern=_pattern: (
            not isinstance(value, str) or bool(pattern.fullmatch(value))
        )
    )


def assert_declared(
    schema: dict[str, Any], method: str, path: str, response: Response
) -> None:
    responses = schema["paths"][path][method.lower()]["responses"]
    status = str(response.status_code)
    assert status in responses, (status, response.content[:500])
    declared = responses[status].get("content")
    if not declared:
        assert not response.content, response.content[:500]
        return
    media_type = response["Content-Type"].split(";")[0]
    assert media_type in declared, (media_type, list(declared))
    body_schema = json_schema(
        declared[media_type]["schema"], schema["components"]["schemas"]
    )
    errors = [
        f"{'/'.join(map(str, error.absolute_path)) or '(body)'}: {error.message}"
        for error in Draft7Validator(body_schema, format_checker=FORMATS).iter_errors(
            response.json()
        )
    ]
    assert not errors, errors


# --- The accounts a case acts with ------------------------------------------------------


def totp_code(secret: str) -> str:
    return TOTP(b32decode(secret + "=" * (-len(secret) % 8))).token()


class CommittingClient(APIClient):
    """Runs each request's on-commit callbacks (emails, cache invalidation) as production
    does once the request's transaction commits, so that the next request sees them."""

    def __init__(self, capture_on_commit: Callable, access: str | None = None) -> None:
        super().__init__()
        self.capture_on_commit = capture_on_commit
        if access:
            self.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")

    def request(self, *args: Any, **kwargs: Any) -> Response:
        with self.capture_on_commit(execute=True):
            return super().request(*args, **kwargs)


class World:
    """A plain user, another one, and a superadmin who turned an authenticator app on
    and signed in with it, all through the API; each made when a case first asks."""

    def __init__(self, capture_on_commit: Callable) -> None:
        self.capture_on_commit = capture_on_commit
        self.anonymous = CommittingClient(capture_on_commit)
        self.media_root = tempfile.mkdtemp(prefix="gatehouse-shapes-")

    def bearer(self, access: str) -> APIClient:
        return CommittingClient(self.capture_on_commit, access)

    def post(self, path: str, body: dict[str, Any], client: APIClient | None = None):
        response = (client or self.anonymous).post(path, body, format="json")
        assert response.status_code < 300, response.content
        return response.json() if response.content else None

    def emailed(self, call: Callable[[], Any]) -> mail.EmailMessage:
        """The one email ``call`` sends."""
        mail.outbox.clear()
        call()
        [message] = mail.outbox
        return message

    def account(self, **fields: Any) -> User:
        account = UserFactory(**fields)
        EmailAddress.objects.create(
            user=account, email=account.email, primary=True, verified=True
        )
        return account

    def log_in(self, user: User, password: str = DEFAULT_PASSWORD) -> dict[str, Any]:
        body = {"login": user.username, "password": password}
        return self.post("/api/v1/auth/login/", body)

    @cached_property
    def user(self) -> User:
        return self.account()

    @cached_property
    def user_tokens(self) -> dict[str, Any]:
        return self.log_in(self.user)

    @cached_property
    def user_api(self) -> APIClient:
        return self.bearer(self.user_tokens["access"])

    @cached_property
    def other(self) -> User:
        return self.account()

    @cached_property
    def staff(self) -> User:
        return User.objects.create_superuser(
            "staff", "staff@example.com", DEFAULT_PASSWORD
        )

    @cached_property
    def staff_recovery_codes(self) -> list[str]:
        """The staff member turns the authenticator app on (its codes come back)."""
        signed_in = self.bearer(self.log_in(self.staff)["access"])
        secret = self.post("/api/v1/auth/mfa/totp/setup/", {}, signed_in)["secret"]
        confirm = {"code": totp_code(secret)}
        return self.post("/api/v1/auth/mfa/totp/confirm/", confirm, signed_in)[
            "recovery_codes"
        ]

    def staff_challenge(self) -> str:
        self.staff_recovery_codes  # noqa: B018 (the second factor, first)
        challenge = self.log_in(self.staff)
        assert challenge["mfa_required"], challenge
        return challenge["mfa_token"]

    @cached_property
    def staff_api(self) -> APIClient:
        second_step = {
            "mfa_token": self.staff_challenge(),
            "code": self.staff_recovery_codes.pop(),
            "method": "recovery_code",
        }
        return self.bearer(self.post("/api/v1/auth/login/mfa/", second_step)["access"])


@pytest.fixture
def world(django_capture_on_commit_callbacks: Callable) -> World:
    return World(django_capture_on_commit_callbacks)


# --- One case per operation -------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # as the schema names it
    status: int
    call: Callable[[World], Response]
    shape: str = ""  # which answer, when an operation has two

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}" + (f" ({self.shape})" if self.shape else "")


CASES: list[Case] = []


def case(
    method: str, path: str, status: int, shape: str = ""
) -> Callable[[Callable[[World], Response]], Callable[[World], Response]]:
    def register(call: Callable[[World], Response]) -> Callable[[World], Response]:
        CASES.append(Case(method, path, status, call, shape))
        return call

    return register


@case("POST", "/api/v1/auth/register/", 201)
def _register(world: World) -> Response:
    body = {"username": "grace", "email": "grace@example.com", "password": NEW_PASSWORD}
    return world.anonymous.post("/api/v1/auth/register/", body, format="json")


@case("POST", "/api/v1/auth/email/verify/", 200)
def _email_verify(world: World) -> Response:
    message = world.emailed(lambda: _register(world))
    key = unquote(re.search(r"/verify-email\?key=([^\s\"<&]+)", message.body)[1])
    return world.anonymous.post(
        "/api/v1/auth/email/verify/", {"key": key}, format="json"
    )


@case("POST", "/api/v1/auth/email/resend/", 202)
def _email_resend(world: World) -> Response:
    body = {"email": "nobody@example.com"}
    return world.anonymous.post("/api/v1/auth/email/resend/", body, format="json")


@case("POST", "/api/v1/auth/login/", 200, "tokens")
def _login(world: World) -> Response:
    body = {"login": world.user.username, "password": DEFAULT_PASSWORD}
    return world.anonymous.post("/api/v1/auth/login/", body, format="json")


@case("POST", "/api/v1/auth/login/", 200, "second factor required")
def _login_mfa_required(world: World) -> Response:
    world.staff_recovery_codes  # noqa: B018 (the staff member's app is on)
    body = {"login": world.staff.username, "password": DEFAULT_PASSWORD}
    return world.anonymous.post("/api/v1/auth/login/", body, format="json")


@case("POST", "/api/v1/auth/login/mfa/", 200)
def _login_mfa(world: World) -> Response:
    body = {
        "mfa_token": world.staff_challenge(),
        "code": world.staff_recovery_codes.pop(),
        "method": "recovery_code",
    }
    return world.anonymous.post("/api/v1/auth/login/mfa/", body, format="json")


@case("POST", "/api/v1/auth/login/mfa/email/", 202)
def _login_mfa_email(world: World) -> Response:
    world.post(
        "/api/v1/auth/mfa/email/", {"password": DEFAULT_PASSWORD}, world.user_api
    )
    body = {"mfa_token": world.log_in(world.user)["mfa_token"]}
    return world.anonymous.post("/api/v1/auth/login/mfa/email/", body, format="json")


@case("POST", "/api/v1/auth/token/", 200)
def _token(world: World) -> Response:
    # A form, as Swagger UI's Authorize button sends it
    form = urlencode({"username": world.user.username, "password": DEFAULT_PASSWORD})
    return world.anonymous.post(
        "/api/v1/auth/token/", form, content_type="application/x-www-form-urlencoded"
    )


@case("POST", "/api/v1/auth/token/refresh/", 200)
def _token_refresh(world: World) -> Response:
    body = {"refresh": world.user_tokens["refresh"]}
    return world.anonymous.post("/api/v1/auth/token/refresh/", body, format="json")


@case("POST", "/api/v1/auth/logout/", 204)
def _logout(world: World) -> Response:
    body = {"refresh": world.user_tokens["refresh"]}
    return world.anonymous.post("/api/v1/auth/logout/", body, format="json")


@case("POST", "/api/v1/auth/logout/all/", 204)
def _logout_all(world: World) -> Response:
    return world.user_api.post("/api/v1/auth/logout/all/")


@case("POST", "/api/v1/auth/password/change/", 204)
def _password_change(world: World) -> Response:
    body = {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}
    return world.user_api.post("/api/v1/auth/password/change/", body, format="json")


@case("POST", "/api/v1/auth/password/reset/", 202)
def _password_reset(world: World) -> Response:
    body = {"email": world.user.email}
    return world.anonymous.post("/api/v1/auth/password/reset/", body, format="json")


@case("POST", "/api/v1/auth/password/reset/confirm/", 204)
def _password_reset_confirm(world: World) -> Response:
    message = world.emailed(lambda: _password_reset(world))
    token = unquote(re.search(r"/reset-password\?token=([^\s\"<&]+)", message.body)[1])
    body = {"token": token, "new_password": NEW_PASSWORD}
    return world.anonymous.post(
        "/api/v1/auth/password/reset/confirm/", body, format="json"
    )


@case("GET", "/api/v1/auth/sessions/", 200)
def _sessions(world: World) -> Response:
    world.log_in(world.user)  # another session, so the list has one not current
    return world.user_api.get("/api/v1/auth/sessions/")


@case("DELETE", "/api/v1/auth/sessions/{session_id}/", 204)
def _session_revoke(world: World) -> Response:
    world.log_in(world.user)
    sessions = world.user_api.get("/api/v1/auth/sessions/").json()["results"]
    [other] = [session for session in sessions if not session["current"]]
    return world.user_api.delete(f"/api/v1/auth/sessions/{other['id']}/")


@case("GET", "/api/v1/auth/mfa/", 200)
def _mfa_status(world: World) -> Response:
    return world.user_api.get("/api/v1/auth/mfa/")


@case("POST", "/api/v1/auth/mfa/totp/setup/", 200)
def _totp_setup(world: World) -> Response:
    return world.user_api.post("/api/v1/auth/mfa/totp/setup/")


@case("POST", "/api/v1/auth/mfa/totp/confirm/", 200)
def _totp_confirm(world: World) -> Response:
    secret = _totp_setup(world).json()["secret"]
    body = {"code": totp_code(secret)}
    return world.user_api.post("/api/v1/auth/mfa/totp/confirm/", body, format="json")


@case("DELETE", "/api/v1/auth/mfa/totp/", 204)
def _totp_disable(world: World) -> Response:
    body = {"password": DEFAULT_PASSWORD}
    return world.staff_api.delete("/api/v1/auth/mfa/totp/", body, format="json")


@case("POST", "/api/v1/auth/mfa/email/", 204)
def _email_codes_enable(world: World) -> Response:
    body = {"password": DEFAULT_PASSWORD}
    return world.user_api.post("/api/v1/auth/mfa/email/", body, format="json")


@case("DELETE", "/api/v1/auth/mfa/email/", 204)
def _email_codes_disable(world: World) -> Response:
    _email_codes_enable(world)
    body = {"password": DEFAULT_PASSWORD}
    return world.user_api.delete("/api/v1/auth/mfa/email/", body, format="json")


@case("POST", "/api/v1/auth/mfa/recovery-codes/", 200)
def _recovery_codes(world: World) -> Response:
    body = {"password": DEFAULT_PASSWORD}
    return world.staff_api.post("/api/v1/auth/mfa/recovery-codes/", body, format="json")


@case("GET", "/api/v1/users/me/", 200)
def _me(world: World) -> Response:
    world.user_api.get("/api/v1/users/me/")  # the first call fills the cache
    return world.user_api.get("/api/v1/users/me/")  # the hot path: from the snapshot


@case("PATCH", "/api/v1/users/me/", 200)
def _me_update(world: World) -> Response:
    body = {"bio": "Engines.", "phone": "+441234567890"}
    return world.user_api.patch("/api/v1/users/me/", body, format="json")


@case("DELETE", "/api/v1/users/me/", 204)
def _me_delete(world: World) -> Response:
    body = {"password": DEFAULT_PASSWORD}
    return world.user_api.delete("/api/v1/users/me/", body, format="json")


@case("POST", "/api/v1/users/me/email/", 202)
def _me_email(world: World) -> Response:
    body = {"new_email": "new@example.com", "password": DEFAULT_PASSWORD}
    return world.user_api.post("/api/v1/users/me/email/", body, format="json")


@case("GET", "/api/v1/users/me/export/", 200)
def _me_export(world: World) -> Response:
    _me_update(world)
    world.user_api.post(f"/api/v1/users/{world.other.pk}/block/")
    return world.user_api.get("/api/v1/users/me/export/")


@case("GET", "/api/v1/users/me/activity/", 200)
def _me_activity(world: World) -> Response:
    _me_update(world)
    return world.user_api.get("/api/v1/users/me/activity/")


@case("GET", "/api/v1/users/", 200)
def _user_list(world: World) -> Response:
    world.other  # noqa: B018 (an account to list beside the staff member's)
    return world.staff_api.get("/api/v1/users/", {"search": "user_"})


@case("GET", "/api/v1/users/{user_id}/", 200, "public profile")
def _user_public(world: World) -> Response:
    return world.user_api.get(f"/api/v1/users/{world.other.pk}/")


@case("GET", "/api/v1/users/{user_id}/", 200, "full profile, for staff")
def _user_full(world: World) -> Response:
    return world.staff_api.get(f"/api/v1/users/{world.other.pk}/")


@case("PATCH", "/api/v1/users/{user_id}/", 200)
def _user_update(world: World) -> Response:
    body = {"display_name": "Renamed", "is_active": False}
    return world.staff_api.patch(
        f"/api/v1/users/{world.other.pk}/", body, format="json"
    )


@case("DELETE", "/api/v1/users/{user_id}/", 204)
def _user_delete(world: World) -> Response:
    return world.staff_api.delete(f"/api/v1/users/{world.other.pk}/")


@case("POST", "/api/v1/users/{user_id}/ban/", 200)
def _ban(world: World) -> Response:
    body = {"reason": "spam", "duration": 3600}
    return world.staff_api.post(
        f"/api/v1/users/{world.other.pk}/ban/", body, format="json"
    )


@case("DELETE", "/api/v1/users/{user_id}/ban/", 204)
def _unban(world: World) -> Response:
    _ban(world)
    return world.staff_api.delete(f"/api/v1/users/{world.other.pk}/ban/")


@case("PUT", "/api/v1/users/{user_id}/roles/", 200)
def _roles(world: World) -> Response:
    body = {"roles": ["moderator"]}
    return world.staff_api.put(
        f"/api/v1/users/{world.other.pk}/roles/", body, format="json"
    )


@case("POST", "/api/v1/users/{user_id}/block/", 204)
def _block(world: World) -> Response:
    return world.user_api.post(f"/api/v1/users/{world.other.pk}/block/")


@case("DELETE", "/api/v1/users/{user_id}/block/", 204)
def _unblock(world: World) -> Response:
    _block(world)
    return world.user_api.delete(f"/api/v1/users/{world.other.pk}/block/")


@case("POST", "/api/v1/api-keys/", 201)
def _api_key_create(world: World) -> Response:
    body = {"name": "CI", "expires_at": "2099-01-01T00:00:00Z"}
    return world.user_api.post("/api/v1/api-keys/", body, format="json")


@case("GET", "/api/v1/api-keys/", 200)
def _api_keys(world: World) -> Response:
    _api_key_create(world)
    return world.user_api.get("/api/v1/api-keys/")


@case("PATCH", "/api/v1/api-keys/{key_id}/", 200)
def _api_key_quota(world: World) -> Response:
    key = _api_key_create(world).json()
    body = {"quota_per_hour": 500, "quota_per_day": None}
    return world.user_api.patch(f"/api/v1/api-keys/{key['id']}/", body, format="json")


@case("GET", "/api/v1/users/me/quota/", 200)
def _me_quota(world: World) -> Response:
    return world.user_api.get("/api/v1/users/me/quota/")


@case("DELETE", "/api/v1/api-keys/{key_id}/", 204)
def _api_key_revoke(world: World) -> Response:
    key = _api_key_create(world).json()
    return world.user_api.delete(f"/api/v1/api-keys/{key['id']}/")


@case("GET", "/api/v1/flags/", 200)
def _my_flags(world: World) -> Response:
    return world.user_api.get("/api/v1/flags/")


@case("GET", "/api/v1/flags/all/", 200)
def _all_flags(world: World) -> Response:
    _flag_change(world)  # a flag with every rule set
    return world.staff_api.get("/api/v1/flags/all/")


@case("PATCH", "/api/v1/flags/{name}/", 200)
def _flag_change(world: World) -> Response:
    body = {
        "everyone": None,
        "percent": 12.5,
        "roles": ["tester"],
        "users": [str(world.other.pk)],
        "note": "rollout",
    }
    return world.staff_api.patch(
        "/api/v1/flags/api%3Ausers%2Fme%2F/", body, format="json"
    )


def _upload(world: World, client: APIClient | None = None) -> dict[str, Any]:
    response = (client or world.user_api).post(
        "/api/v1/files/",
        {"file": SimpleUploadedFile("notes.txt", b"some notes\n"), "description": "x"},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    return response.json()


@case("POST", "/api/v1/files/", 201)
def _file_upload(world: World) -> Response:
    return world.user_api.post(
        "/api/v1/files/",
        {"file": SimpleUploadedFile("notes.txt", b"some notes\n")},
        format="multipart",
    )


@case("GET", "/api/v1/files/", 200)
def _files(world: World) -> Response:
    theirs = _upload(world, world.bearer(world.log_in(world.other)["access"]))
    other_api = world.bearer(world.log_in(world.other)["access"])
    body = {"user": str(world.user.pk), "permission": "view"}
    other_api.post(f"/api/v1/files/{theirs['id']}/shares/", body, format="json")
    _upload(world)
    return world.user_api.get("/api/v1/files/")


@case("GET", "/api/v1/files/{file_id}/", 200)
def _file(world: World) -> Response:
    file = _upload(world)
    body = {"user": str(world.other.pk), "permission": "change"}
    world.user_api.post(f"/api/v1/files/{file['id']}/shares/", body, format="json")
    return world.user_api.get(f"/api/v1/files/{file['id']}/")


@case("PATCH", "/api/v1/files/{file_id}/", 200)
def _file_update(world: World) -> Response:
    file = _upload(world)
    body = {"description": "new words"}
    return world.user_api.patch(f"/api/v1/files/{file['id']}/", body, format="json")


@case("DELETE", "/api/v1/files/{file_id}/", 204)
def _file_delete(world: World) -> Response:
    return world.user_api.delete(f"/api/v1/files/{_upload(world)['id']}/")


@case("GET", "/api/v1/files/{file_id}/download/", 304)
def _file_download(world: World) -> Response:
    file = _upload(world)
    etag = world.user_api.get(file["download_url"])["ETag"]
    return world.user_api.get(file["download_url"], HTTP_IF_NONE_MATCH=etag)


@case("POST", "/api/v1/files/{file_id}/shares/", 201)
def _file_share(world: World) -> Response:
    file = _upload(world)
    body = {"user": str(world.other.pk), "permission": "view"}
    return world.user_api.post(
        f"/api/v1/files/{file['id']}/shares/", body, format="json"
    )


@case("DELETE", "/api/v1/files/{file_id}/shares/{user_id}/", 204)
def _file_unshare(world: World) -> Response:
    file = _upload(world)
    body = {"user": str(world.other.pk), "permission": "view"}
    world.user_api.post(f"/api/v1/files/{file['id']}/shares/", body, format="json")
    return world.user_api.delete(f"/api/v1/files/{file['id']}/shares/{world.other.pk}/")


@case("GET", "/api/v1/config/", 200)
def _config(world: World) -> Response:
    return world.anonymous.get("/api/v1/config/")


@case("GET", "/health/live/", 200)
def _live(world: World) -> Response:
    return world.anonymous.get("/health/live/")


@case("GET", "/health/ready/", 200)
def _ready(world: World) -> Response:
    return world.anonymous.get("/health/ready/")


@case("PUT", "/api/v1/users/me/avatar/", 200)
def _me_avatar_set(world: World) -> Response:
    with override_settings(MEDIA_ROOT=world.media_root):
        upload = SimpleUploadedFile("me.png", png_bytes(), content_type="image/png")
        return world.user_api.put(
            "/api/v1/users/me/avatar/", {"file": upload}, format="multipart"
        )


@case("DELETE", "/api/v1/users/me/avatar/", 204)
def _me_avatar_remove(world: World) -> Response:
    with override_settings(MEDIA_ROOT=world.media_root):
        _me_avatar_set(world)
        return world.user_api.delete("/api/v1/users/me/avatar/")


# Operations without a case, each with the reason.
SKIPPED: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/users/{user_id}/avatar/"): (
        "a PNG, not JSON: tests/files/test_avatars.py checks its type and headers"
    ),
}


def test_every_operation_has_a_case(schema: dict[str, Any]) -> None:
    operations = {
        (method.upper(), path)
        for path, methods in schema["paths"].items()
        for method in methods
    }
    covered = {(case.method, case.path) for case in CASES} | set(SKIPPED)

    assert operations - covered == set(), "add a case (or a justified skip) here"
    assert covered - operations == set(), "no longer in the schema"


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_the_answer_has_the_declared_shape(
    case: Case, world: World, schema: dict[str, Any]
) -> None:
    response = case.call(world)

    assert response.status_code == case.status, response.content[:500]
    assert_declared(schema, case.method, case.path, response)


def test_timestamps_render_in_utc_with_a_z_as_before() -> None:
    # The contract's strings, as accounts.selectors.iso_timestamp wrote them until the
    # serializers took over: UTC, a Z, the microseconds when there are any.
    paris = timezone(timedelta(hours=1))
    field = serializers.DateTimeField()

    assert field.to_representation(datetime(2026, 1, 5, 10, 30, tzinfo=paris)) == (
        "2026-01-05T09:30:00Z"
    )
    assert field.to_representation(datetime(2026, 1, 5, 9, 30, 0, 5, tzinfo=UTC)) == (
        "2026-01-05T09:30:00.000005Z"
    )
