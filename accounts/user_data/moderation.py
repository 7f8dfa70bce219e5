"""Bans, blocks and object permissions (django-guardian)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from guardian.models import UserObjectPermission
from rest_framework import serializers

from accounts.models import BLOCKED_FROM_PROFILE, Ban, ProfilePermission, User
from accounts.user_data.registry import UserDataRegistry


class ExportBanSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    until = serializers.DateTimeField(allow_null=True)
    lifted_at = serializers.DateTimeField(allow_null=True)


def export_bans(user: User) -> list[Mapping[str, Any]]:
    # Who banned is a staff member's data, not the user's: left out.
    return list(
        Ban.objects.filter(user=user).values(
            "id", "reason", "created_at", "until", "lifted_at"
        )
    )


def erase_ban_reasons(user: User) -> None:
    """The bans stay (when, for how long, by whom: the moderation history, as when a ban
    is lifted) and point at the anonymous account, which can no longer sign in; their
    reasons, written about the person, go."""
    Ban.objects.filter(user=user).update(reason="")


class ExportBlockSerializer(serializers.Serializer):
    blocked_user = serializers.UUIDField()
    created_at = serializers.DateTimeField()


def export_blocks(user: User) -> list[dict[str, Any]]:
    # Only the blocks the user made: who blocked them is the other person's choice.
    return [
        {"blocked_user": row["user_id"], "created_at": row["created_at"]}
        for row in ProfilePermission.objects.filter(
            content_object=user, permission__codename=BLOCKED_FROM_PROFILE
        ).values("user_id", "created_at")
    ]


def erase_profile_permissions(user: User) -> None:
    """Every object permission on guardian's profile table that involves the user: the
    blocks they made (on their profile) and the ones they received (held by them)."""
    ProfilePermission.objects.filter(Q(content_object=user) | Q(user=user)).delete()


class ExportObjectPermissionSerializer(serializers.Serializer):
    permission = serializers.CharField(help_text="`app_label.codename`.")
    object_type = serializers.CharField(help_text="`app_label.model`.")
    object_id = serializers.CharField()


def export_object_permissions(user: User) -> list[dict[str, Any]]:
    # django-guardian's generic table: object permissions held on any other kind of object
    # (apps with a direct table of their own export it in their own section).
    return [
        {
            "permission": f"{row['permission__content_type__app_label']}."
            f"{row['permission__codename']}",
            "object_type": f"{row['content_type__app_label']}.{row['content_type__model']}",
            "object_id": row["object_pk"],
        }
        for row in UserObjectPermission.objects.filter(user=user)
        .order_by("pk")
        .values(
            "permission__content_type__app_label",
            "permission__codename",
            "content_type__app_label",
            "content_type__model",
            "object_pk",
        )
    ]


def erase_object_permissions(user: User) -> None:
    """The generic table's permissions held by the user, and any held on their account
    (profiles normally use the direct table above)."""
    on_the_account = Q(
        content_type=ContentType.objects.get_for_model(User), object_pk=str(user.pk)
    )
    UserObjectPermission.objects.filter(Q(user=user) | on_the_account).delete()


def register(registry: UserDataRegistry) -> None:
    registry.register(
        model=Ban,
        section="bans",
        export=export_bans,
        schema=ExportBanSerializer(many=True),
        erase=erase_ban_reasons,
    )
    registry.register(
        model=ProfilePermission,
        section="blocks",
        export=export_blocks,
        schema=ExportBlockSerializer(many=True),
        erase=erase_profile_permissions,
    )
    registry.register(
        model=UserObjectPermission,
        section="object_permissions",
        export=export_object_permissions,
        schema=ExportObjectPermissionSerializer(many=True),
        erase=erase_object_permissions,
    )
