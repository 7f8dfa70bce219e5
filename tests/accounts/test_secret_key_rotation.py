"""A new SECRET_KEY with the old one in SECRET_KEY_FALLBACKS keeps every second factor
working (issue 13): before, TOTP secrets became undecryptable (a 500 at login/mfa/) and
every recovery code was wrong, locking staff out of the admin. Without the fallback, a
code for an unreadable secret is a clean 400 ``mfa_invalid`` and the error is logged."""

from __future__ import annotations

import logging
import re
import time

import jwt
import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client
from django_otp.oath import TOTP
from rest_framework.test import APIClient

from accounts.crypto import (
    UndecryptableSecret,
    encrypt_secret,
    recovery_code_digest,
    reencrypt_secret,
)
from accounts.models import (
    EmailCodeDevice,
    RecoveryCode,
    RecoveryCodeSet,
    TOTPAuthenticator,
    User,
)
from tests.factories import DEFAULT_PASSWORD
from tests.helpers import bearer

pytestmark = pytest.mark.django_db

OLD_KEY = "old-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMN"
NEW_KEY = "new-secret-key-9876543210-zyxwvutsrqponmlkjihgfedcba-NMLKJIHGFEDCBA"
SECRET = b"12345678901234567890"
RECOVERY_CODE = "abcde-23456"


def current_code() -> str:
    totp = TOTP(SECRET)
    totp.time = time.time()
    return f"{totp.token():06d}"


@pytest.fixture
def old_key(settings) -> None:
    settings.SECRET_KEY = OLD_KEY
    settings.SECRET_KEY_FALLBACKS = []


@pytest.fixture
def factors(old_key: None, user: User) -> TOTPAuthenticator:
    """An authenticator app and a recovery code, both sealed under the old key."""
    codes = RecoveryCodeSet.objects.create(user=user, name="codes", confirmed=True)
    RecoveryCode.objects.create(
        device=codes, digest=recovery_code_digest(RECOVERY_CODE)
    )
    return TOTPAuthenticator.objects.create(
        user=user, name="app", confirmed=True, encrypted_key=encrypt_secret(SECRET)
    )


def rotate(settings, *, keep_old: bool) -> None:
    settings.SECRET_KEY = NEW_KEY
    settings.SECRET_KEY_FALLBACKS = [OLD_KEY] if keep_old else []


def second_step(user: User, code: str, method: str):
    challenge = APIClient().post(
        "/api/v1/auth/login/",
        {"login": user.username, "password": DEFAULT_PASSWORD},
        format="json",
    )
    assert challenge.status_code == 200, challenge.content
    return APIClient().post(
        "/api/v1/auth/login/mfa/",
        {"mfa_token": challenge.json()["mfa_token"], "code": code, "method": method},
        format="json",
    )


def test_with_the_old_key_as_a_fallback_the_app_still_signs_in(
    settings, user: User, factors: TOTPAuthenticator
) -> None:
    rotate(settings, keep_old=True)

    assert second_step(user, current_code(), "totp").status_code == 200


def test_with_the_old_key_as_a_fallback_a_recovery_code_still_signs_in_once(
    settings, user: User, factors: TOTPAuthenticator
) -> None:
    rotate(settings, keep_old=True)

    assert second_step(user, RECOVERY_CODE, "recovery_code").status_code == 200
    assert second_step(user, RECOVERY_CODE, "recovery_code").status_code == 400


def test_recovery_codes_made_after_the_rotation_use_the_new_key(
    settings, old_key: None
) -> None:
    before = recovery_code_digest(RECOVERY_CODE)
    rotate(settings, keep_old=True)

    assert recovery_code_digest(RECOVERY_CODE) != before


def test_a_code_emailed_just_before_the_rotation_still_signs_in(
    settings, old_key: None, user: User
) -> None:
    EmailCodeDevice.objects.create(
        user=user, name="email", email=user.email, confirmed=True
    )
    challenge = (
        APIClient()
        .post(
            "/api/v1/auth/login/",
            {"login": user.username, "password": DEFAULT_PASSWORD},
            format="json",
        )
        .json()
    )
    sent = APIClient().post(
        "/api/v1/auth/login/mfa/email/",
        {"mfa_token": challenge["mfa_token"]},
        format="json",
    )
    assert sent.status_code == 202
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    rotate(settings, keep_old=True)

    response = APIClient().post(
        "/api/v1/auth/login/mfa/",
        {"mfa_token": challenge["mfa_token"], "code": code, "method": "email"},
        format="json",
    )

    assert response.status_code == 200, response.content


def test_with_the_old_key_as_a_fallback_staff_still_enter_the_admin(
    settings, old_key: None
) -> None:
    staff = User.objects.create_superuser("boss", "boss@example.com", DEFAULT_PASSWORD)
    TOTPAuthenticator.objects.create(
        user=staff, name="app", confirmed=True, encrypted_key=encrypt_secret(SECRET)
    )
    rotate(settings, keep_old=True)
    client = Client()

    response = client.post(
        "/admin/login/?next=/admin/",
        {
            "username": "boss",
            "password": DEFAULT_PASSWORD,
            "code": current_code(),
        },
    )

    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_without_the_old_key_an_app_code_is_refused_cleanly_and_logged(
    settings, user: User, factors: TOTPAuthenticator, caplog
) -> None:
    rotate(settings, keep_old=False)

    with caplog.at_level(logging.ERROR, logger="accounts.models.mfa"):
        response = second_step(user, current_code(), "totp")

    assert response.status_code == 400  # was a 500
    assert response.json()["code"] == "mfa_invalid"
    [record] = caplog.records
    assert f"authenticator app {factors.pk} cannot be decrypted" in record.getMessage()
    assert "SECRET_KEY_FALLBACKS" in record.getMessage()
    factors.refresh_from_db()
    assert factors.throttling_failure_count == 0  # not the user's mistake


