"""Re-authentication before sensitive changes, and the audit of wrong current passwords
(issue 12: Medium 1 and Low).

Before, a wrong current password left no trace: the audit event was written inside the
transaction the failure rolled back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from accounts.constants import AuditKind
from accounts.crypto import encrypt_secret
from accounts.models import AuditEvent, EmailCodeDevice, TOTPAuthenticator, User
from accounts.services.mfa import totp_confirm
from config.client import SYSTEM
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

WRONG = "not the password at all"
NEW_PASSWORD = "a brand new passphrase, long enough"

Call = Callable[[APIClient], Any]

# endpoint -> (the call with a wrong password, the field, the audited action)
CONFIRMED_CHANGES: dict[str, tuple[Call, str, str]] = {
    "password change": (
        lambda client: client.post(
            "/api/v1/auth/password/change/",
            {"current_password": WRONG, "new_password": NEW_PASSWORD},
        ),
        "current_password",
        "password_change",
    ),
    "account deletion": (
        lambda client: client.delete("/api/v1/users/me/", {"password": WRONG}),
        "password",
        "account_deletion",
    ),
    "authenticator app off": (
        lambda client: client.delete("/api/v1/auth/mfa/totp/", {"password": WRONG}),
        "password",
        "mfa_totp_off",
    ),
    "emailed codes off": (
        lambda client: client.delete("/api/v1/auth/mfa/email/", {"password": WRONG}),
        "password",
        "mfa_email_off",
    ),
    "emailed codes on": (
        lambda client: client.post("/api/v1/auth/mfa/email/", {"password": WRONG}),
        "password",
        "mfa_email_on",
    ),
    "new recovery codes": (
        lambda client: client.post(
            "/api/v1/auth/mfa/recovery-codes/", {"password": WRONG}
        ),
        "password",
        "recovery_codes",
    ),
    "email change": (
        lambda client: client.post(
            "/api/v1/users/me/email/",
            {"new_email": "new@example.com", "password": WRONG},
        ),
        "password",
        "email_change",
    ),
    "authenticator app on": (
        lambda client: client.post(
            "/api/v1/auth/mfa/totp/confirm/", {"code": "123456", "password": WRONG}
        ),
        "password",
        "totp_confirm",
    ),
}


def with_factors(user: User) -> None:
    TOTPAuthenticator.objects.create(
        user=user, name="app", confirmed=True, encrypted_key=encrypt_secret(b"1" * 20)
    )
    EmailCodeDevice.objects.create(user=user, name="Email codes", confirmed=True)


def what_could_change(user: User) -> dict[str, Any]:
    user = User.objects.get(pk=user.pk)
    return {
        "password": user.password,
        "email": user.email,
        "active": user.is_active,
        "factors": (
            TOTPAuthenticator.objects.filter(user=user).count(),
            EmailCodeDevice.objects.filter(user=user).count(),
        ),
    }


@pytest.mark.parametrize("change", CONFIRMED_CHANGES)
def test_a_wrong_current_password_is_refused_and_audited(
    change: str, user: User, user_client: APIClient
) -> None:
    call, field, action = CONFIRMED_CHANGES[change]
    with_factors(user)
    user_client.default_format = "json"
    before = what_could_change(user)

    response = call(user_client)

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "validation_error"
    assert list(body["errors"]) == [field]
    assert what_could_change(user) == before
    event = AuditEvent.objects.get(kind=AuditKind.PASSWORD_CONFIRMATION_FAILED)
    assert (event.actor, event.target) == (user, user)
    assert event.payload == {"action": action}
    # Only the failure is recorded: the change's own event rolled back with it.
    assert set(
        AuditEvent.objects.filter(target=user).values_list("kind", flat=True)
    ) == {AuditKind.LOGIN_SUCCEEDED, AuditKind.PASSWORD_CONFIRMATION_FAILED}


def test_the_right_password_is_not_audited_as_a_failure(
    user: User, user_client: APIClient
) -> None:
    response = user_client.post(
        "/api/v1/auth/password/change/",
        {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
        format="json",
    )

    assert response.status_code == 204
    assert not AuditEvent.objects.filter(
        kind=AuditKind.PASSWORD_CONFIRMATION_FAILED
    ).exists()


def test_turning_the_app_on_outside_a_session_needs_the_password(user: User) -> None:
    """A caller acting through no session (a command, a job) has no recent sign-in."""
    with pytest.raises(ValidationError) as refused:
        totp_confirm(actor=user, code="123456", client=SYSTEM)

    assert refused.value.message_dict == {
        "password": ["Enter your password again to continue."]
    }


def test_wrong_passwords_are_limited_per_account_across_endpoints(
    user: User, user_client: APIClient, settings
) -> None:
    """A stolen access token is no oracle for the password: after the limit of wrong
    current passwords (every confirmed change together), even the right one is refused
    until the window ends."""
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "password_confirmation_failures_per_user": "3/h",
    }
    user_client.default_format = "json"
    for change in ("password change", "email change", "emailed codes on"):
        call, _, _ = CONFIRMED_CHANGES[change]
        assert call(user_client).status_code == 400

    response = user_client.post(
        "/api/v1/auth/password/change/",
        {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
    )

    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_right_passwords_do_not_count_toward_the_limit(
    user: User, user_client: APIClient, settings
) -> None:
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "password_confirmation_failures_per_user": "1/h",
    }

    for _ in range(2):
        response = user_client.post(
            "/api/v1/auth/mfa/email/", {"password": DEFAULT_PASSWORD}, format="json"
        )
        assert response.status_code == 204
