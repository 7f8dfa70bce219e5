"""API keys: a visible prefix plus a keyed digest of the secret (see ``apikeys.keys``)."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from accounts.models import User


class ApiKey(models.Model):
    """A key that acts as its owner (``user``), limited by ``scopes``, or, with no owner, a
    global service key that staff made with explicit scopes.

    The secret is never stored: ``secret_hash`` is its HMAC (``apikeys.keys``). The key
    stops working when revoked (``revoked_at``), once ``expires_at`` has passed, and when
    its owner is banned, deactivated or erased (checked by the authentication class, not
    written here). ``last_used_at``/``last_used_ip`` are written at most once a minute.

    ``quota_per_hour``/``quota_per_day``: the key's own requests per hour and per day in
    the ``default`` endpoint group (``limits.policy.limits_for``), counted per key; empty,
    the owner's role's limits there (a global key's: the ``service`` tier's). An owner
    may set them at most to their role's; admins and ``manage.py`` to anything
    (``apikeys.services``).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="api_keys",
        help_text="The owner; empty for a global service key.",
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    secret_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who made it: the owner, or the staff member who made a global key; "
        "empty for manage.py.",
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)
    quota_per_hour = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Requests per hour in the default group; empty: the owner's role's "
        "limit.",
    )
    quota_per_day = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Requests per day in the default group; empty: the owner's role's "
        "limit.",
    )

    class Meta:
        verbose_name = "API key"
        ordering = ("-created_at",)
        indexes = [
            models.Index(fields=["user", "-created_at"], name="apikey_user_time")
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quota_per_hour__isnull=True)
                | models.Q(quota_per_hour__gte=1),
                name="apikey_quota_per_hour_positive",
                violation_error_message="A quota is at least 1.",
            ),
            models.CheckConstraint(
                condition=models.Q(quota_per_day__isnull=True)
                | models.Q(quota_per_day__gte=1),
                name="apikey_quota_per_day_positive",
                violation_error_message="A quota is at least 1.",
            ),
        ]

    def __str__(self) -> str:
        """How staff read it in the admin's titles: "API key 'laptop' (gth_ab12…) of ada",
        "Global API key 'ci' (gth_ab12…)"; never more of the key than its prefix."""
        shown = f"'{self.name}' (gth_{self.prefix}_…)"
        if self.user is None:
            return f"Global API key {shown}"
        return f"API key {shown} of {self.user.username}"

    @property
    def is_global(self) -> bool:
        return self.user_id is None

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_live(self) -> bool:
        """Neither revoked nor expired (the owner's state is checked elsewhere)."""
        return self.revoked_at is None and not self.is_expired
