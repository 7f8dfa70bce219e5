"""Sessions: one row per login, what refresh tokens rotate within and revocation ends."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from accounts.constants import RevokeReason
from accounts.models.users import User
from accounts.timezones import moment


class AuthSession(models.Model):
    """One login: what its refresh tokens rotate within and what revocation ends.

    Access tokens carry the session id (``sid``) and how it was signed in to (``amr``,
    ``auth_time``), so revoking this row (and its cache entry,
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
    # How the login that opened the session was proved (RFC 8176 values: ["pwd"], or
    # ["pwd", "otp", "mfa"] with a second factor) and when: its tokens carry both
    # (``amr``, ``auth_time``), so what the session proved travels with every request.
    amr = models.JSONField(default=list, blank=True)
    auth_time = models.DateTimeField(default=timezone.now)

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
        """``Session of ada from 2026-12-09 14:00 UTC``, in the reader's time zone."""
        return f"Session of {self.user.username} from {moment(self.created_at)}"

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
