"""The ``files`` and ``files_shared_with_me`` sections of the export, and their erasure.

The export lists metadata, never bytes (the owner downloads those through the API).
The erasure deletes the account's files -- rows, their shares, and the bytes once the
deletion commits (``files.services.files_erase_for_user``) -- and the shares others gave
the account.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accounts.models import User
from accounts.user_data.registry import UserDataRegistry
from files.constants import CODENAMES, SharePermission
from files.models import StoredFile, StoredFilePermission
from files.services import files_erase_for_user

_SHARE_OF = {codename: str(share) for share, codename in CODENAMES.items()}


class ExportFileSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField(help_text="The uploaded file's name, cleaned.")
    content_type = serializers.CharField(help_text="What the content is (sniffed).")
    size = serializers.IntegerField(help_text="Bytes.")
    sha256 = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()


class ExportFileShareSerializer(serializers.Serializer):
    file_id = serializers.UUIDField(help_text="A file another user shared with you.")
    permission = serializers.ChoiceField(choices=SharePermission.choices)
    created_at = serializers.DateTimeField()


def export_files(user: User) -> list[dict[str, Any]]:
    rows = (
        StoredFile.objects.filter(owner_id=user.pk)
        .order_by("created_at", "id")
        .values(
            "id",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "description",
            "created_at",
        )
    )
    return [
        {
            "id": row["id"],
            "name": row["original_name"],
            "content_type": row["content_type"],
            "size": row["size"],
            "sha256": row["sha256"],
            "description": row["description"],
            "created_at": row["created_at"],
        }
        for row in rows
    ]


def export_shares_received(user: User) -> list[dict[str, Any]]:
    rows = (
        StoredFilePermission.objects.filter(user_id=user.pk)
        .order_by("created_at", "pk")
        .values("content_object_id", "permission__codename", "created_at")
    )
    return [
        {
            "file_id": row["content_object_id"],
            "permission": _SHARE_OF[row["permission__codename"]],
            "created_at": row["created_at"],
        }
        for row in rows
    ]


def erase_shares_received(user: User) -> None:
    StoredFilePermission.objects.filter(user_id=user.pk).delete()


def erase_files(user: User) -> None:
    files_erase_for_user(user=user)


def register(registry: UserDataRegistry) -> None:
    registry.register(
        model=StoredFile,
        section="files",
        export=export_files,
        schema=ExportFileSerializer(many=True),
        erase=erase_files,
    )
    registry.register(
        model=StoredFilePermission,
        section="files_shared_with_me",
        export=export_shares_received,
        schema=ExportFileShareSerializer(many=True),
        erase=erase_shares_received,
    )
