"""``manage.py files_gc [--delete] [--grace-minutes N]``: stored bytes and rows that
lost each other.

- **orphan bytes**: an object under ``files/`` or ``avatars/`` in the storage that no
  row names (an upload whose transaction rolled back after the service returned, a
  deletion whose ``on_commit`` removal failed);
- **missing bytes**: a file or avatar row whose object is not in the storage.

Dry run by default: it prints what it found. ``--delete`` removes the orphan bytes and
the rows without bytes (a file through ``files.services``, audited as the system).
Only what is older than the grace period (an hour by default) is touched, so an upload
in flight -- bytes written, row not yet committed -- is never collected. Works on any
backend: the storage is walked with ``listdir``.

Exit status: 0 when the run completed (whatever it found), 1 on an error (one line on
stderr), 2 for bad arguments.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.files.storage import Storage, default_storage
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from files.constants import AVATARS_FOLDER, FILES_FOLDER
from files.models import Avatar, StoredFile
from files.services import avatar_delete_missing, delete_bytes, file_delete_missing

DEFAULT_GRACE_MINUTES = 60


@dataclass(frozen=True)
class StoredObject:
    name: str
    size: int
    modified: datetime


def walk(storage: Storage, folder: str) -> Iterator[str]:
    """Every object name under ``folder``, at any depth."""
    try:
        folders, names = storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in names:
        yield f"{folder}/{name}"
    for each in folders:
        yield from walk(storage, f"{folder}/{each}")


class Command(BaseCommand):
    help = (
        "Find stored bytes under files/ and avatars/ that no row names, and rows "
        "whose bytes are gone; --delete removes both. Only objects and rows older "
        "than the grace period are considered."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--delete",
            action="store_true",
            help="Remove the orphan bytes and the rows without bytes (default: only "
            "report them).",
        )
        parser.add_argument(
            "--grace-minutes",
            type=int,
            default=DEFAULT_GRACE_MINUTES,
            help=f"Leave alone anything newer than this (default "
            f"{DEFAULT_GRACE_MINUTES}): an upload in flight has its bytes before its "
            "row.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["grace_minutes"] < 0:
            raise CommandError("--grace-minutes must be 0 or more.")
        cutoff = timezone.now() - timedelta(minutes=options["grace_minutes"])
        delete = options["delete"]
        storage = default_storage
        try:
            stored = {
                name: self._describe(storage, name)
                for folder in (FILES_FOLDER, AVATARS_FOLDER)
                for name in walk(storage, folder)
            }
        except Exception as error:
            raise CommandError(f"Cannot list the storage: {error}") from error

        orphans = self._orphans(stored, cutoff)
        files_missing = [
            row
            for row in StoredFile.objects.filter(created_at__lt=cutoff).only(
                "id", "storage_name", "owner_id"
            )
            if row.storage_name not in stored
        ]
        avatars_missing = [
            row
            for row in Avatar.objects.filter(updated_at__lt=cutoff).only(
                "user_id", "storage_name"
            )
            if row.storage_name not in stored
        ]

        for item in orphans:
            self.stdout.write(
                f"orphan bytes: {item.name} ({item.size} bytes, "
                f"{item.modified.isoformat(timespec='seconds')})"
            )
        for row in files_missing:
            self.stdout.write(
                f"missing bytes: file {row.pk} of user {row.owner_id} "
                f"({row.storage_name})"
            )
        for avatar in avatars_missing:
            self.stdout.write(
                f"missing bytes: avatar of user {avatar.user_id} "
                f"({avatar.storage_name})"
            )

        found = len(orphans) + len(files_missing) + len(avatars_missing)
        if not delete:
            self.stdout.write(
                f"Found {len(orphans)} orphan object(s) and "
                f"{len(files_missing) + len(avatars_missing)} row(s) without bytes. "
                + ("Dry run: run with --delete to remove them." if found else "")
            )
            return

        removed = 0
        for item in orphans:
            # Named by no row a moment ago; checked again right before it goes.
            if not (
                StoredFile.objects.filter(storage_name=item.name).exists()
                or Avatar.objects.filter(storage_name=item.name).exists()
            ):
                delete_bytes(item.name)
                removed += 1
        for row in files_missing:
            file_delete_missing(file_id=row.pk)
        for avatar in avatars_missing:
            avatar_delete_missing(
                user_id=avatar.user_id, storage_name=avatar.storage_name
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Deleted {removed} orphan object(s) and "
                f"{len(files_missing) + len(avatars_missing)} row(s) without bytes."
            )
        )

    def _describe(self, storage: Storage, name: str) -> StoredObject:
        return StoredObject(
            name=name,
            size=storage.size(name),
            modified=storage.get_modified_time(name),
        )

    def _orphans(
        self, stored: dict[str, StoredObject], cutoff: datetime
    ) -> list[StoredObject]:
        old = {name: item for name, item in stored.items() if item.modified < cutoff}
        named = set(
            StoredFile.objects.filter(storage_name__in=old).values_list(
                "storage_name", flat=True
            )
        ) | set(
            Avatar.objects.filter(storage_name__in=old).values_list(
                "storage_name", flat=True
            )
        )
        return sorted(
            (item for name, item in old.items() if name not in named),
            key=lambda item: item.name,
        )
