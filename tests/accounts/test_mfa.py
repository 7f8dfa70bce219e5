"""Two-factor authentication: enrolment and the two-step login, through the HTTP API."""

from __future__ import annotations

import re
import time
from base64 import b32decode
from collections.abc import Callable
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.test import override_settings
from django_otp.oath import TOTP
from rest_framework.test import APIClient

from accounts.models import (
    AuditEvent,
    AuthSession,
    EmailCodeDevice,
    RecoveryCode,
    RecoveryCodeSet,
    TOTPAuthenticator,
    User,
)
from tests.factories import DEFAULT_PASSWORD
from tests.helpers import bearer, otp_verified_staff_client

pytestmark = pytest.mark.django_db


def totp_code(secret: str, at: float | None = None, step: int = 30) -> str:
    padded = secret + "=" * (-len(secret) % 8)
    totp = TOTP(b32decode(padded), step=step)
    totp.time = at if at is not None else time.time()
    return f"{totp.token():06d}"


def enroll_totp(client: APIClient) -> tuple[str, list[str]]:
    setup = client.post("/api/v1/auth/mfa/totp/setup/")
    assert setup.status_code == 200, setup.content
    secret = setup.json()["secret"]
    # The previous step's code is still accepted. The clock stands still meanwhile: at a
    # step's last instant, the request could otherwise land two steps later (a rare flake).
    with time_machine.travel(time.time(), tick=False):
        confirm = client.post(
            "/api/v1/auth/mfa/totp/confirm/",
            {"code": totp_code(secret, time.time() - 30)},
            format="json",
        )
    assert confirm.status_code == 200, confirm.content
    return secret, confirm.json()["recovery_codes"]


def password_login(user: User) -> dict:
    response = APIClient().post(
        "/api/v1/auth/login/",
        {"login": user.username, "password": DEFAULT_PASSWORD},
        format="json",
    )
    assert response.status_code == 200, response.content
    return response.json()


def second_step(mfa_token: str, code: str, method: str | None = None):
    body = {"mfa_token": mfa_token, "code": code}
    if method:
        body["method"] = method
    return APIClient().post("/api/v1/auth/login/mfa/", body, format="json")


def test_setup_returns_a_secret_uri_and_qr_and_requires_nothing_yet(
    user: User, user_client: APIClient
) -> None:
    setup = user_client.post("/api/v1/auth/mfa/totp/setup/").json()

    assert re.fullmatch(r"[A-Z2-7]{32}", setup["secret"])
    assert setup["otpauth_uri"].startswith(
        f"otpauth://totp/Gatehouse%3A{user.email.replace('@', '%40')}?"
    )
    assert "issuer=Gatehouse" in setup["otpauth_uri"]
    assert setup["qr_code"].startswith("data:image/svg+xml")
    assert "access" in password_login(user)  # unconfirmed: login is unchanged
    # the secret is stored encrypted, never in clear
    stored = TOTPAuthenticator.objects.get(user=user).encrypted_key
    assert setup["secret"] not in stored
    assert b32decode(setup["secret"]) not in stored.encode()


def test_totp_journey_setup_confirm_login_with_code(
    user: User, user_client: APIClient
) -> None:
    secret, codes = enroll_totp(user_client)

    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert user_client.get("/api/v1/auth/mfa/").json() == {
        "totp": True,
        "email": False,
        "recovery_codes_remaining": 10,
    }
    challenge = password_login(user)
    assert challenge["mfa_required"] is True
    assert challenge["methods"] == ["totp", "recovery_code"]
    assert "access" not in challenge
    assert "refresh" not in challenge

    response = second_step(challenge["mfa_token"], totp_code(secret))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["user"]["mfa_enabled"] is True
    assert bearer(body["access"]).get("/api/v1/users/me/").json()["mfa_enabled"] is True
    assert AuthSession.objects.filter(user=user).count() == 2


