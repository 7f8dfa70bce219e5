"""``login/`` and ``token/``: credentials, account states, lockout, enumeration safety."""

from __future__ import annotations

from unittest import mock
from urllib.parse import urlencode

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.hashers import Argon2idPasswordHasher
from accounts.models import AuditEvent, User
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login/"
ARGON2ID_VERIFY = Argon2idPasswordHasher.verify


def attempt(login: str, password: str, ip: str = "203.0.113.7"):
    return APIClient().post(
        LOGIN, {"login": login, "password": password}, format="json", REMOTE_ADDR=ip
    )


@pytest.mark.parametrize(
    "login_name", ["{username}", "{email}", "{upper_username}", "{upper_email}"]
)
def test_login_with_username_or_email_in_any_case(user: User, login_name: str) -> None:
    name = login_name.format(
        username=user.username,
        email=user.email,
        upper_username=user.username.upper(),
        upper_email=user.email.upper(),
    )

    response = attempt(name, DEFAULT_PASSWORD)

    assert response.status_code == 200
    assert response.json()["user"]["id"] == str(user.pk)
    assert AuditEvent.objects.filter(kind="login.succeeded", target=user).count() == 1


def test_wrong_password_and_unknown_account_are_indistinguishable(user: User) -> None:
    wrong = attempt(user.username, "not the password at all")
    unknown = attempt("nobody_here", "not the password at all")

    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["code"] == "invalid_credentials"


@pytest.mark.real_hasher
def test_an_unknown_account_costs_one_argon2id_verification_as_a_known_one(
    user: User,
) -> None:
    with mock.patch.object(
        Argon2idPasswordHasher, "verify", autospec=True, side_effect=ARGON2ID_VERIFY
    ) as verify:
        attempt(user.username, "not the password at all")
        known = verify.call_count
        attempt("nobody_here", "not the password at all")
        unknown = verify.call_count - known

    # The same hasher at the same cost (against a dummy hash): the same timing.
    assert known == unknown == 1


def test_an_inactive_account_is_told_only_with_the_right_password(user: User) -> None:
    user.is_active = False
    user.save()

    assert (
        attempt(user.username, "wrong password").json()["code"] == "invalid_credentials"
    )
    response = attempt(user.username, DEFAULT_PASSWORD)
    assert response.status_code == 403
    assert response.json()["code"] == "account_inactive"


@override_settings(ACCOUNT_EMAIL_VERIFICATION="mandatory")
def test_mandatory_verification_blocks_login_until_verified(user: User) -> None:
    user.emailaddress_set.update(verified=False)

    response = attempt(user.username, DEFAULT_PASSWORD)

    assert response.status_code == 403
    assert response.json()["code"] == "email_not_verified"
    user.emailaddress_set.update(verified=True)
    assert attempt(user.username, DEFAULT_PASSWORD).status_code == 200


@override_settings(LOGIN_LOCKOUT_ATTEMPTS=10)
def test_ten_failures_lock_the_account_whatever_the_password_and_case(
    user: User,
) -> None:
    names = [user.username, user.username.upper(), user.email, user.email.upper()]
    for number in range(10):
        response = attempt(
            names[number % 4], "wrong password", ip=f"198.51.100.{number}"
        )
        assert response.status_code == 401

    locked = attempt(user.username, DEFAULT_PASSWORD, ip="192.0.2.99")

    assert locked.status_code == 429
    assert locked.json()["code"] == "rate_limited"
    assert 0 < int(locked["Retry-After"]) <= 15 * 60
    [message] = mail.outbox  # the owner hears of it once
    assert message.to == [user.email]
    assert AuditEvent.objects.filter(kind="login.locked", target=user).count() == 1
    attempt(user.username, "wrong again", ip="192.0.2.100")
    assert len(mail.outbox) == 1


def test_unknown_names_lock_out_exactly_like_accounts(user: User) -> None:
    for number in range(10):
        assert (
            attempt("Ghost_User", "x" * 20, ip=f"198.51.100.{number}").status_code
            == 401
        )

    locked = attempt("ghost_user", "x" * 20, ip="192.0.2.1")

    assert locked.status_code == 429
    assert "Retry-After" in locked
    assert mail.outbox == []


def test_lockout_ends_with_its_window(user: User, time_machine) -> None:
    for number in range(10):
        attempt(user.username, "wrong password", ip=f"198.51.100.{number}")
    assert attempt(user.username, DEFAULT_PASSWORD).status_code == 429

    time_machine.move_to(timezone.now(), tick=False)

    time_machine.shift(16 * 60)

    assert attempt(user.username, DEFAULT_PASSWORD).status_code == 200


def test_failures_from_one_address_are_limited_across_accounts(db: None) -> None:
    for number in range(50):
        assert (
            attempt(f"someone_{number}", "x" * 20, ip="203.0.113.50").status_code == 401
        )

    response = attempt("someone_else", "x" * 20, ip="203.0.113.50")

    assert response.status_code == 429
    assert attempt("someone_else", "x" * 20, ip="203.0.113.51").status_code == 401


@override_settings(RATELIMIT_ENABLE=False)
def test_rate_limits_can_be_switched_off(user: User) -> None:
    for _ in range(12):
        attempt(user.username, "wrong password")

    assert attempt(user.username, DEFAULT_PASSWORD).status_code == 200


def test_a_successful_login_reports_its_rate_limit_headers(user: User) -> None:
    attempt(user.username, "wrong password")

    response = attempt(user.username, DEFAULT_PASSWORD)

    assert response["RateLimit-Limit"] == "10"
    assert response["RateLimit-Remaining"] == "9"
    assert int(response["RateLimit-Reset"]) > 0


def test_oauth2_password_grant_for_swagger_ui(user: User) -> None:
    form = urlencode(
        {
            "grant_type": "password",
            "username": user.username,
            "password": DEFAULT_PASSWORD,
        }
    )
    response = APIClient().post(
        "/api/v1/auth/token/", form, content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 300
    me = APIClient()
    me.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert me.get("/api/v1/users/me/").status_code == 200


def test_missing_fields_are_a_validation_error(db: None) -> None:
    response = APIClient().post(LOGIN, {}, format="json")

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"login", "password"}
