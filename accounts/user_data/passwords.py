"""Password history: when each remembered password was set, never its hash."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accounts.models import PasswordHistory, User
from accounts.user_data.registry import UserDataRegistry


class ExportPasswordHistorySerializer(serializers.Serializer):
    count = serializers.IntegerField(
        help_text="How many previous passwords are remembered (to refuse repeats)."
    )
    set_at = serializers.ListField(
        child=serializers.DateTimeField(),
        help_text="When each was set, newest first. The hashes are never exported.",
    )


def export_password_history(user: User) -> dict[str, Any]:
    dates = list(
        PasswordHistory.objects.filter(user_id=user.pk).values_list(
            "created_at", flat=True
        )
    )
    return {"count": len(dates), "set_at": dates}


def erase_password_history(user: User) -> None:
    PasswordHistory.objects.filter(user_id=user.pk).delete()


def register(registry: UserDataRegistry) -> None:
    registry.register(
        model=PasswordHistory,
        section="password_history",
        export=export_password_history,
        schema=ExportPasswordHistorySerializer(),
        erase=erase_password_history,
    )
