"""Feature flags: waffle's flag model, with Gatehouse's rules and a history of changes."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any, ClassVar

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy
from waffle.managers import BaseManager
from waffle.models import AbstractUserFlag

from accounts.models import User


class FlagManager(BaseManager["Flag"]):
    """Waffle's flag manager, typed for this model."""

    KEY_SETTING = "ALL_FLAGS_CACHE_KEY"


class Flag(AbstractUserFlag):
    """A feature flag (``WAFFLE_FLAG_MODEL``), on or off for each caller.

    The rules Gatehouse reads (``flags.evaluation``): ``everyone`` (on, off, or ``None``:
    decided by the rest), ``users`` (on for these accounts), ``groups`` (on for these
    roles: each role is a group of its name) and ``percent`` (on for that share of
    signed-in users, the same ones every time: a hash of the flag's name and the user's
    id). Waffle's other columns (``testing``, ``superusers``, ``staff``,
    ``authenticated``, ``languages``, ``rollout``) are not rules here: they stay at
    their defaults, which change nothing, and no form shows them.

    ``modified`` is when a person last changed a rule or the note (the "stale" report);
    ``is_endpoint`` marks the flag of an API route (``flags.endpoints``), made on
    ``migrate`` and on when it is made.
    """

    # Waffle's allows 0.0-99.9; 100 is "everyone", but a rollout reaching 100 % should
    # not have to change rule to finish.
    percent = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
        help_text="On for this share of signed-in users (0-100), always the same ones.",
    )
    # Waffle's default (True) would turn every flag on for superusers: a rule of its own
    # that nothing in Gatehouse reads or shows. Off, so the column does not mislead.
    superusers = models.BooleanField(default=False)
    is_endpoint = models.BooleanField(
        default=False,
        editable=False,
        help_text="The flag of an API route: off, the route answers 404.",
    )

    # Waffle's manager, typed for this model (django-stubs reads waffle's as a manager
    # of its abstract flag).
    objects: ClassVar[FlagManager] = FlagManager()  # type: ignore[assignment]

    class Meta(AbstractUserFlag.Meta):
        swappable = "WAFFLE_FLAG_MODEL"
        verbose_name = gettext_lazy("feature flag")
        verbose_name_plural = gettext_lazy("feature flags")
        ordering = ["name"]

    def is_active(self, request: HttpRequest, read_only: bool = False) -> bool | None:
        """Waffle's entry point (``waffle.flag_is_active``, its template tags and
        decorators) answers as Gatehouse's own evaluation does."""
        from flags.evaluation import flag_is_on

        return flag_is_on(self.name, getattr(request, "user", None))

    def is_active_for_user(self, user: Any) -> bool | None:
        from flags.evaluation import flag_is_on

        return flag_is_on(self.name, user)


class FlagChange(models.Model):
    """One change of a flag's rules or note: who made it, through which way in, and
    each rule's value before and after (``{"everyone": {"from": null, "to": true}}``;
    for ``users`` the ids added and removed). Written by ``flags.services`` in the
    transaction of the change, beside its audit event."""

    class Source(models.TextChoices):
        API = "api", "API"
        ADMIN = "admin", "Admin"
        COMMAND = "command", "manage.py"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    flag = models.ForeignKey(Flag, on_delete=models.CASCADE, related_name="changes")
    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source = models.CharField(max_length=16, choices=Source.choices)
    changes = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["flag", "-created_at"], name="flags_change_flag_time")
        ]

    def __str__(self) -> str:
        return f"{self.flag.name}: {', '.join(sorted(self.changes)) or 'no change'}"
