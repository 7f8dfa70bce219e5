"""Reads of files, scoped by construction: a list holds what the actor may see, a detail
raises ``404 not_found`` for what they may not (the same answer as for an id that does
not exist: no existence oracle).

Who sees what is ``accounts.access`` (owner, sharee, staff); whether the actor is a
sharee is read here, from guardian's direct table ``StoredFilePermission``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from accounts import access
from accounts.access import Actor, SystemActor
from accounts.models import User
from config.error_codes import ApplicationError
from files.constants import CHANGE_CODENAME, CODENAMES, SharePermission
from files.models import StoredFile, StoredFilePermission


def file_not_found() -> ApplicationError:
    return ApplicationError("not_found", "No such file.")


@dataclass(frozen=True)
class FileAccess:
    """What the actor found a file through, and may do to it (``accounts.access``)."""

    file: StoredFile
    is_owner: bool
    shared_as: SharePermission | None  # the actor's share, if they hold one
    may_edit: bool
    may_share: bool
    may_delete: bool


def _shares_held(actor: Actor, codename: str | None = None) -> QuerySet[Any]:
    shares = StoredFilePermission.objects.filter(content_object=OuterRef("pk"))
    # The system holds no share (it sees every file through access.may_see_file).
    shares = (
        shares.filter(pk__isnull=True)
        if isinstance(actor, SystemActor)
        else shares.filter(user_id=actor.pk)
    )
    if codename is not None:
        shares = shares.filter(permission__codename=codename)
    return shares


def files_visible_to(actor: User) -> QuerySet[StoredFile]:
    """The actor's own files and those shared with them, newest first, each annotated
    with ``shared_change`` (the actor holds ``change`` on it). Staff see every file in
    the admin; this list is a person's own view, so it is the same for them."""
    return (
        _annotated(actor)
        .filter(Q(owner_id=actor.pk) | Q(shared=True))
        .order_by("-created_at", "-id")
    )


def _annotated(actor: Actor) -> QuerySet[StoredFile]:
    return StoredFile.objects.annotate(
        shared=Exists(_shares_held(actor)),
        shared_change=Exists(_shares_held(actor, CHANGE_CODENAME)),
    )


def file_access(actor: Actor, file_id: uuid.UUID | str) -> FileAccess:
    """The file ``file_id`` as the actor sees it; ``404 not_found`` when there is none
    or the actor may not see it. Services lock the row first, then ask this."""
    stored = _annotated(actor).select_related("owner").filter(pk=file_id).first()
    if stored is None or not access.may_see_file(
        actor, stored.owner, shared_with_actor=getattr(stored, "shared", False)
    ):
        raise file_not_found()
    return access_to(actor, stored)


def access_to(actor: Actor, stored: StoredFile) -> FileAccess:
    """What ``actor`` may do to ``stored``, a row annotated as the selectors do."""
    owner = stored.owner
    shared_as = None
    # The annotations of the selectors' querysets (``_annotated``).
    if getattr(stored, "shared_change", False):
        shared_as = SharePermission.CHANGE
    elif getattr(stored, "shared", False):
        shared_as = SharePermission.VIEW
    return FileAccess(
        file=stored,
        is_owner=access.may_share_file(actor, owner),
        shared_as=shared_as,
        may_edit=access.may_edit_file(
            actor, owner, actor_may_change=shared_as is SharePermission.CHANGE
        ),
        may_share=access.may_share_file(actor, owner),
        may_delete=access.may_delete_file(actor, owner),
    )


def bytes_used_by(owner_id: uuid.UUID) -> int:
    """The size of every file ``owner_id`` owns (the quota's measure)."""
    return int(
        StoredFile.objects.filter(owner_id=owner_id).aggregate(
            used=Coalesce(Sum("size"), Value(0))
        )["used"]
    )


def shares_of(file_id: uuid.UUID) -> list[dict[str, Any]]:
    """Who a file is shared with, and how: ``[{"user_id", "permission"}]``."""
    by_codename = {codename: share for share, codename in CODENAMES.items()}
    rows = StoredFilePermission.objects.filter(content_object_id=file_id).values_list(
        "user_id", "permission__codename"
    )
    found: dict[uuid.UUID, SharePermission] = {}
    for user_id, codename in rows:
        share = by_codename[codename]
        if found.get(user_id) is not SharePermission.CHANGE:
            found[user_id] = share
    return [{"user_id": user, "permission": share} for user, share in found.items()]
