"""A second factor belongs to the session, not the account (issue 12, Medium 1).

Each session records how it was signed in to (``amr``, RFC 8176; ``auth_time``), its
tokens carry both, and a staff role's powers are in force only in a session whose
``amr`` includes ``mfa`` (with ``MFA_REQUIRED_FOR_STAFF`` on, as in these tests).
"""

from __future__ import annotations

import time
from datetime import timedelta

import jwt
import pytest
from django.contrib.auth.models import Group
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.access import Action, may, may_take, target_for
from accounts.constants import AMR_PASSWORD, AMR_PASSWORD_AND_SECOND_FACTOR
from accounts.models import AuthSession, User
from accounts.services.sessions import session_create
from accounts.session_state import authenticated_user
from config.client import SYSTEM
from config.errors import ApplicationError
from tests.factories import UserFactory
from tests.helpers import account, bearer, client_for, log_in

pytestmark = pytest.mark.django_db

PUBLIC_FIELDS = {"id", "username", "display_name", "avatar_url", "bio"}


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def staff_without_a_factor(role: str = "moderator") -> User:
    staff = UserFactory(username=f"new_{role}", is_staff=True)
    staff.groups.add(Group.objects.get(name=role))
    return staff


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
