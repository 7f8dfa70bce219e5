from __future__ import annotations

import time
import unicodedata
import uuid
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP
from django_otp.plugins.otp_email.models import EmailDevice
from guardian.models import UserObjectPermissionBase

from accounts.constants import AuditKind, RevokeReason
from accounts.crypto import decrypt_secret, recovery_code_digest
from accounts.roles import roles_of
from accounts.validators import (
    USERNAME_MAX_LENGTH,
    USERNAME_PATTERN,
    USERNAME_RULE,
    validate_language,
    validate_timezone,
    validate_username,
)


def normalize_username(username: str) -> str:
    """Usernames are compared case-insensitively, so they are stored folded to lowercase."""
    return unicodedata.normalize("NFKC", username).strip().lower()


def normalize_email(email: str) -> str:
    """Addresses are stored lowercased, as allauth stores them; uniqueness ignores case."""
    return email.strip().lower()


class UserManager(DjangoUserManager["User"]):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        return normalize_email(email or "")

    def get_by_natural_key(self, username: str | None) -> User:
        # Stored usernames are lowercase, so any casing the user types finds the account.
        return self.get(username=normalize_username(username or ""))

    def _create_user(
        self,
        username: str,
        email: str | None,
        password: str | None,
        **extra_fields: Any,
    ) -> User:
        extra_fields.setdefault("display_name", normalize_username(username))
        return super()._create_user(username, email, password, **extra_fields)


