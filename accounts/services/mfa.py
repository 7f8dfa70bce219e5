"""Two-factor authentication on django-otp devices: enrolment, recovery codes, and the
second step of login."""

from __future__ import annotations

import math
import secrets
import uuid
from base64 import b32encode
from datetime import datetime
from urllib.parse import quote, urlencode

import segno
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_otp.models import Device
from django_otp.plugins.otp_email.models import EmailDevice

from accounts.access import Action, Actor, person, target_for
from accounts.constants import (
    AMR_PASSWORD_AND_SECOND_FACTOR,
    AuditKind,
    RevokeReason,
)
from accounts.crypto import (
    email_code_digest,
    email_code_digest_matching,
    encrypt_secret,
    recovery_code_digest,
)
from accounts.emails import send_account_email
from accounts.models import (
    EmailCodeDevice,
    RecoveryCode,
    RecoveryCodeSet,
    TOTPAuthenticator,
    User,
)
from accounts.selectors import mfa_methods
from accounts.services.audit import audit_record
from accounts.services.login import LoginResult, login_complete, raise_if_banned
from accounts.services.reauthentication import audits_wrong_password, reauthenticate
from accounts.services.sessions import sessions_revoke_all
from accounts.tokens import MfaClaims, read_mfa_token
from config.client import ClientInfo
from config.error_codes import ApplicationError

MFA_CHANGED_EMAIL = "account/email/mfa_changed"
MFA_EMAIL_CODE_EMAIL = "account/email/login_code_mfa"
RECOVERY_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


# --- enrolment -------------------------------------------------------------------------


def _notify(user: User, change: str) -> None:
    send_account_email(
        template_prefix=MFA_CHANGED_EMAIL, user=user, context={"change": change}
    )


def totp_provisioning_uri(*, secret: bytes, email: str) -> str:
    """``otpauth://`` for authenticator apps: issuer = ``SITE_NAME``, account = the email."""
    issuer = settings.SITE_NAME.replace(":", "")
    label = quote(f"{issuer}:{email}")
    query = urlencode(
        {
            "secret": b32encode(secret).decode().rstrip("="),
            "issuer": issuer,
            "algorithm": "SHA1",
            "digits": 6,
            "period": settings.MFA_TOTP_STEP,
        }
    )
    return f"otpauth://totp/{label}?{query}"


@transaction.atomic
def totp_setup(*, actor: User) -> dict[str, str]:
    """A fresh secret for the actor's authenticator app. Nothing is required at login
    until ``totp_confirm`` sees a valid code; a new setup replaces an unconfirmed one."""
    user = User.objects.select_for_update().get(pk=actor.pk)
    if TOTPAuthenticator.objects.filter(user=user, confirmed=True).exists():
        raise ApplicationError(
            "conflict",
            "An authenticator app is already set up; turn it off first.",
        )
    TOTPAuthenticator.objects.filter(user=user, confirmed=False).delete()
    device = TOTPAuthenticator.objects.create(
        user=user,
        name="Authenticator app",
        confirmed=False,
        encrypted_key=encrypt_secret(secrets.token_bytes(20)),
        step=settings.MFA_TOTP_STEP,
    )
    return totp_setup_details(device=device, email=user.email)


def totp_setup_details(*, device: TOTPAuthenticator, email: str) -> dict[str, str]:
    """What an authenticator app needs to add ``device`` (not yet confirmed): the secret,
    the ``otpauth://`` URI and its QR code. The admin's enrolment page shows them again
    when a wrong code brings it back."""
    secret = device.bin_key
    uri = totp_provisioning_uri(secret=secret, email=email)
    return {
        "secret": b32encode(secret).decode().rstrip("="),
        "otpauth_uri": uri,
        "qr_code": segno.make(uri, error="m").svg_data_uri(scale=4),
    }


def _new_recovery_codes(user: User) -> list[str]:
    device, _ = RecoveryCodeSet.objects.get_or_create(
        user=user, defaults={"name": "Recovery codes", "confirmed": True}
    )
    device.codes.all().delete()
    codes = [
        "-".join(
            "".join(secrets.choice(RECOVERY_CODE_ALPHABET) for _ in range(5))
            for _ in range(2)
        )
        for _ in range(settings.MFA_RECOVERY_CODES)
    ]
    RecoveryCode.objects.bulk_create(
        [
            RecoveryCode(device=device, digest=recovery_code_digest(code))
            for code in codes
        ]
    )
    return codes


