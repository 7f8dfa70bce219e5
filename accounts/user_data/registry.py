"""The registry of user data: for each model that holds a user's data, how its rows are
exported (one section of the document) and how they are erased.

See ``accounts/user_data/__init__.py`` for the rules an entry follows.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.utils import timezone
from rest_framework import serializers

from accounts.models import User

# Keys of the document that are not sections.
RESERVED_KEYS = frozenset({"exported_at"})

Export = Callable[[User], Any]
Erase = Callable[[User], None]


@dataclass(frozen=True)
class Kept:
    """An erasure that keeps the rows on purpose; ``reason`` says why, for the reader."""

    reason: str

    def __call__(self, user: User) -> None:
        return None


def kept(reason: str) -> Kept:
    """``erase=kept("why")``: the rows stay when the account is deleted."""
    if not reason.strip():
        raise ImproperlyConfigured("Say why the rows are kept.")
    return Kept(reason)


@dataclass(frozen=True, eq=False)
class UserData:
    """How one model's rows about a user become one section of the export, and how they
    go when the account is deleted."""

    model: type[models.Model]
    section: str
    export: Export
    schema: serializers.Field
    erase: Erase
    erase_first: bool = False


class UserDataRegistry:
    def __init__(self) -> None:
        self._entries: dict[str, UserData] = {}

    def register(
        self,
        *,
        model: type[models.Model],
        section: str,
        export: Export,
        schema: serializers.Field,
        erase: Erase,
        erase_first: bool = False,
    ) -> UserData:
        """Declare ``model``'s user data: ``export(user)`` returns the data of the section
        ``section``, which ``schema`` (a DRF serializer or field) renders and documents;
        ``erase(user)`` deletes or anonymises the rows (``kept(reason)`` keeps them).
        ``erase_first``: the erasure runs before every other one, for records that find
        the user's data through the other rows (the admin's log names them by id)."""
        if section in RESERVED_KEYS or section in self._entries:
            raise ImproperlyConfigured(
                f"The export section {section!r} is reserved or already registered."
            )
        if not callable(export) or not callable(erase):
            raise ImproperlyConfigured(
                f"The section {section!r} needs both an export and an erase."
            )
        entry = UserData(
            model=model,
            section=section,
            export=export,
            schema=schema,
            erase=erase,
            erase_first=erase_first,
        )
        self._entries[section] = entry
        return entry

    def __iter__(self) -> Iterator[UserData]:
        return iter(tuple(self._entries.values()))

    def __len__(self) -> int:
        return len(self._entries)

    def covered_models(self) -> set[type[models.Model]]:
        return {
            model
            for entry in self
            if (model := entry.model._meta.concrete_model) is not None
        }

    def document(
        self,
        user: User,
        *,
        now: datetime | None = None,
        context: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The export: each section rendered by the serializer that documents it, so
        the document has the shape the OpenAPI schema shows (JSON-ready). ``context``
        reaches the serializers (``{"request": ...}``: absolute URLs)."""
        exported_at = serializers.DateTimeField().to_representation(
            now or timezone.now()
        )
        document: dict[str, Any] = {"exported_at": exported_at}
        for entry in self:
            schema = entry.schema
            if context:  # a copy per export: the registered field is shared
                schema = copy.deepcopy(schema)
                schema._context = context  # type: ignore[attr-defined]
            document[entry.section] = schema.to_representation(entry.export(user))
        return document

    def erase(self, user: User) -> None:
        """Run every entry's erasure, in the reverse order of registration: the data of
        later apps before the base app's, and the account row itself (the first entry)
        last; entries registered with ``erase_first`` before all of them. Call it inside
        the deleting transaction."""
        entries = tuple(reversed(tuple(self)))
        for entry in sorted(entries, key=lambda entry: not entry.erase_first):
            entry.erase(user)


user_data_registry = UserDataRegistry()
register_user_data = user_data_registry.register


def user_export(
    *,
    user: User,
    now: datetime | None = None,
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Every datum held about ``user``, as one JSON-ready document (``context``: for
    its serializers, such as the request that absolute URLs are made on)."""
    return user_data_registry.document(user, now=now, context=context)
