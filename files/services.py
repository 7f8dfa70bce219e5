"""Writes of files: upload, describe, delete, share, unshare, erase a user's files.

The bytes and the row never part ways:

- an upload writes the bytes first (under a random name, ``new_file_storage_name``),
  then creates the row in a transaction; if anything fails after the write (the quota,
  the database, an audit event), the bytes are deleted before the error goes on. The
  one case this cannot see is an *outer* transaction of the caller's rolling back after
  the upload returned (Django has no rollback hook): ``manage.py files_gc`` collects
  those bytes once they are older than its grace period;
- a deletion removes the row (and its shares) in the transaction and the bytes in
  ``transaction.on_commit``: a rolled-back deletion keeps them.

Who may do what is ``accounts.access`` (through ``files.selectors.file_access``, which
answers ``404 not_found`` for a file the actor may not see). Every upload, deletion,
share and unshare is audited, its target the file's owner.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from functools import partial
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from accounts import access
from accounts.access import Actor, person
from accounts.constants import AuditKind
from accounts.models import User
from accounts.selectors import is_blocked_by
from accounts.services.audit import audit_record
from config.client import SYSTEM, ClientInfo
from config.error_codes import ApplicationError
from files.constants import CODENAMES, SharePermission
from files.models import (
    Avatar,
    StoredFile,
    StoredFilePermission,
    new_file_storage_name,
)
from files.names import clean_file_name
from files.selectors import bytes_used_by, file_access
from files.sniffing import sniff_content_type

logger = logging.getLogger(__name__)

DESCRIPTION_MAX_LENGTH = 500
_DIGEST_CHUNK_BYTES = 1024 * 1024


def unsupported_type(content_type: str | None) -> ApplicationError:
    return ApplicationError(
        "unsupported_file_type",
        "This kind of file is not accepted.",
        extra={
            "detected_type": content_type,
            "allowed_types": list(settings.FILE_ALLOWED_TYPES),
        },
    )


def quota_exceeded(*, used: int, size: int) -> ApplicationError:
    quota = settings.FILE_QUOTA_BYTES
    return ApplicationError(
        "quota_exceeded",
        f"Storing this file would take your files past {quota:,} bytes.",
        extra={"quota_bytes": quota, "used_bytes": used, "file_bytes": size},
    )


def _size_and_digest(stream: IO[bytes]) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    stream.seek(0)
    while chunk := stream.read(_DIGEST_CHUNK_BYTES):
        digest.update(chunk)
        size += len(chunk)
    stream.seek(0)
    return size, digest.hexdigest()


def delete_bytes(storage_name: str) -> None:
    """Remove stored bytes; a failure is logged, not raised (``files_gc`` finds what is
    left: the row is gone already)."""
    try:
        default_storage.delete(storage_name)
    except Exception:
        logger.exception("Could not delete %s from the storage.", storage_name)


def file_upload(
    *,
    actor: User,
    content: IO[bytes],
    name: str,
    description: str = "",
    client: ClientInfo,
) -> StoredFile:
    """Store ``content`` (a file the upload handlers wrote to disk) as the actor's.

    Refused: ``415 unsupported_file_type`` for content whose sniffed type is not in
    ``FILE_ALLOWED_TYPES`` (whatever the name or the declared type say), ``413
    quota_exceeded`` when the actor's files would pass ``FILE_QUOTA_BYTES``. The quota
    is summed and the row inserted while the owner's row is locked, so two parallel
    uploads cannot both pass it.
    """
    content_type = sniff_content_type(content)
    if content_type not in settings.FILE_ALLOWED_TYPES:
        raise unsupported_type(content_type)
    size, sha256 = _size_and_digest(content)
    # Cheap early answer, before any byte is written; the locked check below decides.
    used = bytes_used_by(actor.pk)
    if used + size > settings.FILE_QUOTA_BYTES:
        raise quota_exceeded(used=used, size=size)

    storage_name = default_storage.save(
        new_file_storage_name(actor.pk), File(content, name="upload")
    )
    try:
        with transaction.atomic():
            owner = User.objects.select_for_update().get(pk=actor.pk)
            used = bytes_used_by(owner.pk)
            if used + size > settings.FILE_QUOTA_BYTES:
                raise quota_exceeded(used=used, size=size)
            now = timezone.now()
            stored = StoredFile.objects.create(
                owner=owner,
                storage_name=storage_name,
                original_name=clean_file_name(name),
                content_type=content_type,
                size=size,
                sha256=sha256,
                description=description,
                created_at=now,
                updated_at=now,
            )
            audit_record(
                kind=AuditKind.FILE_UPLOADED,
                actor=actor,
                target=owner,
                client=client,
                payload=_audit_payload(stored),
            )
    except BaseException:
        delete_bytes(storage_name)
        raise
    return stored


def file_update(
    *, actor: User, file_id: uuid.UUID, description: str, client: ClientInfo
) -> StoredFile:
    """Change the description: the owner, or a sharee with ``change``; ``404`` for a
    file the actor may not see, ``403 permission_denied`` for one they may only view."""
    with transaction.atomic():
        _lock(file_id)
        found = file_access(actor, file_id)
        if not found.may_edit:
            raise access.refusal()
        stored = found.file
        stored.description = description
        stored.updated_at = timezone.now()
        stored.save(update_fields=["description", "updated_at"])
    return stored


def file_delete(*, actor: Actor, file_id: uuid.UUID, client: ClientInfo) -> None:
    """Delete a file: its owner, or staff who may moderate the owner
    (``Action.DELETE_FILE``). The bytes go once the transaction commits."""
    with transaction.atomic():
        _lock(file_id)
        found = file_access(actor, file_id)
        access.check_file_deletion(actor, found.file.owner)
        _delete(found.file, actor=actor, client=client)


def _delete(stored: StoredFile, *, actor: Actor, client: ClientInfo) -> None:
    payload = _audit_payload(stored)  # before the delete, which clears the pk
    stored.delete()  # its shares go with it (a foreign key, on delete cascade)
    audit_record(
        kind=AuditKind.FILE_DELETED,
        actor=person(actor),
        target=stored.owner,
        client=client,
        payload=payload,
    )
    transaction.on_commit(partial(delete_bytes, stored.storage_name))


def file_share(
    *,
    actor: User,
    file_id: uuid.UUID,
    user_id: uuid.UUID,
    permission: SharePermission,
    client: ClientInfo,
) -> dict[str, Any]:
    """Share a file with ``user_id``, replacing any share they held (``view`` or
    ``change``). The owner alone; ``404`` for a file the actor may not see, ``403`` for
    one they see but do not own.

    The sharee must be someone the owner finds in the user directory (``GET
    users/{id}/``): an active account other than the owner's that has not blocked the
    owner. Anyone else is ``400 validation_error`` "No such user." on ``user``: the
    same answer for an unknown id, a deactivated account and one that blocked the owner,
    so sharing tells nothing the directory does not.
    """
    with transaction.atomic():
        _lock(file_id)
        found = file_access(actor, file_id)
        if not found.may_share:
            raise access.refusal()
        sharee = User.objects.filter(pk=user_id, is_active=True).first()
        if (
            sharee is None
            or sharee.pk == found.file.owner_id
            or is_blocked_by(actor, sharee)
        ):
            raise ValidationError({"user": ["No such user."]})
        stored = found.file
        for share, codename in CODENAMES.items():
            if share != permission:
                remove_perm(f"files.{codename}", sharee, stored)
        try:
            with transaction.atomic():
                assign_perm(f"files.{CODENAMES[permission]}", sharee, stored)
        except IntegrityError:
            pass  # the same share, made at once by another request: shared either way
        audit_record(
            kind=AuditKind.FILE_SHARED,
            actor=actor,
            target=stored.owner,
            client=client,
            payload={
                **_audit_payload(stored),
                "user_id": str(sharee.pk),
                "permission": str(permission),
            },
        )
    return {"user": sharee.pk, "permission": permission}


def file_unshare(
    *, actor: User, file_id: uuid.UUID, user_id: uuid.UUID, client: ClientInfo
) -> None:
    """Stop sharing a file with ``user_id`` (the owner alone). Unsharing with someone
    it is not shared with changes nothing and answers the same."""
    with transaction.atomic():
        _lock(file_id)
        found = file_access(actor, file_id)
        if not found.may_share:
            raise access.refusal()
        removed, _ = StoredFilePermission.objects.filter(
            content_object_id=found.file.pk, user_id=user_id
        ).delete()
        if removed:
            audit_record(
                kind=AuditKind.FILE_UNSHARED,
                actor=actor,
                target=found.file.owner,
                client=client,
                payload={**_audit_payload(found.file), "user_id": str(user_id)},
            )


def files_erase_for_user(*, user: User) -> None:
    """A deleted account's files (rows, their shares, and the bytes once
    ``user_delete``'s transaction commits) and the shares given to it. No audit event:
    the account's deletion is the record."""
    StoredFilePermission.objects.filter(user_id=user.pk).delete()
    names = list(
        StoredFile.objects.filter(owner_id=user.pk).values_list(
            "storage_name", flat=True
        )
    )
    StoredFile.objects.filter(owner_id=user.pk).delete()
    for storage_name in names:
        transaction.on_commit(partial(delete_bytes, storage_name))


def file_delete_missing(*, file_id: uuid.UUID) -> None:
    """Remove the row of a file whose bytes are gone (``manage.py files_gc``), as the
    system (audited ``file.deleted`` with no actor)."""
    file_delete(actor=access.SYSTEM_ACTOR, file_id=file_id, client=SYSTEM)


def avatar_delete_missing(*, user_id: uuid.UUID, storage_name: str) -> None:
    """Forget an avatar whose bytes are gone (``manage.py files_gc``): the generated
    one shows again. Only the row that still names those bytes (a new upload since
    keeps its own)."""
    Avatar.objects.filter(user_id=user_id, storage_name=storage_name).delete()


def _lock(file_id: uuid.UUID) -> None:
    # The file's row alone (``of``: PostgreSQL would lock the joined owner too).
    list(StoredFile.objects.select_for_update().filter(pk=file_id).values_list("pk"))


def _audit_payload(stored: StoredFile) -> dict[str, Any]:
    # Not the name: it is the user's own words (erased with them), the id finds the rest.
    return {
        "file_id": str(stored.pk),
        "content_type": stored.content_type,
        "size": stored.size,
    }