@audits_wrong_password
@transaction.atomic
def totp_confirm(
    *, actor: User, code: str, client: ClientInfo, password: str | None = None
) -> list[str]:
    """Turn the app on with a code it shows; returns new recovery codes (shown once).

    Re-authentication: the password, unless the session signed in within
    ``REAUTH_WINDOW_SECONDS`` (a stolen access token of an older session cannot put a
    thief's app on the account)."""
    user = User.objects.select_for_update().get(pk=actor.pk)
    reauthenticate(
        actor=actor,
        user=user,
        password=password,
        client=client,
        action="totp_confirm",
        recent_sign_in_suffices=True,
    )
    device = TOTPAuthenticator.objects.filter(user=user, confirmed=False).first()
    if device is None:
        raise ApplicationError(
            "mfa_not_set_up", "Start with mfa/totp/setup/ to get a secret."
        )
    if not device.verify_token(code):
        raise ValidationError({"code": ["This code is wrong or expired."]})
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _new_recovery_codes(user)
    audit_record(
        kind=AuditKind.MFA_ENABLED,
        client=client,
        actor=user,
        target=user,
        payload={"method": "totp"},
    )
    _notify(user, "An authenticator app now protects your account.")
    return codes


@audits_wrong_password
@transaction.atomic
def email_codes_enable(*, actor: User, password: str, client: ClientInfo) -> None:
    if not settings.MFA_EMAIL_ENABLED:
        raise ApplicationError(
            "mfa_method_disabled",
            "Emailed codes are switched off on this server.",
        )
    user = User.objects.select_for_update().get(pk=actor.pk)
    reauthenticate(
        actor=actor, user=user, password=password, client=client, action="mfa_email_on"
    )
    if EmailDevice.objects.filter(user=user, confirmed=True).exists():
        return
    EmailCodeDevice.objects.create(user=user, name="Email codes", confirmed=True)
    audit_record(
        kind=AuditKind.MFA_ENABLED,
        client=client,
        actor=user,
        target=user,
        payload={"method": "email"},
    )
    _notify(user, "Sign-in codes sent by email now protect your account.")


def _factor_off(
    *, user: User, method: str, client: ClientInfo, current_session_id: uuid.UUID | None
) -> None:
    audit_record(
        kind=AuditKind.MFA_DISABLED,
        client=client,
        actor=user,
        target=user,
        payload={"method": method},
    )
    if not mfa_methods(user):
        # No second factor left: the recovery codes go, and so do the other sessions,
        # in case turning it off was done by someone who should not have been able to.
        RecoveryCodeSet.objects.filter(user=user).delete()
        sessions_revoke_all(
            user=user,
            reason=RevokeReason.MFA_DISABLED,
            client=client,
            keep_session_id=current_session_id,
            audit=False,
        )
    _notify(user, f"A two-factor method was turned off ({method}).")


FACTOR_DEVICES: dict[str, type[Device]] = {
    "totp": TOTPAuthenticator,
    "email": EmailDevice,
}
NOT_ON = {
    "totp": "No authenticator app is set up.",
    "email": "Emailed codes are not turned on.",
}


@audits_wrong_password
@transaction.atomic
def factor_disable(
    *,
    actor: User,
    method: str,
    password: str,
    client: ClientInfo,
    current_session_id: uuid.UUID,
) -> None:
    """Turn one of the actor's second factors off (``totp`` or ``email``), confirmed with
    the password."""
    user = User.objects.select_for_update().get(pk=actor.pk)
    reauthenticate(
        actor=actor,
        user=user,
        password=password,
        client=client,
        action=f"mfa_{method}_off",
    )
    if not FACTOR_DEVICES[method].objects.filter(user=user).delete()[0]:
        raise ApplicationError("not_found", NOT_ON[method])
    _factor_off(
        user=user, method=method, client=client, current_session_id=current_session_id
    )


@audits_wrong_password
@transaction.atomic
def recovery_codes_regenerate(
    *, actor: User, password: str, client: ClientInfo
) -> list[str]:
    user = User.objects.select_for_update().get(pk=actor.pk)
    reauthenticate(
        actor=actor,
        user=user,
        password=password,
        client=client,
        action="recovery_codes",
    )
    if not mfa_methods(user):
        raise ApplicationError("mfa_not_set_up", "Turn on a two-factor method first.")
    codes = _new_recovery_codes(user)
    audit_record(
        kind=AuditKind.MFA_RECOVERY_CODES_REGENERATED,
        client=client,
        actor=user,
        target=user,
    )
    _notify(user, "New recovery codes were created; the old ones no longer work.")
    return codes


