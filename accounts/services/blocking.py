"""Blocking: a user hides their profile (and their avatar's metadata) from another.

A block is django-guardian's object permission ``accounts.blocked_from_profile``, which the
blocked user holds on the blocker's profile (``accounts.models.ProfilePermission``). The
read side is therefore an object rule like any other -- ``accounts.permissions.CanSeeProfile``
-- checked by DRF's object-permission machinery, the same way shared files are checked.
"""

from __future__ import annotations

import uuid

from django.db import IntegrityError, transaction
from guardian.shortcuts import assign_perm, remove_perm

from accounts.models import BLOCKED_FROM_PROFILE, User
from config.error_codes import ApplicationError

BLOCKED = f"accounts.{BLOCKED_FROM_PROFILE}"


def user_block(*, blocker: User, blocked: User) -> None:
    """Idempotent: blocking twice (even two requests at once) leaves one block.

    Someone who blocked ``blocker`` can be blocked back: otherwise a harasser could block
    their target first so that the target cannot hide from them. A deactivated account is
    "not found", as its profile is."""
    if blocker.pk == blocked.pk:
        raise ApplicationError("validation_error", "You cannot block yourself.")
    if not blocked.is_active:
        raise ApplicationError("not_found", "No such user.")
    try:
        with transaction.atomic():
            assign_perm(BLOCKED, blocked, blocker)
    except IntegrityError:
        pass  # the other request's row won: blocked either way


def user_unblock(*, blocker: User, blocked_id: uuid.UUID) -> None:
    """Idempotent: unblocking someone not blocked (or unknown) changes nothing."""
    remove_perm(BLOCKED, User(pk=blocked_id), blocker)
