"""Second factors: django-otp devices (authenticator apps, recovery codes, emailed codes)."""

from __future__ import annotations

import logging
import time

from django.db import models
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP
from django_otp.plugins.otp_email.models import EmailDevice

from accounts.crypto import UndecryptableSecret, decrypt_secret, recovery_code_digests

logger = logging.getLogger(__name__)


class TOTPAuthenticator(TimestampMixin, ThrottlingMixin, Device):
    """An authenticator app (TOTP): django-otp's ``TOTPDevice`` with its secret encrypted
    at rest (``accounts.crypto``); the plugin's own model stores it in clear, so it is not
    installed. ``confirmed`` stays false until the user proves the app works; only then is
    it required at login."""

    encrypted_key = models.TextField()
    step = models.PositiveSmallIntegerField(default=30)
    t0 = models.BigIntegerField(default=0)
    digits = models.PositiveSmallIntegerField(default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    # The time step of the last accepted code: a code is never accepted twice.
    last_t = models.BigIntegerField(default=-1)

    class Meta(Device.Meta):
        verbose_name = "authenticator app"

    @property
    def bin_key(self) -> bytes:
        return decrypt_secret(self.encrypted_key)

    def get_throttle_factor(self) -> int:
        return 1  # seconds, doubled after each failure (django-otp's ThrottlingMixin)

    def verify_token(self, token: str) -> bool:
        """As django-otp's ``TOTPDevice.verify_token``: its ``TOTP`` checks the code within
        ``tolerance`` steps, only at a step after ``last_t`` (no replay), and failures are
        throttled (``ThrottlingMixin``: growing delays between attempts)."""
        verify_allowed, _ = self.verify_is_allowed()
        if not verify_allowed:
            return False
        try:
            code = int(token)
        except (TypeError, ValueError):
            code = None
        try:
            key = self.bin_key
        except UndecryptableSecret:
            # Not the user's mistake, so not a throttled failure: the code is refused
            # (another factor or a recovery code still works) and the operator is told.
            logger.error(
                "The secret of authenticator app %s cannot be decrypted: the key that "
                "encrypted it is gone. Put the previous SECRET_KEY back in "
                "SECRET_KEY_FALLBACKS (or the old key in MFA_ENCRYPTION_KEYS), then run "
                "`manage.py rotate_mfa_keys`.",
                self.pk,
            )
            return False
        totp = TOTP(key, self.step, self.t0, self.digits, self.drift)
        totp.time = time.time()
        if code is not None and totp.verify(code, self.tolerance, self.last_t + 1):
            self.last_t = totp.t()
            self.drift = totp.drift
            self.throttle_reset(commit=False)
            self.set_last_used_timestamp(commit=False)
            self.save()
            return True
        self.throttle_increment(commit=True)
        return False


class RecoveryCodeSet(ThrottlingMixin, Device):
    """Single-use recovery codes (django-otp's static-device idea), stored as digests."""

    class Meta(Device.Meta):
        verbose_name = "recovery codes"
        verbose_name_plural = "recovery codes"

    def get_throttle_factor(self) -> int:
        return 1

    def verify_token(self, token: str) -> bool:
        verify_allowed, _ = self.verify_is_allowed()
        if not verify_allowed:
            return False
        # The digest under the current SECRET_KEY, or under a fallback for codes made
        # before a rotation.
        digests = recovery_code_digests(str(token))
        used = self.codes.filter(digest__in=digests).delete()[0]
        if used:
            self.throttle_reset()
        else:
            self.throttle_increment()
        return bool(used)


class RecoveryCode(models.Model):
    """One unused recovery code; deleted when used."""

    device = models.ForeignKey(
        RecoveryCodeSet, on_delete=models.CASCADE, related_name="codes"
    )
    digest = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["device", "digest"], name="accounts_recovery_code_unique"
            )
        ]

    def __str__(self) -> str:
        return f"recovery code of {self.device_id}"


class EmailCodeDevice(EmailDevice):
    """Codes sent by email (django-otp's ``EmailDevice``), through Gatehouse's email path:
    templated, queued after commit. The weaker factor; ``MFA_EMAIL_ENABLED`` switches it.

    The model does no IO: ``accounts.services.mfa.mfa_email_code_send`` generates a code
    and emails it (the API's ``login/mfa/email/`` calls it). ``token`` holds not the code
    but its digest bound to the login that asked for it (``email_code_digest``), and
    django-otp's cooldown (``MFA_EMAIL_RESEND_SECONDS``) spaces the emails."""

    class Meta:
        proxy = True
        verbose_name = "emailed sign-in codes"
        verbose_name_plural = "emailed sign-in codes"

    def generate_challenge(self, extra_context: dict | None = None) -> str:
        # django-otp's own version mails the code itself, inline and outside Gatehouse's
        # templates and queue: no caller may reach it by accident.
        raise NotImplementedError(
            "Codes are sent by accounts.services.mfa.mfa_email_code_send."
        )