def mfa_reset_by_staff(*, actor: Actor, user_id: uuid.UUID, client: ClientInfo) -> None:
    """Remove every factor of a locked-out user (staff, by ``accounts.access``; audited)."""
    with transaction.atomic():
        user = target_for(actor, Action.RESET_MFA, user_id, for_update=True)
        TOTPAuthenticator.objects.filter(user=user).delete()
        EmailDevice.objects.filter(user=user).delete()
        RecoveryCodeSet.objects.filter(user=user).delete()
        audit_record(
            kind=AuditKind.MFA_DISABLED,
            client=client,
            actor=person(actor),
            target=user,
            payload={"method": "all", "by_staff": True},
        )
        _notify(user, "Our team turned off two-factor authentication on your account.")


# --- the second step of login ----------------------------------------------------------


def _attempts_key(claims: MfaClaims) -> str:
    return f"mfa:attempts:{claims.jti}"


def _live_claims(mfa_token: str) -> MfaClaims:
    claims = read_mfa_token(mfa_token)
    attempts = cache.get(_attempts_key(claims), 0)
    if attempts >= settings.MFA_TOKEN_MAX_ATTEMPTS or cache.get(
        f"mfa:used:{claims.jti}"
    ):
        raise ApplicationError(
            "token_invalid",
            "This sign-in attempt has ended. Sign in again.",
        )
    return claims


def _reserve_try(claims: MfaClaims) -> None:
    """Take one of the token's ``MFA_TOKEN_MAX_ATTEMPTS`` tries before a code is checked.

    The cache's ``incr`` is atomic, so of any number of concurrent codes sent with one
    token at most that many are ever checked; the rest end as a spent token would."""
    key = _attempts_key(claims)
    cache.add(key, 0, settings.MFA_TOKEN_LIFETIME)
    if cache.incr(key) > settings.MFA_TOKEN_MAX_ATTEMPTS:
        raise ApplicationError(
            "token_invalid",
            "This sign-in attempt has ended. Sign in again.",
        )


def _retry_later(until: datetime, reason: str) -> ApplicationError:
    """``429 rate_limited`` with ``Retry-After``: the whole seconds until ``until``."""
    seconds = max(math.ceil((until - timezone.now()).total_seconds()), 1)
    return ApplicationError(
        "rate_limited",
        f"{reason} Try again in {seconds} seconds.",
        headers={"Retry-After": str(seconds)},
        extra={"retry_after": seconds},
    )


LOGIN_DEVICES: dict[str, type[Device]] = {
    "totp": TOTPAuthenticator,
    "email": EmailCodeDevice,
    "recovery_code": RecoveryCodeSet,
}


RECOVERY_CODE_LENGTH = 10  # characters, as _new_recovery_codes makes them (dash aside)


def _could_be(method: str, code: str) -> bool:
    """Whether ``code`` has the shape of ``method``'s codes: digits for an app or an
    emailed code, 10 characters (dash and spaces aside) for a recovery code."""
    if method == "recovery_code":
        return len(code.replace("-", "").replace(" ", "")) == RECOVERY_CODE_LENGTH
    return code.isdigit()


def _candidate_devices(user: User, methods: list[str], code: str) -> list[Device]:
    """The user's devices for those of ``methods`` that ``code`` could be, locked until
    the transaction ends: concurrent codes for one device are checked one after another,
    so django-otp's throttle sees every failure, and an app's code or an emailed code is
    accepted once.

    A code sent without ``method`` is thus not tried where it cannot be right: the
    failure would throttle that device, whose throttle would then hold up the right
    code of another method (a recovery code after a wrong app code)."""
    devices: list[Device] = []
    for method in (method for method in methods if _could_be(method, code)):
        found = LOGIN_DEVICES[method].objects.select_for_update().filter(user=user)
        if method != "recovery_code":
            found = found.filter(confirmed=True)
        devices += found.order_by("pk")
    return devices


def _raise_if_throttled(devices: list[Device]) -> None:
    """django-otp's throttle (a growing delay after each wrong code, per device) refuses
    to check codes: then none is checked and no try of the token is used, and the answer
    is ``429`` until every device in question takes codes again. A right code is never
    reported as wrong."""
    refusals = [device.verify_is_allowed() for device in devices]  # type: ignore[no-untyped-call]
    locked_until = [
        refusal["locked_until"] for allowed, refusal in refusals if not allowed
    ]
    if locked_until:
        raise _retry_later(max(locked_until), "Too many wrong codes.")


def _device_verifies(device: Device, code: str, claims: MfaClaims) -> bool:
    if isinstance(device, EmailDevice):
        # The device holds the code bound to the login that asked for it
        # (mfa_email_code_send): another mfa_token's login cannot use it. A code sent
        # just before SECRET_KEY changed is digested under the previous key.
        code = email_code_digest_matching(
            code, login_id=claims.jti, stored=device.token
        )
    return bool(device.verify_token(code))  # type: ignore[no-untyped-call]


