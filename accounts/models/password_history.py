"""Password history: previous hashes, so that a new password cannot repeat one."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from accounts.models.users import User


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