def test_a_totp_code_cannot_be_replayed(user: User, user_client: APIClient) -> None:
    secret, _ = enroll_totp(user_client)
    code = totp_code(secret)
    assert second_step(password_login(user)["mfa_token"], code).status_code == 200

    replay = second_step(password_login(user)["mfa_token"], code)

    assert replay.status_code == 400
    assert replay.json()["code"] == "mfa_invalid"


def test_a_recovery_code_works_once(user: User, user_client: APIClient) -> None:
    _, codes = enroll_totp(user_client)

    first = second_step(
        password_login(user)["mfa_token"], codes[0].upper(), "recovery_code"
    )
    again = second_step(password_login(user)["mfa_token"], codes[0], "recovery_code")

    assert first.status_code == 200
    assert again.status_code == 400
    assert RecoveryCode.objects.filter(device__user=user).count() == 9


def test_the_mfa_token_dies_after_five_wrong_codes(
    user: User, user_client: APIClient, time_machine
) -> None:
    secret, _ = enroll_totp(user_client)
    time_machine.move_to(time.time(), tick=False)
    token = password_login(user)["mfa_token"]
    for wait in (1, 2, 4, 8, 16):  # each after django-otp's throttle delay
        assert second_step(token, "000000").status_code == 400
        time_machine.shift(wait)

    response = second_step(token, totp_code(secret))

    assert response.status_code == 401
    assert response.json()["code"] == "token_invalid"
    assert AuditEvent.objects.filter(kind="login.mfa_failed", target=user).count() == 5


def test_an_expired_mfa_token_is_refused(
    user: User, user_client: APIClient, time_machine
) -> None:
    secret, _ = enroll_totp(user_client)
    token = password_login(user)["mfa_token"]

    time_machine.move_to(time.time() + 301)
    response = second_step(token, totp_code(secret))

    assert response.status_code == 401


def test_the_mfa_token_is_not_an_access_token(
    user: User, user_client: APIClient
) -> None:
    enroll_totp(user_client)
    token = password_login(user)["mfa_token"]

    response = bearer(token).get("/api/v1/users/me/")

    assert response.status_code == 401
    refresh = APIClient().post(
        "/api/v1/auth/token/refresh/", {"refresh": token}, format="json"
    )
    assert refresh.status_code == 401


def test_the_mfa_token_works_once(user: User, user_client: APIClient) -> None:
    _, codes = enroll_totp(user_client)
    token = password_login(user)["mfa_token"]
    assert second_step(token, codes[0]).status_code == 200

    assert second_step(token, codes[1]).status_code == 401


def test_emailed_codes(user: User, user_client: APIClient) -> None:
    assert (
        user_client.post(
            "/api/v1/auth/mfa/email/", {"password": DEFAULT_PASSWORD}, format="json"
        ).status_code
        == 204
    )
    mail.outbox.clear()
    challenge = password_login(user)
    assert challenge["methods"] == ["email"]

    sent = APIClient().post(
        "/api/v1/auth/login/mfa/email/",
        {"mfa_token": challenge["mfa_token"]},
        format="json",
    )

    assert sent.status_code == 202
    [message] = mail.outbox
    code = re.search(r"\b(\d{6})\b", message.body).group(1)
    assert {alternative[1] for alternative in message.alternatives} == {"text/html"}
    assert second_step(challenge["mfa_token"], code, "email").status_code == 200


def test_the_email_device_model_sends_nothing_itself(user: User) -> None:
    # Models do no IO: the service mfa_email_code_send generates and emails the code.
    device = EmailCodeDevice.objects.create(
        user=user, name="Email codes", confirmed=True
    )
    mail.outbox.clear()

    with pytest.raises(NotImplementedError):
        device.generate_challenge()

    assert mail.outbox == []


@override_settings(MFA_EMAIL_ENABLED=False)
def test_emailed_codes_can_be_switched_off(user_client: APIClient) -> None:
    response = user_client.post(
        "/api/v1/auth/mfa/email/", {"password": DEFAULT_PASSWORD}, format="json"
    )

    assert response.status_code == 403
    assert response.json()["code"] == "mfa_method_disabled"


