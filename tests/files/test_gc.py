"""``manage.py files_gc``: orphan bytes and rows without bytes, older than the grace
period; a dry run by default."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.constants import AuditKind
from accounts.models import AuditEvent
from config.client import SYSTEM
from files.models import Avatar, StoredFile, new_avatar_storage_name
from files.services import file_upload
from tests.files.samples import PDF, local_storage_only, stored_names
from tests.helpers import account

pytestmark = pytest.mark.django_db

HOURS_AGO = 2


def age(path: Path, hours: float = HOURS_AGO) -> None:
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def gc(*arguments: str) -> str:
    out = StringIO()
    call_command("files_gc", *arguments, stdout=out)
    return out.getvalue()


@pytest.fixture
def world(media_root: Path, django_capture_on_commit_callbacks) -> dict:
    """A file with its bytes, orphan bytes under files/ and avatars/ (old, and new),
    a file row and an avatar row whose bytes are gone -- all old but the new orphan."""
    owner = account()
    kept = file_upload(
        actor=owner, content=ContentFile(PDF), name="kept.pdf", client=SYSTEM
    )
    lost = file_upload(
        actor=owner, content=ContentFile(PDF), name="lost.pdf", client=SYSTEM
    )
    (media_root / lost.storage_name).unlink()
    StoredFile.objects.update(created_at=timezone.now() - timedelta(hours=HOURS_AGO))
    orphan = media_root / "files" / str(owner.pk) / ("f" * 32)
    orphan.write_bytes(b"left behind")
    avatar_orphan = media_root / "avatars" / str(owner.pk) / ("a" * 32 + ".png")
    avatar_orphan.parent.mkdir(parents=True)
    avatar_orphan.write_bytes(b"old avatar")
    in_flight = media_root / "files" / str(owner.pk) / ("b" * 32)
    in_flight.write_bytes(b"an upload whose row is about to commit")
    avatar = Avatar.objects.create(
        user=account(),
        storage_name=new_avatar_storage_name(owner.pk),
        etag="x",
        updated_at=timezone.now() - timedelta(hours=HOURS_AGO),
    )
    for path in media_root.rglob("*"):
        if path.is_file() and path != in_flight:
            age(path)
    return {
        "kept": kept,
        "lost": lost,
        "orphan": orphan,
        "avatar_orphan": avatar_orphan,
        "in_flight": in_flight,
        "avatar": avatar,
    }


# Aged by the folder's file times (no S3 server lets a test set those).
@local_storage_only
def test_a_dry_run_reports_and_changes_nothing(world: dict, media_root: Path) -> None:
    before = stored_names()

    output = gc()

    assert f"orphan bytes: files/{world['kept'].owner_id}/{'f' * 32}" in output
    assert f"orphan bytes: avatars/{world['kept'].owner_id}/{'a' * 32}.png" in output
    assert f"missing bytes: file {world['lost'].pk}" in output
    assert f"missing bytes: avatar of user {world['avatar'].user_id}" in output
    assert "b" * 32 not in output  # within the grace period
    assert str(world["kept"].pk) not in output
    assert "Found 2 orphan object(s) and 2 row(s) without bytes." in output
    assert stored_names() == before
    assert StoredFile.objects.count() == 2
    assert Avatar.objects.count() == 1


# Aged by the folder's file times (no S3 server lets a test set those).
@local_storage_only
def test_delete_removes_orphans_and_rows_without_bytes_but_not_what_is_new(
    world: dict, media_root: Path, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        output = gc("--delete")

    assert "Deleted 2 orphan object(s) and 2 row(s) without bytes." in output
    assert not world["orphan"].exists()
    assert not world["avatar_orphan"].exists()
    assert world["in_flight"].exists()
    assert list(StoredFile.objects.all()) == [world["kept"]]
    assert not Avatar.objects.exists()
    assert (media_root / world["kept"].storage_name).exists()
    [event] = AuditEvent.objects.filter(kind=AuditKind.FILE_DELETED)
    assert event.payload["file_id"] == str(world["lost"].pk)
    assert event.actor is None
    # A second run finds nothing.
    assert "Found 0 orphan object(s) and 0 row(s) without bytes." in gc()


# Aged by the folder's file times (no S3 server lets a test set those).
@local_storage_only
def test_a_shorter_grace_period_takes_newer_objects(world: dict) -> None:
    assert "b" * 32 in gc("--grace-minutes", "0")


def test_a_negative_grace_period_is_an_error(media_root: Path) -> None:
    with pytest.raises(CommandError, match="--grace-minutes must be 0 or more"):
        gc("--grace-minutes", "-1")


def test_an_empty_storage_is_fine(media_root: Path) -> None:
    assert "Found 0 orphan object(s) and 0 row(s) without bytes." in gc()


def test_on_any_backend_without_a_grace_period(
    django_capture_on_commit_callbacks,
) -> None:
    owner = account()
    kept = file_upload(
        actor=owner, content=ContentFile(PDF), name="kept.pdf", client=SYSTEM
    )
    orphan = default_storage.save(f"files/{owner.pk}/{'c' * 32}", ContentFile(b"x"))
    lost = file_upload(
        actor=owner, content=ContentFile(PDF), name="lost.pdf", client=SYSTEM
    )
    default_storage.delete(lost.storage_name)
    StoredFile.objects.update(created_at=timezone.now() - timedelta(minutes=1))

    report = gc("--grace-minutes", "0")
    with django_capture_on_commit_callbacks(execute=True):
        gc("--grace-minutes", "0", "--delete")

    assert f"orphan bytes: {orphan}" in report
    assert f"missing bytes: file {lost.pk}" in report
    assert stored_names() == [kept.storage_name]
    assert list(StoredFile.objects.all()) == [kept]
