"""The ``feature_flags`` and ``feature_flag_changes`` sections of the export, and
their erasure."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accounts.models import User
from accounts.user_data.registry import UserDataRegistry, kept
from flags.evaluation import rules_may_have_changed
from flags.models import Flag, FlagChange


class ExportFlagSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="A flag that lists this account by name.")


class ExportFlagChangeSerializer(serializers.Serializer):
    flag = serializers.CharField()
    made_through = serializers.CharField(help_text="`api`, `admin` or `command`.")
    changes = serializers.DictField(help_text="Each rule changed, from what to what.")
    created_at = serializers.DateTimeField()


def export_flags(user: User) -> list[dict[str, Any]]:
    """The flags that name the user in their ``users`` rule."""
    return list(Flag.objects.filter(users=user).order_by("name").values("name"))


def erase_flags(user: User) -> None:
    """The account leaves every flag's user list (no history: no person changed it)."""
    if Flag.users.through.objects.filter(user_id=user.pk).delete()[0]:
        rules_may_have_changed()


def export_flag_changes(user: User) -> list[dict[str, Any]]:
    """The flag changes the user made, as staff."""
    changes = FlagChange.objects.filter(actor_id=user.pk).order_by("-created_at")
    return [
        {
            "flag": row["flag__name"],
            "made_through": row["source"],
            "changes": row["changes"],
            "created_at": row["created_at"],
        }
        for row in changes.values("flag__name", "source", "changes", "created_at")
    ]


def register(registry: UserDataRegistry) -> None:
    registry.register(
        model=Flag,
        section="feature_flags",
        export=export_flags,
        schema=ExportFlagSerializer(many=True),
        erase=erase_flags,
    )
    registry.register(
        model=FlagChange,
        section="feature_flag_changes",
        export=export_flag_changes,
        schema=ExportFlagChangeSerializer(many=True),
        erase=kept(
            "A flag's history says which staff account changed which rule; the "
            "account row is anonymised, so the history names no person."
        ),
    )
