"""The avatar's entry in the export and erasure registry (``accounts.user_data``):
whether one was uploaded, when, and its URL; never the bytes. Erased with the account:
the row at once, the bytes when ``user_delete`` commits."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accounts.models import User
from accounts.selectors import avatar_path
from accounts.serializers import AvatarUrlField
from accounts.user_data.registry import UserDataRegistry
from files.avatars import avatars_erase
from files.models import Avatar


class ExportAvatarSerializer(serializers.Serializer):
    """The uploaded avatar (a list of one, empty when none was: the generated one is
    served): when it was uploaded, and where to download it."""

    uploaded = serializers.BooleanField()
    updated_at = serializers.DateTimeField()
    url = AvatarUrlField()


def export_avatar(user: User) -> list[dict[str, Any]]:
    updated_at = (
        Avatar.objects.filter(user_id=user.pk)
        .values_list("updated_at", flat=True)
        .first()
    )
    if updated_at is None:
        return []
    return [{"uploaded": True, "updated_at": updated_at, "url": avatar_path(user.pk)}]


def erase_avatar(user: User) -> None:
    avatars_erase(user=user)


def register_avatars(registry: UserDataRegistry) -> None:
    registry.register(
        model=Avatar,
        section="avatar",
        export=export_avatar,
        schema=ExportAvatarSerializer(many=True),
        erase=erase_avatar,
    )
