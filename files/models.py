"""Uploaded files and avatars: metadata in the database, bytes in the storage.

The bytes live in ``STORAGES["default"]`` (a folder, or an S3-compatible bucket) under a
name made here, never from what the client sent: ``files/<owner id>/<random>`` and
``avatars/<user id>/<random>.png``. The client's file name is kept as metadata only,
cleaned (``files.names``).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from guardian.models import UserObjectPermissionBase

from accounts.models import User


def new_file_storage_name(owner_id: uuid.UUID) -> str:
    return f"files/{owner_id}/{uuid.uuid4().hex}"


def new_avatar_storage_name(user_id: uuid.UUID) -> str:
    return f"avatars/{user_id}/{uuid.uuid4().hex}.png"


class StoredFile(models.Model):
    """A user's upload. ``content_type`` is what the content is (sniffed), ``sha256``
    its digest (the download's ``ETag``). Shared through django-guardian's object
    permissions ``view_storedfile`` and ``change_storedfile`` (``files.selectors``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="files")
    storage_name = models.CharField(max_length=255, unique=True, editable=False)
    original_name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    description = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "file"
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="files_owner_time"),
        ]

    def __str__(self) -> str:
        return self.original_name or str(self.id)


class StoredFilePermission(UserObjectPermissionBase):
    """A share: ``user`` holds ``permission`` (``files.view_storedfile`` or
    ``files.change_storedfile``, ``files.constants``) on ``content_object``.

    django-guardian's direct-foreign-key table (as ``accounts.ProfilePermission``): a
    real FK on both sides, so the list of files shared with a user is one join, and
    shares go with the file or the sharee's account."""

    content_object = models.ForeignKey(
        StoredFile, on_delete=models.CASCADE, related_name="shares"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta(UserObjectPermissionBase.Meta):
        # unique_together (user, permission, content_object) indexes "shared with".
        verbose_name = "file share"

    def __str__(self) -> str:
        return f"{self.user_id} {self.permission_id} on {self.content_object_id}"


class Avatar(models.Model):
    """A user's uploaded avatar, re-encoded as a PNG square (``files.images``); without
    one, ``GET users/{id}/avatar/`` draws the initials. ``etag`` is the PNG's digest."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, primary_key=True, related_name="avatar"
    )
    storage_name = models.CharField(max_length=255, unique=True, editable=False)
    etag = models.CharField(max_length=64)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Avatar of {self.user_id}"
