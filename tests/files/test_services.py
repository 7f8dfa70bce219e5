"""``files.services`` called directly: a failed upload leaves no row and no bytes, the
quota holds against parallel uploads, erasure takes the files, their shares and the
bytes, and a rolled-back deletion keeps the bytes."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction

from accounts.access import SYSTEM_ACTOR
from accounts.models import User
from config.client import SYSTEM
from config.error_codes import ApplicationError
from files import services
from files.constants import SharePermission
from files.models import StoredFile, StoredFilePermission
from files.names import FALLBACK_NAME, NAME_MAX_LENGTH, clean_file_name
from files.services import (
    file_delete,
    file_share,
    file_upload,
    files_erase_for_user,
)
from tests.files.samples import PDF, TEXT, stored_names
from tests.helpers import account


def upload(owner: User, data: bytes = PDF, name: str = "a.pdf") -> StoredFile:
    return file_upload(actor=owner, content=ContentFile(data), name=name, client=SYSTEM)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "failing",
    ["files.services.audit_record", "files.services.StoredFile.objects.create"],
)
def test_a_failure_after_the_bytes_are_written_leaves_no_row_and_no_bytes(
    media_root: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    owner = account()

    def fail(**kwargs: object) -> None:
        raise IntegrityError("the database went away")

    monkeypatch.setattr(failing, fail)

    with pytest.raises(IntegrityError):
        upload(owner)

    assert not StoredFile.objects.exists()
    assert stored_names() == []


@pytest.mark.django_db
def test_a_refused_upload_writes_nothing(media_root: Path, settings) -> None:
    settings.FILE_QUOTA_BYTES = len(PDF) - 1
    owner = account()

    with pytest.raises(ApplicationError) as refused:
        upload(owner)

    assert refused.value.code == "quota_exceeded"
    assert stored_names() == []


@pytest.mark.django_db
def test_a_rolled_back_deletion_keeps_the_bytes(
    media_root: Path, django_capture_on_commit_callbacks
) -> None:
    owner = account()
    stored = upload(owner)

    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                file_delete(actor=owner, file_id=stored.pk, client=SYSTEM)
                raise RuntimeError("the request failed later")
        except RuntimeError:
            pass

    assert StoredFile.objects.filter(pk=stored.pk).exists()
    assert stored_names() == [stored.storage_name]

    with django_capture_on_commit_callbacks(execute=True):
        file_delete(actor=SYSTEM_ACTOR, file_id=stored.pk, client=SYSTEM)
    assert stored_names() == []


@pytest.mark.django_db
def test_erasure_takes_the_users_files_their_bytes_and_the_shares_they_received(
    media_root: Path, django_capture_on_commit_callbacks
) -> None:
    user, other = account(), account()
    mine = upload(user)
    file_share(
        actor=user,
        file_id=mine.pk,
        user_id=other.pk,
        permission=SharePermission.CHANGE,
        client=SYSTEM,
    )
    theirs = upload(other, TEXT)
    file_share(
        actor=other,
        file_id=theirs.pk,
        user_id=user.pk,
        permission=SharePermission.VIEW,
        client=SYSTEM,
    )

    with django_capture_on_commit_callbacks(execute=True):
        files_erase_for_user(user=user)

    assert list(StoredFile.objects.all()) == [theirs]
    assert not StoredFilePermission.objects.exists()
    assert stored_names() == [theirs.storage_name]


@pytest.mark.skipif(connection.vendor == "sqlite", reason="SQLite serialises writers")
@pytest.mark.django_db(transaction=True)
def test_parallel_uploads_cannot_both_pass_the_quota(
    media_root: Path, settings
) -> None:
    """Two uploads that each fit, but not together, at the same moment: the owner's
    row is locked while the quota is summed and the row inserted, so one of them is
    refused. (SQLite, which takes its write lock when a transaction starts, serialises
    them anyway; its test database in memory refuses a second writer outright.)"""
    settings.FILE_QUOTA_BYTES = len(PDF) + len(PDF) // 2
    owner = account()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    real_save = services.default_storage.save

    def save_then_wait(name: str, content: object) -> str:
        saved = real_save(name, content)
        barrier.wait(timeout=10)  # both passed the early check, both wrote their bytes
        return saved

    def attempt() -> None:
        try:
            upload(owner)
            outcomes.append("stored")
        except ApplicationError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    services.default_storage.save = save_then_wait  # type: ignore[method-assign]
    try:
        threads = [threading.Thread(target=attempt) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        services.default_storage.save = real_save  # type: ignore[method-assign]

    assert sorted(outcomes) == ["quota_exceeded", "stored"]
    assert StoredFile.objects.count() == 1
    assert stored_names() == [StoredFile.objects.get().storage_name]


@pytest.mark.parametrize(
    ("name", "cleaned"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\x.exe", "x.exe"),
        ("C:\\Users\\me\\report.pdf", "report.pdf"),
        ("a/b\\c/d.txt", "d.txt"),
        ("..", FALLBACK_NAME),
        ("", FALLBACK_NAME),
        ("   ", FALLBACK_NAME),
        ("\x00\x01\x1f\x7f", FALLBACK_NAME),
        ("...hidden", "hidden"),
        (" .env ", "env"),
        ("two\nlines\r\n.txt", "twolines.txt"),
        ("tab\tseparated.txt", "tabseparated.txt"),
        ("evil\u202egnp.exe", "evilgnp.exe"),
        ("\u2066isolate\u2069.pdf", "isolate.pdf"),
        ("bom\ufeff.txt", "bom.txt"),
        ("many   spaces.txt", "many spaces.txt"),
        ("e\u0301te\u0301.txt", "été.txt"),  # NFC
        ("名前.pdf", "名前.pdf"),
    ],
)
def test_clean_file_name(name: str, cleaned: str) -> None:
    assert clean_file_name(name) == cleaned


def test_a_long_name_keeps_its_extension_within_the_cap() -> None:
    assert clean_file_name("a" * 500 + ".pdf") == "a" * (NAME_MAX_LENGTH - 4) + ".pdf"
    assert len(clean_file_name("b" * 500)) == NAME_MAX_LENGTH
    # An "extension" too long to be one is cut like the rest.
    assert len(clean_file_name("c." + "d" * 500)) == NAME_MAX_LENGTH
