"""Bans: a user barred from signing in, for a while or for good."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import models
from django.utils import timezone

from accounts.models.users import User
from accounts.timezones import moment


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

    Rows are never deleted: lifting a ban sets ``lifted_at``, so the history stays. A
    ban that a later one replaced (a longer one, or a shorter one by ``replace``) is
    lifted at that moment and names its successor in ``replaced_by``.
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
    replaced_by = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
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
        """``Ban of ada until 2026-12-09 14:00 UTC``, in the reader's time zone."""
        if self.until is None:
            return f"Permanent ban of {self.user.username}"
        return f"Ban of {self.user.username} until {moment(self.until)}"
