"""The login lockout (issue 12, Medium 3c and 4, and Low): sliding windows whose locks last
``LOGIN_LOCKOUT_MINUTES`` from the locking failure, success resetting the count, device
tokens against lockouts by others, limits on right passwords, and ``login/mfa/`` counting
only its failures. Every test here fails on the fixed windows of django-ratelimit that
came before, but the guards that a device token which is not the account's (forged,
meaningless, or sent with an unknown name) changes nothing: there were no tokens then."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.core import mail, signing
from django.core.cache import cache
from django.test import Client
from django_otp.oath import TOTP
from rest_framework.test import APIClient

from accounts.crypto import encrypt_secret
from accounts.devices import SALT
from accounts.models import AuditEvent, AuthSession, Ban, TOTPAuthenticator, User
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login/"
WINDOW = 15 * 60  # LOGIN_LOCKOUT_MINUTES, in seconds
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SECRET = b"12345678901234567890"
NEW_PASSWORD = "an entirely new passphrase 77"
HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Retry-After")


def attempt(
    login: str,
    password: str = "wrong password",  # noqa: S107
    *,
    ip: str = "203.0.113.7",
    device_token: str | None = None,
):
    body = {"login": login, "password": password}
    if device_token is not None:
        body["device_token"] = device_token
    return APIClient().post(LOGIN, body, format="json", REMOTE_ADDR=ip)


def fail(login: str, times: int, *, first_ip: int = 0) -> None:
    """``times`` wrong passwords for ``login``, each from another address."""
    for number in range(times):
        response = attempt(login, ip=f"198.51.100.{first_ip + number}")
        assert response.status_code == 401, response.content


def headers_of(response) -> dict[str, str | None]:
    return {name: response.get(name) for name in HEADERS}


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(START, tick=False)
    return time_machine


# --- The window ---------------------------------------------------------------------------


def test_a_lock_lasts_lockout_minutes_from_the_locking_failure(
    user: User, frozen
) -> None:
    # Failures spread over five minutes: a fixed window may start between them.
    fail(user.username, 9)
    frozen.shift(5 * 60)
    fail(user.username, 1, first_ip=9)  # the tenth, which locks

    locked = attempt(user.username, DEFAULT_PASSWORD)
    assert locked.status_code == 429
    assert locked["Retry-After"] == str(WINDOW)
    assert locked.json()["retry_after"] == WINDOW

    frozen.shift(WINDOW - 1)
    last_second = attempt(user.username, DEFAULT_PASSWORD)
    assert last_second.status_code == 429
    assert last_second["Retry-After"] == "1"

    frozen.shift(1)
    assert attempt(user.username, DEFAULT_PASSWORD).status_code == 200


def test_no_more_than_the_limit_fits_in_one_window_wherever_it_starts(
    user: User, frozen
) -> None:
    # Two starts half a window apart: a fixed window's edge falls inside the twelve
    # minutes of at least one of them, and used to let twenty failures through.
    for start in (0, WINDOW // 2):
        cache.clear()
        frozen.move_to(START + timedelta(seconds=start))
        fail(user.username, 5)
        frozen.shift(12 * 60)
        fail(user.username, 5, first_ip=5)

        assert attempt(user.username, ip="192.0.2.1").status_code == 429


def test_failures_leave_the_window_one_by_one(user: User, frozen) -> None:
    fail(user.username, 5)
    frozen.shift(10 * 60)
    fail(user.username, 4, first_ip=5)

    # The first five leave the window fifteen minutes after they happened ...
    frozen.shift(5 * 60 + 1)
    first = attempt(user.username, ip="192.0.2.1")
    assert first.status_code == 401
    assert first["RateLimit-Remaining"] == "5"  # four, and this one
    # ... and the next four ten minutes later.
    frozen.shift(10 * 60)
    second = attempt(user.username, ip="192.0.2.2")
    assert second["RateLimit-Remaining"] == "8"


def test_attempts_racing_the_last_allowed_one_are_refused_unchecked(
    user: User,
) -> None:
    fail(user.username, 9)
    check_password = User.check_password
    racing: list = []

    def slow_check(self: User, raw_password: str) -> bool:
        # While the tenth attempt's password is being checked, three more arrive.
        if not racing:
            racing.append(None)
            racing.extend(
                attempt(user.username, DEFAULT_PASSWORD, ip=f"192.0.2.{number}")
                for number in range(3)
            )
        return check_password(self, raw_password)

    with mock.patch.object(User, "check_password", slow_check):
        tenth = attempt(user.username, ip="192.0.2.99")

    assert tenth.status_code == 401
    # Counted before any password was checked, they found the limit taken.
    assert [response.status_code for response in racing[1:]] == [429] * 3
    assert [response["Retry-After"] for response in racing[1:]] == [str(WINDOW)] * 3
    assert attempt(user.username, DEFAULT_PASSWORD).status_code == 429  # locked


def test_a_successful_login_resets_the_accounts_count(user: User) -> None:
    fail(user.username, 9)
    assert attempt(user.username, DEFAULT_PASSWORD).status_code == 200

    fail(user.username, 9, first_ip=9)  # nine more: still not locked

    assert attempt(user.username, DEFAULT_PASSWORD).status_code == 200


# --- Known and unknown names --------------------------------------------------------------


def test_an_account_and_an_unknown_name_answer_the_same_headers(
    user: User, frozen
) -> None:
    for number in range(11):
        known = attempt(user.username, ip=f"198.51.100.{number}")
        unknown = attempt("nobody_here", ip=f"192.0.2.{number}")

        assert known.status_code == unknown.status_code
        assert known.json() == unknown.json()
        assert headers_of(known) == headers_of(unknown)
        frozen.shift(17)  # spread over buckets, where windows could differ
    assert known.status_code == 429


def test_the_per_ip_window_tells_nothing_of_the_address(
    db: None, frozen, settings
) -> None:
    # Fixed windows ended at crc32(address) % period: two clients failing alike read
    # different resets. Here, the same.
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_failures_per_ip": "2/15m"}
    first = attempt("someone", ip="203.0.113.10")
    second = attempt("someone", ip="203.0.113.11")

    assert first["RateLimit-Limit"] == second["RateLimit-Limit"] == "2"
    assert first["RateLimit-Reset"] == second["RateLimit-Reset"] == str(WINDOW)


def test_per_ip_failures_lock_for_a_whole_window(db: None, frozen, settings) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_failures_per_ip": "3/15m"}
    for number in range(3):
        attempt(f"someone_{number}", ip="203.0.113.50")
    frozen.shift(WINDOW - 1)

    response = attempt("someone_else", ip="203.0.113.50")

    assert response.status_code == 429
    assert response["Retry-After"] == "1"


# --- Device tokens ------------------------------------------------------------------------


def device_token_of(user: User, ip: str = "192.0.2.200") -> str:
    response = attempt(user.username, DEFAULT_PASSWORD, ip=ip)
    assert response.status_code == 200, response.content
    return response.json()["device_token"]


def test_a_device_that_signed_in_before_is_not_locked_out_by_others(user: User) -> None:
    token = device_token_of(user)
    fail(user.username, 10)  # a stranger locks the account
    assert attempt(user.username, DEFAULT_PASSWORD).status_code == 429

    response = attempt(user.username, DEFAULT_PASSWORD, device_token=token)

    assert response.status_code == 200
    assert response.json()["device_token"] != token  # a new one with each login
    # The lock the stranger reached stays for everyone else.
    assert attempt(user.username, DEFAULT_PASSWORD).status_code == 429


def test_a_new_password_ends_the_device_tokens_earned_with_the_old_one(
    user: User,
) -> None:
    """After a compromise the owner changes the password: a device that signed in with
    the old one (the intruder's, maybe) no longer escapes the account's lockout, while
    one that signed in with the new one does."""
    old_token = device_token_of(user)
    user.set_password(NEW_PASSWORD)
    user.save()
    new_token = attempt(user.username, NEW_PASSWORD).json()["device_token"]
    fail(user.username, 10)

    with_old = attempt(user.username, NEW_PASSWORD, device_token=old_token)
    with_new = attempt(user.username, NEW_PASSWORD, device_token=new_token)

    assert with_old.status_code == 429
    assert with_new.status_code == 200


def test_a_device_token_with_an_unknown_name_changes_nothing(
    user: User, frozen
) -> None:
    token = device_token_of(user)
    fail("nobody_here", 10)

    with_token = attempt("nobody_here", device_token=token, ip="192.0.2.1")
    without = attempt("nobody_here", ip="192.0.2.2")

    assert with_token.status_code == without.status_code == 429
    assert headers_of(with_token) == headers_of(without)


def forged_token(user: User) -> str:
    token = signing.dumps({"user": str(user.pk), "device": "x"}, salt=SALT)
    return token[:-2] + ("AA" if not token.endswith("AA") else "BB")


@pytest.mark.parametrize("kind", ["another account's", "forged", "expired", "garbage"])
def test_a_token_not_of_this_account_is_no_token(
    user: User, kind: str, time_machine, settings
) -> None:
    time_machine.move_to(START, tick=False)  # the two answers' headers alike
    if kind == "another account's":
        token = device_token_of(UserFactory())
    elif kind == "forged":
        token = forged_token(user)
    elif kind == "expired":
        token = device_token_of(user)
        time_machine.shift(timedelta(days=settings.DEVICE_TOKEN_DAYS, seconds=1))
    else:
        token = "not a token"
    fail(user.username, 10)

    with_token = attempt(
        user.username, DEFAULT_PASSWORD, device_token=token, ip="1.2.3.4"
    )
    without = attempt(user.username, DEFAULT_PASSWORD, ip="1.2.3.5")

    assert with_token.status_code == without.status_code == 429
    assert with_token.json() == without.json()
    assert headers_of(with_token) == headers_of(without)


def test_a_device_token_is_counted_on_a_lock_of_its_own(user: User, frozen) -> None:
    token = device_token_of(user)
    for number in range(10):
        response = attempt(user.username, device_token=token, ip=f"198.51.100.{number}")
        assert response.status_code == 401

    # That device is locked out for a whole window, right password or not ...
    locked = attempt(user.username, DEFAULT_PASSWORD, device_token=token)
    assert locked.status_code == 429
    assert locked["Retry-After"] == str(WINDOW)
    # ... but the account is not: its owner signs in elsewhere, and is not emailed.
    assert attempt(user.username, DEFAULT_PASSWORD).status_code == 200
    assert not [message for message in mail.outbox if "paused" in message.subject]
    lock = AuditEvent.objects.get(kind="login.locked", target=user)
    assert lock.payload == {"device": True}

    frozen.shift(WINDOW)
    assert (
        attempt(user.username, DEFAULT_PASSWORD, device_token=token).status_code == 200
    )


def test_a_device_token_does_not_escape_the_limit_per_address(
    user: User, settings
) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_failures_per_ip": "3/15m"}
    token = device_token_of(user, ip="192.0.2.1")
    for _ in range(3):
        attempt(user.username, device_token=token, ip="203.0.113.9")

    response = attempt(
        user.username, DEFAULT_PASSWORD, device_token=token, ip="203.0.113.9"
    )

    assert response.status_code == 429


def test_the_owner_on_a_device_resets_the_accounts_count(user: User) -> None:
    token = device_token_of(user)
    fail(user.username, 9)
    attempt(user.username, DEFAULT_PASSWORD, device_token=token)

    fail(user.username, 9, first_ip=9)

    assert attempt(user.username, DEFAULT_PASSWORD).status_code == 200


# --- Right passwords are limited too ------------------------------------------------------


def test_logins_per_account_are_limited_and_the_refused_one_opens_no_session(
    user: User, frozen
) -> None:
    for _ in range(20):
        assert attempt(user.username, DEFAULT_PASSWORD).status_code == 200

    refused = attempt(user.username, DEFAULT_PASSWORD)

    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert refused["Retry-After"] == "60"
    assert AuthSession.objects.filter(user=user).count() == 20
    frozen.shift(60)
    assert attempt(user.username, DEFAULT_PASSWORD).status_code == 200


def test_logins_per_address_are_limited(db: None, settings) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "logins_per_ip": "3/m"}
    users = UserFactory.create_batch(4)
    for someone in users[:3]:
        assert attempt(someone.username, DEFAULT_PASSWORD).status_code == 200

    assert attempt(users[3].username, DEFAULT_PASSWORD).status_code == 429
    other_address = attempt(users[3].username, DEFAULT_PASSWORD, ip="192.0.2.9")
    assert other_address.status_code == 200


# --- The second step ----------------------------------------------------------------------


@pytest.fixture
def totp_user(user: User) -> User:
    TOTPAuthenticator.objects.create(
        user=user, name="app", confirmed=True, encrypted_key=encrypt_secret(SECRET)
    )
    return user


def current_code() -> str:
    totp = TOTP(SECRET)
    totp.time = time.time()
    return f"{totp.token():06d}"


def second_step(mfa_token: str, code: str, ip: str = "203.0.113.7"):
    return APIClient().post(
        "/api/v1/auth/login/mfa/",
        {"mfa_token": mfa_token, "code": code},
        format="json",
        REMOTE_ADDR=ip,
    )


def challenge(user: User) -> str:
    response = attempt(user.username, DEFAULT_PASSWORD)
    assert response.status_code == 200, response.content
    return response.json()["mfa_token"]


def test_two_step_logins_do_not_count_toward_password_failures(
    totp_user: User, frozen, settings
) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_failures_per_ip": "5/15m"}
    for _ in range(6):
        response = second_step(challenge(totp_user), current_code())
        assert response.status_code == 200, response.content
        assert response.json()["device_token"]
        frozen.shift(30)  # the next code

    assert attempt(totp_user.username, DEFAULT_PASSWORD).status_code == 200


def test_wrong_codes_are_limited_per_address_on_their_own(
    totp_user: User, frozen, settings
) -> None:
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "login_mfa_failures_per_ip": "3/15m",
    }
    mfa_token = challenge(totp_user)
    for _ in range(2):
        assert second_step(mfa_token, "000000").status_code == 400
        frozen.shift(60)  # past django-otp's delay after a wrong code
    assert second_step("forged", "000000").status_code == 401  # the third: locks
    frozen.shift(60)

    throttled = second_step(challenge(totp_user), current_code())

    assert throttled.status_code == 429
    assert throttled.json()["code"] == "rate_limited"
    assert throttled["Retry-After"] == str(WINDOW - 60)  # from the third failure
    # Password logins from there are another limit.
    assert attempt(totp_user.username, "wrong").status_code == 401


def test_only_both_factors_reset_the_accounts_count(totp_user: User) -> None:
    fail(totp_user.username, 9)
    challenge(totp_user)  # the password alone resets nothing
    fail(totp_user.username, 1, first_ip=9)
    assert attempt(totp_user.username, DEFAULT_PASSWORD).status_code == 429
    cache.clear()

    fail(totp_user.username, 9)
    mfa_token = challenge(totp_user)
    assert second_step(mfa_token, current_code()).status_code == 200

    fail(totp_user.username, 9, first_ip=9)
    assert attempt(totp_user.username, DEFAULT_PASSWORD).status_code == 200


# --- The admin ----------------------------------------------------------------------------


def test_signing_in_to_the_admin_resets_the_accounts_count(db: None) -> None:
    password = "staff passphrase for the admin"
    staff = User.objects.create_superuser("boss", "boss@example.com", password)
    TOTPAuthenticator.objects.create(
        user=staff, name="app", confirmed=True, encrypted_key=encrypt_secret(SECRET)
    )
    fail("boss", 9)
    signed_in = Client().post(
        "/admin/login/?next=/admin/",
        {
            "username": "boss",
            "password": password,
            "code": current_code(),
        },
    )
    assert signed_in.status_code == 302

    fail("boss", 9, first_ip=9)

    assert attempt("boss", password).status_code == 200


def test_a_ban_found_at_the_second_step_is_not_a_wrong_code(
    totp_user: User, settings
) -> None:
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "login_mfa_failures_per_ip": "1/15m",
        "login_failures_per_ip": "1/15m",
    }
    first, second = challenge(totp_user), challenge(totp_user)
    ban = Ban.objects.create(user=totp_user, reason="spam")

    assert second_step(first, current_code()).status_code == 403

    # Not counted: the next wrong code is still answered as one.
    ban.delete()
    assert second_step(second, "000000").status_code == 400
