"""Address bans: an anonymous client's address barred for a while, automatically (too
many ``429`` answers: ``limits.services.refusal_record``) or by staff."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.constants import AUTO_BAN_REASON
from accounts.timezones import moment


class AddressBanQuerySet(models.QuerySet["AddressBan"]):
    def in_force(self, *, at: datetime | None = None) -> AddressBanQuerySet:
        """Bans that apply now: not lifted and not yet over. A ban ends by itself when
        ``until`` passes (its cache entry expires then too); no job has to run."""
        return self.filter(lifted_at__isnull=True, until__gt=at or timezone.now())

    def automatic(self) -> AddressBanQuerySet:
        """Placed by the limiter: no person, and the automatic reason."""
        return self.filter(created_by__isnull=True, reason=AUTO_BAN_REASON)


class AddressBan(models.Model):
    """A client address barred from the API's anonymous requests until ``until``
    (address bans always end). Signed-in callers from the address are not barred:
    their accounts answer for them.

    ``address`` is the address as the per-IP limits count it: an IPv4 address, or the
    first address of an IPv6 client's /64 (``config.ratelimits.limited_ip``). The ban
    is enforced from the cache (``limits.state.ip_ban_key``), which the throttle reads
    in the same round trip as the address's counters; this table is the record and
    the history. Rows are never deleted: lifting sets ``lifted_at``. ``created_by``
    is empty for an automatic ban (and for one placed by ``manage.py``).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    address = models.GenericIPAddressField()
    reason = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)
    until = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = AddressBanQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "address ban"
        indexes = [
            models.Index(
                fields=["address", "lifted_at", "until"], name="limits_addressban_force"
            ),
            models.Index(fields=["-created_at"], name="limits_addressban_created"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(until__gt=models.F("created_at")),
                name="limits_addressban_ends_after_it_starts",
            )
        ]

    def __str__(self) -> str:
        """``Ban of 203.0.113.5 until 2026-12-09 14:00 UTC``, in the reader's zone."""
        return f"Ban of {self.address} until {moment(self.until)}"

    @property
    def is_automatic(self) -> bool:
        return self.created_by_id is None and self.reason == AUTO_BAN_REASON

    @property
    def is_in_force(self) -> bool:
        return self.lifted_at is None and self.until > timezone.now()
