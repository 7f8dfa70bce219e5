"""A second factor belongs to the session, not the account (issue 12, Medium 1).

Each session records how it was signed in to (``amr``, RFC 8176; ``auth_time``), its
tokens carry both, and a staff role's powers are in force only in a session whose
``amr`` includes ``mfa`` (with ``MFA_REQUIRED_FOR_STAFF`` on, as in these tests).
"""

from __future__ import annotations

import time
from base64 import b32decode
from datetime import timedelta

import jwt
import pytest
from django.contrib.auth.models import Group
from django.test import override_settings
from django.utils import timezone
from django_otp.oath import TOTP
from rest_framework.test import APIClient
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.access import Action, may, may_take, target_for
from accounts.constants import AMR_PASSWORD, AMR_PASSWORD_AND_SECOND_FACTOR
from accounts.models import AuthSession, Ban, TOTPAuthenticator, User
from accounts.services.deletion import user_delete
from accounts.services.sessions import session_create
from accounts.session_state import authenticated_user
from config.client import SYSTEM
from config.errors import ApplicationError
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.helpers import account, bearer, client_for, log_in

pytestmark = pytest.mark.django_db

PUBLIC_FIELDS = {"id", "username", "display_name", "avatar_url", "bio"}


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def totp_code(secret: str) -> str:
    totp = TOTP(b32decode(secret + "=" * (-len(secret) % 8)))
    return f"{totp.token():06d}"


def staff_without_a_factor(role: str = "moderator") -> User:
    staff = UserFactory(username=f"new_{role}", is_staff=True)
    staff.groups.add(Group.objects.get(name=role))
    return staff


def sign_in_with_the_app(user: User, secret: str) -> dict:
    first = log_in(user)
    assert first["mfa_required"] is True, first
    second = APIClient().post(
        "/api/v1/auth/login/mfa/",
        {"mfa_token": first["mfa_token"], "code": totp_code(secret)},
        format="json",
    )
    assert second.status_code == 200, second.content
    return second.json()


# --- the reviewer's attack --------------------------------------------------------------


def test_a_password_only_staff_session_has_no_staff_powers_even_after_enrolling(
    time_machine,
) -> None:
    """The reported attack, step by step. Before: GET users/ was refused but GET
    users/{id}/ answered full private profiles, and the same session could enrol TOTP
    without the password and then list every user."""
    staff = staff_without_a_factor()
    other = account(username="someone", bio="hello", phone="+441234567890")
    session = log_in(staff)
    client = bearer(session["access"])
    assert claims_of(session["access"])["amr"] == ["pwd"]

    # Staff routes: refused, with the way out in the answer.
    listing = client.get("/api/v1/users/")
    assert listing.status_code == 403
    assert listing.json()["code"] == "mfa_setup_required"
    assert "sign in again" in listing.json()["detail"]

    # Another user's profile: what any user sees, nothing private.
    profile = client.get(f"/api/v1/users/{other.pk}/")
    assert profile.status_code == 200
    assert set(profile.json()) == PUBLIC_FIELDS

    # Staff writes: refused, nothing changed.
    for response in (
        client.patch(f"/api/v1/users/{other.pk}/", {"bio": "x"}, format="json"),
        client.post(f"/api/v1/users/{other.pk}/ban/", {"reason": "x"}, format="json"),
        client.delete(f"/api/v1/users/{other.pk}/"),
    ):
        assert response.status_code == 403
        assert response.json()["code"] == "mfa_setup_required"
    other.refresh_from_db()
    assert (other.bio, other.is_active) == ("hello", True)
    assert not Ban.objects.filter(user=other).exists()

    # Later (the token refreshed, the sign-in no longer recent), enrolling needs the
    # password again.
    time_machine.move_to(timezone.now() + timedelta(minutes=10))
    refreshed = APIClient().post(
        "/api/v1/auth/token/refresh/", {"refresh": session["refresh"]}, format="json"
    )
    client = bearer(refreshed.json()["access"])
    secret = client.post("/api/v1/auth/mfa/totp/setup/").json()["secret"]
    without = client.post(
        "/api/v1/auth/mfa/totp/confirm/", {"code": totp_code(secret)}, format="json"
    )
    assert without.status_code == 400
    assert without.json()["errors"] == {
        "password": ["Enter your password again to continue."]
    }
    assert not TOTPAuthenticator.objects.filter(user=staff, confirmed=True).exists()

    enrolled = client.post(
        "/api/v1/auth/mfa/totp/confirm/",
        {"code": totp_code(secret), "password": DEFAULT_PASSWORD},
        format="json",
    )
    assert enrolled.status_code == 200, enrolled.content

    # The factor is the account's now, but this session never used it.
    assert client.get("/api/v1/users/").json()["code"] == "mfa_setup_required"
    assert set(client.get(f"/api/v1/users/{other.pk}/").json()) == PUBLIC_FIELDS

    # A new sign-in with the app has the staff powers.
    time_machine.move_to(timezone.now() + timedelta(seconds=60))  # a fresh TOTP step
    signed_in = sign_in_with_the_app(staff, secret)
    assert claims_of(signed_in["access"])["amr"] == ["pwd", "otp", "mfa"]
    client = bearer(signed_in["access"])
    assert client.get("/api/v1/users/").status_code == 200
    assert "phone" in client.get(f"/api/v1/users/{other.pk}/").json()


def test_a_staff_session_without_a_second_factor_is_refused_even_with_a_factor() -> (
    None
):
    """Having a factor on the account is not enough: the session must have used it."""
    moderator = account("moderator")  # has an authenticator app

    response = client_for(moderator, amr=AMR_PASSWORD).get("/api/v1/users/")

    assert response.status_code == 403
    assert response.json()["code"] == "mfa_setup_required"