def test_without_the_old_key_the_admin_shows_its_usual_error(
    settings, old_key: None
) -> None:
    staff = User.objects.create_superuser("boss", "boss@example.com", DEFAULT_PASSWORD)
    TOTPAuthenticator.objects.create(
        user=staff, name="app", confirmed=True, encrypted_key=encrypt_secret(SECRET)
    )
    rotate(settings, keep_old=False)
    client = Client()

    response = client.post(
        "/admin/login/?next=/admin/",
        {
            "username": "boss",
            "password": DEFAULT_PASSWORD,
            "code": current_code(),
        },
    )

    assert response.status_code == 200  # the form again, not a 500
    assert client.get("/admin/").status_code == 302


def test_rotate_mfa_keys_moves_secrets_to_the_new_key_so_the_fallback_can_go(
    settings, user: User, factors: TOTPAuthenticator
) -> None:
    rotate(settings, keep_old=True)

    call_command("rotate_mfa_keys", verbosity=0)
    settings.SECRET_KEY_FALLBACKS = []

    assert second_step(user, current_code(), "totp").status_code == 200


def test_rotate_mfa_keys_names_the_secrets_it_cannot_read_and_rotates_the_others(
    settings, user: User, factors: TOTPAuthenticator, other_user: User
) -> None:
    rotate(settings, keep_old=False)
    readable = TOTPAuthenticator.objects.create(
        user=other_user,
        name="app",
        confirmed=True,
        encrypted_key=encrypt_secret(SECRET),
    )
    before = readable.encrypted_key

    with pytest.raises(CommandError, match=f"authenticator apps {factors.pk}\\)"):
        call_command("rotate_mfa_keys", verbosity=0)

    readable.refresh_from_db()
    assert readable.encrypted_key != before


def test_reencrypting_an_unreadable_secret_says_so(settings, old_key: None) -> None:
    sealed = encrypt_secret(SECRET)
    rotate(settings, keep_old=False)

    with pytest.raises(UndecryptableSecret):
        reencrypt_secret(sealed)


# --- Access and refresh tokens ---------------------------------------------------------

OLD_JWT_KEY = "the-previous-jwt-signing-key-0123456789-abcdefgh"


def signed_with(token: str, key: str, **changes: object) -> str:
    """``token``'s claims, signed with ``key`` as before a rotation."""
    claims = jwt.decode(token, options={"verify_signature": False})
    return jwt.encode({**claims, **changes}, key, algorithm="HS256")


def test_tokens_signed_with_a_previous_key_work_until_they_expire(
    settings, tokens: dict
) -> None:
    """Tokens were signed with SECRET_KEY only: a new key signed every client out."""
    settings.JWT_SIGNING_KEY_FALLBACKS = ["not-this-one-" * 4, OLD_JWT_KEY]
    access = signed_with(tokens["access"], OLD_JWT_KEY)
    refresh = signed_with(tokens["refresh"], OLD_JWT_KEY)

    assert bearer(access).get("/api/v1/users/me/").status_code == 200
    refreshed = APIClient().post(
        "/api/v1/auth/token/refresh/", {"refresh": refresh}, format="json"
    )
    assert refreshed.status_code == 200, refreshed.content
    # The new pair is signed with the current key.
    settings.JWT_SIGNING_KEY_FALLBACKS = []
    assert (
        bearer(refreshed.json()["access"]).get("/api/v1/users/me/").status_code == 200
    )


def test_tokens_signed_with_a_key_no_longer_listed_are_refused(
    settings, tokens: dict
) -> None:
    settings.JWT_SIGNING_KEY_FALLBACKS = []

    response = bearer(signed_with(tokens["access"], OLD_JWT_KEY)).get(
        "/api/v1/users/me/"
    )

    assert response.status_code == 401


def test_an_expired_token_signed_with_a_previous_key_stays_expired(
    settings, tokens: dict
) -> None:
    settings.JWT_SIGNING_KEY_FALLBACKS = [OLD_JWT_KEY]
    expired = signed_with(tokens["refresh"], OLD_JWT_KEY, exp=int(time.time()) - 60)

    response = APIClient().post(
        "/api/v1/auth/token/refresh/", {"refresh": expired}, format="json"
    )

    assert response.status_code == 401


def test_an_emailed_code_is_compared_under_the_key_that_stored_it(
    settings, old_key: None
) -> None:
    from accounts.crypto import email_code_digest, email_code_digest_matching

    stored_before = email_code_digest("123456", login_id="login")
    rotate(settings, keep_old=True)
    current = email_code_digest("123456", login_id="login")

    assert current != stored_before
    assert (
        email_code_digest_matching("123456", login_id="login", stored=stored_before)
        == stored_before
    )
    # A wrong code, or no code stored: the current key's digest, which matches nothing.
    assert email_code_digest_matching(
        "654321", login_id="login", stored=stored_before
    ) == email_code_digest("654321", login_id="login")
    assert (
        email_code_digest_matching("123456", login_id="login", stored=None) == current
    )
