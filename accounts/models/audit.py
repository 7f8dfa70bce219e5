"""The audit log: security events, each written with the change it records."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from accounts.constants import AuditKind
from accounts.models.users import User
from accounts.timezones import moment

# An event whose actor is someone other than its target (or with no target): a staff
# member acting on another account (a ban, a role change, a password set, a session
# revoked). What people do to their own account names them as both; events of anonymous
# or unknown callers and of ``manage.py`` (``SYSTEM_ACTOR``) have no actor.
STAFF_ACTION = Q(actor__isnull=False) & ~Q(actor=F("target"))


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
            models.Index(
                fields=["target", "-created_at"], name="accounts_audit_target"
            ),
            # One kind over a period: the admin's list filtered by kind and dates, which
            # counts its rows, and the dashboard's links to it (issue 13).
            models.Index(
                fields=["kind", "created_at"], name="accounts_audit_kind_time"
            ),
        ]

    def __str__(self) -> str:
        """``Banned: ada, 2026-12-09 14:00:05 UTC``, in the reader's time zone."""
        about = f": {self.target.username}" if self.target is not None else ""
        return (
            f"{self.get_kind_display()}{about}, {moment(self.created_at, seconds=True)}"
        )