def test_staff_without_a_second_factor_see_blocked_and_inactive_accounts_as_users_do() -> (
    None
):
    """Staff see every profile only with their powers in force: without, an inactive
    account is the same 404 as for anyone."""
    moderator = account("moderator")
    inactive = account(username="gone", is_active=False)

    with_factor = client_for(moderator).get(f"/api/v1/users/{inactive.pk}/")
    without = client_for(moderator, amr=AMR_PASSWORD).get(
        f"/api/v1/users/{inactive.pk}/"
    )

    assert with_factor.status_code == 200
    assert without.status_code == 404


@override_settings(MFA_REQUIRED_FOR_STAFF=False)
def test_with_mfa_not_required_a_password_session_keeps_staff_powers() -> None:
    staff = staff_without_a_factor()

    response = bearer(log_in(staff)["access"]).get("/api/v1/users/")

    assert response.status_code == 200


# --- the access table sees the session --------------------------------------------------


def session_user(user: User, amr: tuple[str, ...]) -> User:
    """The user as a request of a session signed in with ``amr`` sees it."""
    session, _ = session_create(user=user, client=SYSTEM, amr=amr)
    acting = authenticated_user(session.pk, user.pk)
    assert acting is not None
    acting.session_amr = amr
    return acting


def test_services_refuse_staff_acting_through_a_password_only_session() -> None:
    """A service asserting the access table refuses too, not only the API's classes."""
    admin, target = account("admin"), account(username="target")
    acting = session_user(admin, AMR_PASSWORD)

    with pytest.raises(ApplicationError) as refused:
        target_for(acting, Action.BAN, target.pk, for_update=True)

    assert refused.value.code == "mfa_setup_required"
    assert not may_take(acting, Action.BAN)
    assert not may(acting, Action.BAN, target)
    assert may(session_user(admin, AMR_PASSWORD_AND_SECOND_FACTOR), Action.BAN, target)


def test_erasure_by_staff_refuses_a_password_only_session() -> None:
    """``user_delete`` asserts the rule on the row it locked (``access.check``)."""
    admin, target = account("admin"), account(username="target")

    with pytest.raises(ApplicationError) as refused:
        user_delete(
            user_id=target.pk, actor=session_user(admin, AMR_PASSWORD), client=SYSTEM
        )

    assert refused.value.code == "mfa_setup_required"
    target.refresh_from_db()
    assert target.username == "target"


def test_a_plain_user_is_refused_as_before_whatever_the_session() -> None:
    """No role, no powers: the answer stays permission_denied, not a hint to set up MFA."""
    user, target = account(username="plain"), account(username="target")

    with pytest.raises(ApplicationError) as refused:
        target_for(session_user(user, AMR_PASSWORD), Action.BAN, target.pk)

    assert refused.value.code == "permission_denied"


@pytest.mark.parametrize(("verified", "expected"), [(True, True), (False, False)])
def test_an_admin_session_counts_django_otps_verification(
    verified: bool, expected: bool
) -> None:
    """The admin (cookie sessions): django-otp's middleware gives the user
    ``is_verified``, which stands for the session's second factor."""
    admin = account("admin")
    admin.is_verified = lambda: verified  # what OTPMiddleware installs

    assert may_take(admin, Action.BAN) is expected


# --- tokens -----------------------------------------------------------------------------


def test_both_tokens_say_how_and_when_the_session_signed_in() -> None:
    user = account(username="plain")
    before = int(time.time())

    pair = log_in(user)

    session = AuthSession.objects.get(user=user)
    assert session.amr == ["pwd"]
    for token in (pair["access"], pair["refresh"]):
        claims = claims_of(token)
        assert claims["amr"] == ["pwd"]
        assert claims["auth_time"] == int(session.auth_time.timestamp())
        assert before <= claims["auth_time"] <= int(time.time())


def test_a_refresh_keeps_amr_and_auth_time_without_reading_the_session(
    time_machine, django_assert_num_queries
) -> None:
    staff = account("moderator")
    pair = session_create(
        user=staff, client=SYSTEM, amr=AMR_PASSWORD_AND_SECOND_FACTOR
    )[1]
    signed_in_at = claims_of(pair.access)["auth_time"]
    time_machine.move_to(timezone.now() + timedelta(minutes=20))

    # The same statements as before amr existed: the rotating UPDATE, the user check.
    with django_assert_num_queries(2):
        refreshed = APIClient().post(
            "/api/v1/auth/token/refresh/", {"refresh": pair.refresh}, format="json"
        )

    assert refreshed.status_code == 200
    for token in refreshed.json().values():
        assert claims_of(token)["amr"] == ["pwd", "otp", "mfa"]
        assert claims_of(token)["auth_time"] == signed_in_at
    assert bearer(refreshed.json()["access"]).get("/api/v1/users/").status_code == 200


def test_a_refresh_token_from_before_amr_proves_nothing() -> None:
    """Fail closed: a refresh token issued before the claims existed yields amr [] and
    auth_time 0, so staff must sign in again with their factor."""
    staff = account("moderator")
    session, _ = session_create(
        user=staff, client=SYSTEM, amr=AMR_PASSWORD_AND_SECOND_FACTOR
    )
    old = RefreshToken()
    old["jti"] = session.refresh_jti
    old[api_settings.USER_ID_CLAIM] = str(staff.pk)
    old["sid"] = str(session.pk)

    refreshed = APIClient().post(
        "/api/v1/auth/token/refresh/", {"refresh": str(old)}, format="json"
    )

    assert refreshed.status_code == 200
    access = refreshed.json()["access"]
    assert (claims_of(access)["amr"], claims_of(access)["auth_time"]) == ([], 0)
    response = bearer(access).get("/api/v1/users/")
    assert response.json()["code"] == "mfa_setup_required"