class User(AbstractUser):
    """A person with an account.

    The primary key is a UUID: no sequential id ever appears in a URL or body. ``username``
    (3 to 32 lowercase letters, digits, underscores) and ``email`` are unique whatever their
    case; the database enforces both. Whether an address is verified lives in allauth's
    ``EmailAddress``, never here.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    username = models.CharField(
        "username",
        max_length=USERNAME_MAX_LENGTH,
        unique=True,
        validators=[validate_username],
        help_text="3 to 32 characters: lowercase letters, digits and underscores.",
        error_messages={"unique": "This username is taken."},
    )
    email = models.EmailField("email address", max_length=254)
    display_name = models.CharField(
        max_length=64, blank=True, help_text="Defaults to the username."
    )
    bio = models.CharField(max_length=500, blank=True)
    phone = models.CharField(
        max_length=32, blank=True, help_text="E.164, e.g. +33612345678."
    )
    timezone = models.CharField(
        max_length=64, default="UTC", validators=[validate_timezone]
    )
    language = models.CharField(
        max_length=16, default="en", validators=[validate_language]
    )

    objects = UserManager()

    # What a user may change about themselves (PATCH me/), in display order.
    PROFILE_FIELDS = (
        "display_name",
        "first_name",
        "last_name",
        "bio",
        "phone",
        "timezone",
        "language",
    )

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "username"
    REQUIRED_FIELDS = ["email"]

    class Meta:
        verbose_name = "user"
        verbose_name_plural = "users"
        ordering = ["username"]
        permissions = [
            ("ban_user", "Can ban and unban users"),
            ("change_role", "Can change users' roles"),
            # An object permission (django-guardian), never given to a role: see
            # ProfilePermission.
            ("blocked_from_profile", "Blocked from seeing this profile"),
        ]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="accounts_user_email_ci_unique",
                violation_error_message="An account with this email address already exists.",
            ),
            models.CheckConstraint(
                condition=models.Q(username__regex=USERNAME_PATTERN),
                name="accounts_user_username_format",
                violation_error_message=USERNAME_RULE,
            ),
            models.CheckConstraint(
                condition=~models.Q(email=""), name="accounts_user_email_present"
            ),
        ]
        indexes = [
            # The staff search matches username and email prefixes (LIKE 'term%'): on
            # PostgreSQL only a pattern-ops index serves that (a plain index elsewhere).
            # Django adds one for the unique username itself; the email needs its own.
            models.Index(
                fields=["email"],
                name="accounts_user_email_like",
                opclasses=["varchar_pattern_ops"],
            ),
            models.Index(fields=["date_joined"], name="accounts_user_joined"),
            models.Index(fields=["last_login"], name="accounts_user_last_login"),
        ]

    def __str__(self) -> str:
        return self.username

    @classmethod
    def normalize_username(cls, username: str) -> str:
        return normalize_username(username)

    def clean(self) -> None:
        super().clean()  # normalises username and email through the two functions above
        if not self.display_name:
            self.display_name = self.username


class SessionUser(User):
    """A user rebuilt from the cached snapshot: enough to answer and authorise a request.

    It never writes: a service that changes a user loads it from the database first.
    """

    class Meta:
        proxy = True

    snapshot: dict[str, Any]

    def save(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("A SessionUser is read-only: load the user to change it.")

    @property
    def email_verified(self) -> bool:
        return self.snapshot["email_verified"]

    @property
    def roles(self) -> list[str]:
        return roles_of(self.snapshot["groups"], is_superuser=self.is_superuser)


class AuthSession(models.Model):
    """One login: what its refresh tokens rotate within and what revocation ends.

    Access tokens carry the session id (``sid``), so revoking this row (and its cache entry,
    see ``accounts.session_state``) refuses them on their next request. Exactly one refresh
    token is valid at a time: the one whose ``jti`` is ``refresh_jti``; presenting any older
    one of the session is reuse, which revokes the whole session.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="auth_sessions"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Written when the session's tokens are refreshed (not on each request, which must
    # not touch the database), so it is at most one access-token lifetime old.
    last_used_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    refresh_jti = models.CharField(max_length=64)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.CharField(
        max_length=32, choices=RevokeReason.choices, blank=True
    )

    class Meta:
        verbose_name = "session"
        ordering = ["-last_used_at"]
        indexes = [
            models.Index(
                fields=["user", "revoked_at", "expires_at"],
                name="accounts_session_live",
            ),
            models.Index(fields=["expires_at"], name="accounts_session_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class AuditEvent(models.Model):
    """A security event, written in the same transaction as the change it records.

    ``actor`` did it, ``target`` is the account it concerns (often the same user);
    either may be empty (an anonymous failed login, a deleted account).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=64, choices=AuditKind.choices)
    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    target = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_events",
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["target", "-created_at"], name="accounts_audit_target")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d %H:%M:%S}"


class PasswordHistory(models.Model):
    """Hashes of a user's previous passwords, so a new one cannot repeat a recent one.

    Pruned to the newest ``PASSWORD_HISTORY_SIZE`` rows per user when a password is set.
    """

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="password_history"
    )
    password = models.CharField(max_length=256)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "password history"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="accounts_pwhistory_user")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.created_at:%Y-%m-%d}"


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
        totp = TOTP(self.bin_key, self.step, self.t0, self.digits, self.drift)
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
        verbose_name = "recovery code set"

    def get_throttle_factor(self) -> int:
        return 1

    def verify_token(self, token: str) -> bool:
        verify_allowed, _ = self.verify_is_allowed()
        if not verify_allowed:
            return False
        used = self.codes.filter(digest=recovery_code_digest(str(token))).delete()[0]
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
    templated, queued after commit. The weaker factor; ``MFA_EMAIL_ENABLED`` switches it."""

    class Meta:
        proxy = True
        verbose_name = "email codes"

    def generate_challenge(self, extra_context: dict | None = None) -> str:
        from accounts.emails import send_account_email

        self.generate_token(
            length=settings.MFA_EMAIL_CODE_LENGTH,
            valid_secs=settings.MFA_EMAIL_CODE_VALIDITY,
            commit=True,
        )
        send_account_email(
            template_prefix="account/email/login_code_mfa",
            user=self.user,
            context={
                "code": self.token,
                "minutes": settings.MFA_EMAIL_CODE_VALIDITY // 60,
            },
        )
        return "sent by email"


class BanQuerySet(models.QuerySet["Ban"]):
    def in_force(self, *, at: datetime | None = None) -> BanQuerySet:
        """Bans that apply now: not lifted, and permanent or not yet over. A ban ends by
        itself when ``until`` passes; no job has to run."""
        at = at or timezone.now()
        return self.filter(lifted_at__isnull=True).filter(
            models.Q(until__isnull=True) | models.Q(until__gt=at)
        )


class Ban(models.Model):
    """A user barred from signing in, for a while (``until``) or for good (no ``until``).

    Rows are never deleted: lifting a ban sets ``lifted_at``, so the history stays.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="bans")
    reason = models.CharField(max_length=500)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    until = models.DateTimeField(null=True, blank=True)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = BanQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["user", "lifted_at", "until"], name="accounts_ban_in_force"
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(until__isnull=True)
                | models.Q(until__gt=models.F("created_at")),
                name="accounts_ban_ends_after_it_starts",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} until {self.until or 'forever'}"


# The codename of a block (see ProfilePermission), an object permission on a User.
BLOCKED_FROM_PROFILE = "blocked_from_profile"


class ProfilePermission(UserObjectPermissionBase):
    """django-guardian's object permissions on a profile: ``user`` holds ``permission`` on
    ``content_object``'s profile.

    A direct-foreign-key table (guardian's "performance" layout) rather than its generic one:
    a real FK on both sides, so a lookup is one indexed query and rows go when either account
    is deleted. The permission in use is ``accounts.blocked_from_profile`` -- a block:
    ``content_object`` blocked ``user`` (``accounts/services/blocking.py``).
    """

    content_object = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="profile_permissions_given"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta(UserObjectPermissionBase.Meta):
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(user=models.F("content_object")),
                name="accounts_profile_permission_not_self",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.permission_id} on {self.content_object_id}"