def admin_code_verify(*, user: User, code: str) -> Device | None:
    """The device that accepts ``code`` at the admin's sign-in, or ``None``: the user's
    authenticator app for a code of digits, their recovery codes for one of ten
    characters (a recovery code used is gone). The admin has one answer for every
    failure, so a device django-otp's throttle holds (``verify_token`` then checks
    nothing) is just ``None`` too. Emailed codes belong to an API login (each is bound to
    its ``mfa_token``): the admin takes none."""
    code = code.strip()
    methods = [method for method in mfa_methods(user) if method != "email"]
    with transaction.atomic():
        for device in _candidate_devices(user, methods, code):
            if device.verify_token(code):  # type: ignore[no-untyped-call]
                return device
    return None


def mfa_login(
    *, mfa_token: str, code: str, method: str | None, client: ClientInfo
) -> LoginResult:
    """Finish a login with a second factor: the session is created exactly as a
    password-only login creates it. The token dies after its last allowed wrong code and
    after its one success."""
    claims = _live_claims(mfa_token)
    user = User.objects.filter(pk=claims.user_id, is_active=True).first()
    if user is None:
        raise ApplicationError("token_invalid", "This sign-in attempt has ended.")
    methods = mfa_methods(user)
    tried = [method] if method in methods else methods if method is None else []
    code = code.strip()
    raise_if_banned(user)
    with transaction.atomic():
        devices = _candidate_devices(user, tried, code)
        _raise_if_throttled(devices)
        _reserve_try(claims)
        verified = any(_device_verifies(device, code, claims) for device in devices)
        if not verified:
            audit_record(kind=AuditKind.MFA_FAILED, client=client, target=user)
    if verified:
        if not cache.add(f"mfa:used:{claims.jti}", 1, settings.MFA_TOKEN_LIFETIME):
            raise ApplicationError("token_invalid", "This sign-in attempt has ended.")
        return login_complete(
            user=user, client=client, amr=AMR_PASSWORD_AND_SECOND_FACTOR
        )
    raise ApplicationError("mfa_invalid", "This code is wrong or expired.")


def mfa_login_email_code(*, mfa_token: str) -> None:
    """Email a one-time code to a user in the middle of a login, if that method is on.

    The code works only with this ``mfa_token``. Another is sent only after the device's
    cooldown (``MFA_EMAIL_RESEND_SECONDS``, django-otp's ``CooldownMixin``): before, the
    answer is ``429`` and nothing is sent (the caller proved the password, so this tells
    nothing about the account)."""
    claims = _live_claims(mfa_token)
    with transaction.atomic():
        device = (
            EmailCodeDevice.objects.select_for_update()
            .filter(user_id=claims.user_id, confirmed=True, user__is_active=True)
            .first()
        )
        if device is None or not settings.MFA_EMAIL_ENABLED:
            raise ApplicationError(
                "mfa_method_disabled",
                "Emailed codes are not turned on for this account.",
            )
        allowed, refusal = device.generate_is_allowed()  # type: ignore[no-untyped-call]
        if not allowed:
            raise _retry_later(
                refusal["next_generation_at"], "A code was emailed moments ago."
            )
        mfa_email_code_send(device=device, login_id=claims.jti)


@transaction.atomic
def mfa_email_code_send(*, device: EmailCodeDevice, login_id: str) -> None:
    """Give ``device`` a fresh one-time code for the login ``login_id`` (an ``mfa_token``'s
    ``jti``) and email it to its user after commit.

    django-otp's ``generate_token`` makes the code and its expiry
    (``MFA_EMAIL_CODE_VALIDITY`` seconds); the device keeps only the code's digest bound
    to ``login_id`` (``accounts.crypto.email_code_digest``), and starts its resend
    cooldown. A new code replaces the last. The code appears in the body of the email,
    never in its subject (which lock screens and mail lists show).
    """
    device.generate_token(  # type: ignore[no-untyped-call]  # django-otp has no annotations
        length=settings.MFA_EMAIL_CODE_LENGTH,
        valid_secs=settings.MFA_EMAIL_CODE_VALIDITY,
        commit=False,
    )
    code = str(device.token)  # just set by generate_token
    device.token = email_code_digest(code, login_id=login_id)
    device.cooldown_set(commit=True)  # type: ignore[no-untyped-call]
    send_account_email(
        template_prefix=MFA_EMAIL_CODE_EMAIL,
        user=device.user,
        context={
            "code": code,
            "minutes": settings.MFA_EMAIL_CODE_VALIDITY // 60,
        },
    )