def test_turning_a_factor_off_needs_the_password(
    user: User, user_client: APIClient
) -> None:
    enroll_totp(user_client)

    response = user_client.delete(
        "/api/v1/auth/mfa/totp/", {"password": "wrong"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"password": ["The password is incorrect."]}
    assert TOTPAuthenticator.objects.filter(user=user, confirmed=True).exists()


def test_turning_mfa_off_revokes_the_other_sessions_and_notifies(
    user: User, user_client: APIClient, tokens: dict, login: Callable
) -> None:
    _, codes = enroll_totp(user_client)
    other = second_step(password_login(user)["mfa_token"], codes[0]).json()
    mail.outbox.clear()

    response = user_client.delete(
        "/api/v1/auth/mfa/totp/", {"password": DEFAULT_PASSWORD}, format="json"
    )

    assert response.status_code == 204
    assert bearer(other["access"]).get("/api/v1/users/me/").status_code == 401
    assert user_client.get("/api/v1/users/me/").status_code == 200
    assert not RecoveryCode.objects.filter(device__user=user).exists()
    assert "access" in password_login(user)
    [message] = mail.outbox
    assert message.to == [user.email]
    assert AuditEvent.objects.filter(kind="mfa.disabled", target=user).exists()


def test_new_recovery_codes_replace_the_old_ones(
    user: User, user_client: APIClient
) -> None:
    _, old = enroll_totp(user_client)

    response = user_client.post(
        "/api/v1/auth/mfa/recovery-codes/",
        {"password": DEFAULT_PASSWORD},
        format="json",
    )

    assert response.status_code == 200
    new = response.json()["recovery_codes"]
    # (new first: a failure makes django-otp's throttle refuse codes for a moment)
    assert second_step(password_login(user)["mfa_token"], new[0]).status_code == 200
    assert second_step(password_login(user)["mfa_token"], old[0]).status_code == 400


def test_the_oauth2_grant_refuses_accounts_with_mfa(
    user: User, user_client: APIClient
) -> None:
    from urllib.parse import urlencode

    enroll_totp(user_client)
    response = APIClient().post(
        "/api/v1/auth/token/",
        urlencode(
            {
                "grant_type": "password",
                "username": user.username,
                "password": DEFAULT_PASSWORD,
            }
        ),
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 403
    assert response.json()["code"] == "mfa_required"


def test_confirming_with_a_wrong_code_keeps_it_off(
    user: User, user_client: APIClient
) -> None:
    user_client.post("/api/v1/auth/mfa/totp/setup/")

    response = user_client.post(
        "/api/v1/auth/mfa/totp/confirm/", {"code": "123456"}, format="json"
    )

    assert response.status_code == 400
    assert "code" in response.json()["errors"]
    assert "access" in password_login(user)


def test_config_lists_the_methods() -> None:
    body = APIClient().get("/api/v1/config/").json()

    assert body["mfa_methods"] == ["totp", "recovery_code", "email"]


def test_staff_see_and_reset_mfa_in_the_admin(
    user: User, user_client: APIClient
) -> None:

    enroll_totp(user_client)
    admin, staff = otp_verified_staff_client()
    listing = admin.get("/admin/accounts/user/", {"q": user.username})
    assert 'alt="True"' in listing.content.decode()  # the MFA column

    response = admin.post(
        "/admin/accounts/user/",
        {"action": "reset_mfa", "_selected_action": [str(user.pk)]},
    )

    assert response.status_code == 302
    assert "access" in password_login(user)  # no second step any more
    event = AuditEvent.objects.get(kind="mfa.disabled", target=user)
    assert event.actor == staff
    assert event.payload == {"method": "all", "by_staff": True}


def test_deleting_the_account_removes_its_factors(
    user: User, user_client: APIClient
) -> None:
    enroll_totp(user_client)

    user_client.delete(
        "/api/v1/users/me/", {"password": DEFAULT_PASSWORD}, format="json"
    )

    assert not TOTPAuthenticator.objects.filter(user=user).exists()
    assert not RecoveryCode.objects.filter(device__user=user).exists()


@pytest.mark.urls("tests.config.urls")
def test_staff_without_mfa_must_set_it_up_for_staff_endpoints(login: Callable) -> None:
    from tests.factories import UserFactory

    staff = UserFactory(is_staff=True)
    client = bearer(login(staff)["access"])

    refused = client.get("/test/staff-only/")
    assert refused.status_code == 403
    assert refused.json()["code"] == "mfa_setup_required"

    _, codes = enroll_totp(client)
    session = second_step(password_login(staff)["mfa_token"], codes[0]).json()
    assert bearer(session["access"]).get("/test/staff-only/").status_code == 200


@pytest.mark.urls("tests.config.urls")
def test_staff_only_endpoints_refuse_other_users(user_client: APIClient) -> None:
    assert user_client.get("/test/staff-only/").status_code == 403


def test_me_shows_mfa_at_once_in_the_same_session(user_client: APIClient) -> None:
    assert user_client.get("/api/v1/users/me/").json()["mfa_enabled"] is False

    enroll_totp(user_client)

    assert user_client.get("/api/v1/users/me/").json()["mfa_enabled"] is True


def test_key_rotation_keeps_codes_working(user: User, user_client: APIClient) -> None:
    from cryptography.fernet import Fernet
    from django.core.management import call_command

    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(MFA_ENCRYPTION_KEYS=[old_key]):
        secret, _ = enroll_totp(user_client)
    before = TOTPAuthenticator.objects.get(user=user).encrypted_key

    with override_settings(MFA_ENCRYPTION_KEYS=[new_key, old_key]):
        call_command("rotate_mfa_keys", verbosity=0)
    after = TOTPAuthenticator.objects.get(user=user).encrypted_key

    assert after != before
    with override_settings(MFA_ENCRYPTION_KEYS=[new_key]):  # the old key is gone
        response = second_step(password_login(user)["mfa_token"], totp_code(secret))
    assert response.status_code == 200


# --- What each step refuses ------------------------------------------------------------


def enable_email_codes(client: APIClient):
    return client.post(
        "/api/v1/auth/mfa/email/", {"password": DEFAULT_PASSWORD}, format="json"
    )


def test_a_second_authenticator_app_needs_the_first_turned_off(
    user: User, user_client: APIClient
) -> None:
    secret, _ = enroll_totp(user_client)

    response = user_client.post("/api/v1/auth/mfa/totp/setup/")

    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    code = totp_code(secret)
    assert second_step(password_login(user)["mfa_token"], code).status_code == 200


def test_confirming_an_app_that_was_never_set_up_is_refused(
    user: User, user_client: APIClient
) -> None:
    response = user_client.post(
        "/api/v1/auth/mfa/totp/confirm/", {"code": "123456"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "mfa_not_set_up"
    assert not TOTPAuthenticator.objects.filter(user=user).exists()


def test_turning_emailed_codes_on_twice_changes_nothing(
    user: User, user_client: APIClient
) -> None:
    assert enable_email_codes(user_client).status_code == 204
    mail.outbox.clear()

    assert enable_email_codes(user_client).status_code == 204

    assert mail.outbox == []
    assert AuditEvent.objects.filter(kind="mfa.enabled", target=user).count() == 1


def test_turning_one_factor_off_keeps_the_other_and_the_sessions(
    user: User, user_client: APIClient
) -> None:
    # Given an authenticator app, emailed codes and a second session
    _, codes = enroll_totp(user_client)
    assert enable_email_codes(user_client).status_code == 204
    other = second_step(password_login(user)["mfa_token"], codes[0]).json()

    # When emailed codes are turned off
    response = user_client.delete(
        "/api/v1/auth/mfa/email/", {"password": DEFAULT_PASSWORD}, format="json"
    )

    # Then the app and the recovery codes still guard the login, and no session ended
    assert response.status_code == 204
    assert user_client.get("/api/v1/auth/mfa/").json() == {
        "totp": True,
        "email": False,
        "recovery_codes_remaining": 9,
    }
    assert password_login(user)["methods"] == ["totp", "recovery_code"]
    assert bearer(other["access"]).get("/api/v1/users/me/").status_code == 200
    event = AuditEvent.objects.get(kind="mfa.disabled", target=user)
    assert event.payload == {"method": "email"}


@pytest.mark.parametrize("method", ["totp", "email"])
def test_turning_off_a_factor_that_is_not_on_is_not_found(
    user: User, user_client: APIClient, method: str
) -> None:
    response = user_client.delete(
        f"/api/v1/auth/mfa/{method}/", {"password": DEFAULT_PASSWORD}, format="json"
    )

    assert response.status_code == 404
    assert not AuditEvent.objects.filter(kind="mfa.disabled").exists()


def test_recovery_codes_need_a_factor_first(user: User, user_client: APIClient) -> None:
    response = user_client.post(
        "/api/v1/auth/mfa/recovery-codes/",
        {"password": DEFAULT_PASSWORD},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "mfa_not_set_up"
    assert not RecoveryCode.objects.filter(device__user=user).exists()


def test_an_account_deactivated_during_the_second_step_cannot_finish_it(
    user: User, user_client: APIClient, django_capture_on_commit_callbacks
) -> None:
    secret, _ = enroll_totp(user_client)
    token = password_login(user)["mfa_token"]
    with django_capture_on_commit_callbacks(execute=True):
        user.is_active = False
        user.save()

    response = second_step(token, totp_code(secret))

    assert response.status_code == 401
    assert response.json()["code"] == "token_invalid"
    assert AuthSession.objects.filter(user=user).count() == 1  # user_client's only


def test_two_requests_finishing_one_sign_in_open_one_session(
    user: User, user_client: APIClient
) -> None:
    # Given a sign-in waiting for its second step, and two recovery codes
    _, codes = enroll_totp(user_client)
    token = password_login(user)["mfa_token"]
    verify = RecoveryCodeSet.verify_token
    first: list = []

    def verify_after_the_other_request(device: RecoveryCodeSet, code: str) -> bool:
        if not first:  # the other request, with another code, finishes meanwhile
            first.append(None)
            first.append(second_step(token, codes[0], "recovery_code"))
        return verify(device, code)

    # When one request sends the token while another one with the same token succeeds
    with mock.patch.object(
        RecoveryCodeSet,
        "verify_token",
        autospec=True,
        side_effect=verify_after_the_other_request,
    ):
        late = second_step(token, codes[1], "recovery_code")

    # Then the attempt opened one session: the late request's code was right, too late
    assert first[1].status_code == 200
    assert late.status_code == 401
    assert late.json()["code"] == "token_invalid"
    assert AuthSession.objects.filter(user=user).count() == 2  # user_client's + one


def test_emailed_codes_are_not_sent_for_an_account_without_them(
    user: User, user_client: APIClient
) -> None:
    enroll_totp(user_client)
    mail.outbox.clear()

    response = APIClient().post(
        "/api/v1/auth/login/mfa/email/",
        {"mfa_token": password_login(user)["mfa_token"]},
        format="json",
    )

    assert response.status_code == 403
    assert response.json()["code"] == "mfa_method_disabled"
    assert mail.outbox == []


def test_when_emailed_codes_are_switched_off_an_account_with_only_them_signs_in(
    user: User, user_client: APIClient, settings
) -> None:
    assert enable_email_codes(user_client).status_code == 204

    settings.MFA_EMAIL_ENABLED = False
    answer = password_login(user)

    # No factor the server accepts: the password is the only step, as before enrolment.
    assert "access" in answer
    assert "mfa_token" not in answer


def test_a_secret_sealed_with_a_key_no_longer_configured_cannot_be_read(
    settings,
) -> None:
    from cryptography.fernet import Fernet

    from accounts.crypto import decrypt_secret, encrypt_secret

    settings.MFA_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    sealed = encrypt_secret(b"0" * 20)
    settings.MFA_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(ValueError, match="MFA_ENCRYPTION_KEYS"):
        decrypt_secret(sealed)
