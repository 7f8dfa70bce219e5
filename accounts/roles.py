"""Roles, lowest to highest. Each is a Django group of the same name; a superuser counts as
``superadmin`` whatever its groups (API.md)."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Role(StrEnum):
    USER = "user"
    TESTER = "tester"
    MODERATOR = "moderator"
    ADMIN = "admin"
    SUPERADMIN = "superadmin"


ROLE_ORDER = list(Role)


def roles_of(group_names: Iterable[str], *, is_superuser: bool) -> list[str]:
    """The user's roles, lowest first, from its group names."""
    names = set(group_names)
    if is_superuser:
        names.add(Role.SUPERADMIN)
    return [role.value for role in ROLE_ORDER if role.value in names]
