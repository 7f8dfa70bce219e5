"""Roles, lowest to highest, and what each may do: the one place to read it at a glance.

Each role is a Django group of the same name (created by migration, re-applied by
``manage.py sync_roles``); a Django superuser counts as ``superadmin`` whatever its groups
(API.md). A role includes the rights of the roles below it.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    USER = "user"
    TESTER = "tester"
    MODERATOR = "moderator"
    ADMIN = "admin"
    SUPERADMIN = "superadmin"


ROLE_ORDER = list(Role)
RANK = {role: rank for rank, role in enumerate(ROLE_ORDER)}

# Model permissions each role adds to those of the roles below it (they drive the admin).
ROLE_PERMISSIONS: dict[Role, list[str]] = {
    Role.USER: [],
    Role.TESTER: [],
    Role.MODERATOR: [
        "accounts.view_user",
        "accounts.ban_user",
        "accounts.view_ban",
        "accounts.add_ban",
        "accounts.view_authsession",
        "accounts.view_auditevent",
    ],
    Role.ADMIN: [
        "accounts.change_user",
        "accounts.delete_user",
        "accounts.change_ban",
        "accounts.change_authsession",
    ],
    Role.SUPERADMIN: ["accounts.add_user", "accounts.change_role"],
}


def roles_of(group_names: Iterable[str], *, is_superuser: bool) -> list[str]:
    """The user's roles, lowest first, from its group names."""
    names = set(group_names)
    if is_superuser:
        names.add(Role.SUPERADMIN)
    return [role.value for role in ROLE_ORDER if role.value in names]


def rank_of(user: Any) -> int:
    """The rank of the user's highest role (``user`` when it has none)."""
    if getattr(user, "is_superuser", False):
        return RANK[Role.SUPERADMIN]
    roles = getattr(user, "roles", None)
    if roles is None:
        roles = roles_of(user.groups.values_list("name", flat=True), is_superuser=False)
    return max((RANK[Role(name)] for name in roles), default=RANK[Role.USER])


def permissions_of(role: Role) -> list[str]:
    """Every permission of ``role``, the lower roles' included."""
    return [
        permission
        for lower in ROLE_ORDER[: RANK[role] + 1]
        for permission in ROLE_PERMISSIONS[lower]
    ]


def may_ban(actor: Any, target: Any) -> bool:
    """Moderators ban users and testers; admins and superadmins anyone below superadmin;
    nobody bans themselves."""
    if actor.pk == target.pk:
        return False
    actor_rank, target_rank = rank_of(actor), rank_of(target)
    if actor_rank < RANK[Role.MODERATOR]:
        return False
    if actor_rank == RANK[Role.MODERATOR]:
        return target_rank <= RANK[Role.TESTER]
    return target_rank < RANK[Role.SUPERADMIN]


def may_manage(actor: Any, target: Any) -> bool:
    """What the admin lets staff do to another account (edit it, sign it out, reset its
    MFA, erase it): what they may ban, and superadmins anyone -- as ``PUT
    users/{id}/roles/`` lets them act on other superadmins."""
    return target.pk != actor.pk and (
        rank_of(actor) == RANK[Role.SUPERADMIN] or may_ban(actor, target)
    )


def is_staff_member(user: Any) -> bool:
    """Staff: the ``is_staff`` flag or a role from moderator up."""
    return (
        bool(getattr(user, "is_staff", False)) or rank_of(user) >= RANK[Role.MODERATOR]
    )
