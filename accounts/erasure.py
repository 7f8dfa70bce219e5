"""What deleting an account erases in other apps.

``accounts`` is the base app and imports no other; an app that keeps a user's data (files,
API keys...) registers an eraser here, and ``user_delete`` calls every eraser inside its
transaction. Each eraser gets the user (still with its original id) and deletes or revokes
what belongs to it; removing stored bytes must wait for the commit (``on_commit``).
"""

from __future__ import annotations

from collections.abc import Callable

from accounts.models import User

UserDataEraser = Callable[[User], None]

_erasers: dict[str, UserDataEraser] = {}


def register_eraser(name: str, eraser: UserDataEraser) -> None:
    _erasers[name] = eraser


def registered_erasers() -> dict[str, UserDataEraser]:
    return dict(_erasers)
