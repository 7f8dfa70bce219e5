"""Avatars: set, remove and erase (writes), and what ``GET users/{id}/avatar/`` serves.

The bytes are written before the row and removed after it:

- :func:`avatar_set` stores the new PNG first, then, in its own (outermost) transaction,
  points the row at it; if that transaction fails the new bytes are deleted, so a failed
  upload leaves the previous avatar as it was and no orphan. The previous bytes are
  deleted once the new row is committed.
- :func:`avatar_remove` and :func:`avatars_erase` delete the row and leave the bytes to
  ``transaction.on_commit``: a rolled-back removal keeps a working avatar.

A bytes deletion that fails after the commit (the storage is down) is logged and leaves
an orphan for ``manage.py files_gc``: never a row without its bytes.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from functools import partial
from typing import IO

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from accounts import access
from accounts.access import Actor, person
from accounts.constants import AuditKind
from accounts.models import User
from accounts.selectors import stand_in_user
from accounts.services.audit import audit_record
from config.client import ClientInfo
from config.error_codes import ApplicationError
from files.images import avatar_png, generated_etag, initials_of
from files.models import Avatar, new_avatar_storage_name

logger = logging.getLogger("gatehouse.files")


def delete_stored(name: str) -> None:
    """Remove ``name`` from the storage (after a commit): a failure is logged, not
    raised, and leaves an orphan for ``files_gc``."""
    try:
        default_storage.delete(name)
    except Exception:
        logger.exception("Could not delete %s from the storage", name)


def avatar_set(
    *, user: User, actor: Actor, client: ClientInfo, upload: IO[bytes]
) -> Avatar:
    """Make ``upload`` (any accepted image) ``user``'s avatar, re-encoded
    (``files.images.avatar_png``): 415 ``unsupported_file_type``, 400 ``invalid_image``.
    Only the user sets their own avatar."""
    access.check_avatar_change(actor, user)
    image = avatar_png(upload)  # CPU-bound, before any lock or write
    stored = default_storage.save(
        new_avatar_storage_name(user.pk), ContentFile(image.png)
    )
    try:
        avatar, previous = _avatar_point_at(
            user=user, actor=actor, client=client, stored=stored, etag=image.sha256
        )
    except BaseException:
        delete_stored(stored)
        raise
    if previous and previous != stored:
        delete_stored(previous)  # committed: the new avatar is in place
    return avatar


@transaction.atomic(durable=True)  # outermost: the bytes' fate follows its commit
def _avatar_point_at(
    *, user: User, actor: Actor, client: ClientInfo, stored: str, etag: str
) -> tuple[Avatar, str | None]:
    # The user's row serialises two uploads of one user (the avatar row may not exist).
    User.objects.select_for_update().filter(pk=user.pk).exists()
    previous = (
        Avatar.objects.filter(user_id=user.pk)
        .values_list("storage_name", flat=True)
        .first()
    )
    avatar, _ = Avatar.objects.update_or_create(
        user_id=user.pk,
        defaults={"storage_name": stored, "etag": etag, "updated_at": timezone.now()},
    )
    audit_record(
        kind=AuditKind.AVATAR_CHANGED,
        actor=person(actor),
        target=user,
        client=client,
    )
    return avatar, previous


@transaction.atomic
def avatar_remove(*, user: User, actor: Actor, client: ClientInfo) -> bool:
    """Remove ``user``'s uploaded avatar: the generated one is served again. The user
    themselves, or staff who may moderate them (``REMOVE_AVATAR``). Whether there was
    one: removing none changes nothing and records nothing."""
    access.check_avatar_removal(actor, user)
    avatar = Avatar.objects.select_for_update().filter(user_id=user.pk).first()
    if avatar is None:
        return False
    avatar.delete()
    audit_record(
        kind=AuditKind.AVATAR_REMOVED,
        actor=person(actor),
        target=user,
        client=client,
        payload={} if person(actor) == user else {"by_staff": True},
    )
    transaction.on_commit(partial(delete_stored, avatar.storage_name))
    return True


def avatars_erase(*, user: User) -> None:
    """Delete ``user``'s avatar row, and its bytes once ``user_delete`` commits."""
    names = list(
        Avatar.objects.filter(user_id=user.pk).values_list("storage_name", flat=True)
    )
    Avatar.objects.filter(user_id=user.pk).delete()
    for name in names:
        transaction.on_commit(partial(delete_stored, name))


# --- Reads ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AvatarToServe:
    """What ``GET users/{id}/avatar/`` answers: the stored PNG (``storage_name``) or
    the generated one (``initials`` on the user's colour); ``etag`` either way."""

    user_id: uuid.UUID
    etag: str
    storage_name: str | None = None
    initials: str = ""


def avatar_to_serve(user_id: uuid.UUID) -> AvatarToServe:
    """One query: the user and their avatar row. ``404 not_found`` (the body of any
    unknown route) for an unknown id. A deactivated account answers its generated
    avatar (its upload is kept for a reactivation, not shown meanwhile); an erased one
    has no upload and the initials of "Deleted user"."""
    row = (
        User.objects.filter(pk=user_id)
        .values(
            "display_name",
            "username",
            "is_active",
            "avatar__storage_name",
            "avatar__etag",
        )
        .first()
    )
    if row is None:
        # A sign-up's stand-in (its address had an account) draws as the new account
        # it pretends to be, or its avatar URL would tell that the address is taken.
        stand_in = stand_in_user(user_id)
        if stand_in is None:
            raise ApplicationError("not_found", "Not found.")
        return _generated(user_id, stand_in.display_name, stand_in.username)
    if row["avatar__storage_name"] and row["is_active"]:
        return AvatarToServe(
            user_id=user_id,
            etag=row["avatar__etag"],
            storage_name=row["avatar__storage_name"],
        )
    return _generated(user_id, row["display_name"], row["username"])


def _generated(user_id: uuid.UUID, display_name: str, username: str) -> AvatarToServe:
    initials = initials_of(display_name, username)
    return AvatarToServe(
        user_id=user_id,
        etag=generated_etag(user_id, initials, settings.AVATAR_SIZE),
        initials=initials,
    )
