"""Names of the files app: share permissions (django-guardian object permissions)."""

from __future__ import annotations

from typing import Final

from django.db import models


class SharePermission(models.TextChoices):
    """What a sharee may do with a file shared with them. ``change`` includes ``view``
    and adds editing the description; only the owner deletes, shares or unshares."""

    VIEW = "view", "View and download"
    CHANGE = "change", "View, download and edit the description"


VIEW_CODENAME: Final = "view_storedfile"
CHANGE_CODENAME: Final = "change_storedfile"
CODENAMES: Final = {
    SharePermission.VIEW: VIEW_CODENAME,
    SharePermission.CHANGE: CHANGE_CODENAME,
}
# Where the bytes of each kind live in the storage (files_gc walks these folders).
FILES_FOLDER: Final = "files"
AVATARS_FOLDER: Final = "avatars"
