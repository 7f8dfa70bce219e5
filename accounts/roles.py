"""Roles, lowest to highest, their ranks and the model permissions each adds.

Each role is a Django group of the same name (created by migration, re-applied by
``manage.py sync_roles``); a Django superuser counts as ``superadmin`` whatever its groups
(API.md). A role includes the rights of the roles below it. Which role may act on which
account is ``accounts.access``. The roles themselves and their order are plain values in
``accounts.constants`` (the models read them); this module reads users' roles.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from accounts.constants import RANK, ROLE_ORDER, Role, roles_of

if TYPE_CHECKING:
    from accounts.models import User

__all__ = [
    "RANK",
    "ROLE_ORDER",
    "ROLE_PERMISSIONS",
    "Role",
    "is_staff_member",
    "permissions_of",
    "rank_of",
    "roles_of",
]


# Model permissions each role adds to those of the roles below it: which admin screens it
# sees. The permissions that stand for an action on an account (``ban_user``,
# ``change_user``, ``delete_user``, ``change_authsession``, ``change_role``) follow the
# access table instead (``accounts.access.model_permissions``).
ROLE_PERMISSIONS: dict[Role, list[str]] = {
    Role.USER: [],
    Role.TESTER: [],
    Role.MODERATOR: [
        "accounts.view_user",
        "accounts.view_ban",
        "accounts.add_ban",
        "accounts.view_authsession",
        "accounts.view_auditevent",
        "flags.view_flag",
    ],
    Role.ADMIN: ["accounts.change_ban"],
    Role.SUPERADMIN: ["accounts.add_user"],
}


def rank_of(user: User) -> int:
    """The rank of the user's highest role (``user`` when it has none).

    A request's ``SessionUser`` answers from its cached snapshot (``roles``). A loaded
    ``User`` reads its groups once and keeps the answer, as Django keeps its permission
    cache: load the user again to see a change of roles.
    """
    if user.is_superuser:
        return RANK[Role.SUPERADMIN]
    roles: Iterable[str] | None = getattr(user, "roles", None)
    if roles is None:
        cached: int | None = user.__dict__.get(_RANK_CACHE)
        if cached is not None:
            return cached
        roles = roles_of(user.groups.values_list("name", flat=True), is_superuser=False)
    rank = max((RANK[Role(name)] for name in roles), default=RANK[Role.USER])
    if not hasattr(user, "roles"):
        user.__dict__[_RANK_CACHE] = rank
    return rank


_RANK_CACHE = "_role_rank_cache"


def permissions_of(role: Role) -> list[str]:
    """Every permission of ``role``, the lower roles' included."""
    return [
        permission
        for lower in ROLE_ORDER[: RANK[role] + 1]
        for permission in ROLE_PERMISSIONS[lower]
    ]


def is_staff_member(user: User) -> bool:
    """Staff: the ``is_staff`` flag or a role from moderator up. What staff may do to
    which account is ``accounts.access``."""
    return user.is_staff or rank_of(user) >= RANK[Role.MODERATOR]
