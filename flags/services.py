"""Writes of feature flags: create, change a flag's rules, delete, and the endpoint flags.

Every way in (the API's ``PATCH flags/{name}/``, the admin's form and one-click
toggles, ``manage.py flags``) calls these, so each change is checked against
``accounts.access`` (``change_flags``: staff with their powers in force), recorded in the
flag's history (``FlagChange``) and the audit log in the same transaction, and reaches
every worker within a second of its commit (``flags.evaluation.rules_changed``).

A flag check is never an access check: flags decide which features are shown or served,
the access table decides who may act.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import access
from accounts.access import Action, Actor, person
from accounts.constants import AuditKind, Role
from accounts.models import User
from accounts.services.audit import audit_record
from config.client import ClientInfo
from config.error_codes import ApplicationError
from flags.endpoints import endpoint_flag_names
from flags.evaluation import rules_changed, rules_may_have_changed
from flags.models import Flag, FlagChange

RULE_FIELDS = ("everyone", "percent", "roles", "users", "note")
NAME_MAX_LENGTH = 100
NOTE_MAX_LENGTH = 2000


def flag_not_found() -> ApplicationError:
    return ApplicationError("not_found", "No such flag.")


# --- Reading and checking a change ---------------------------------------------------


def rules_of(flag: Flag) -> dict[str, Any]:
    """A flag's rules as plain values: what the history compares and the API shows."""
    return {
        "everyone": flag.everyone,
        "percent": None if flag.percent is None else float(flag.percent),
        "roles": sorted(flag.groups.values_list("name", flat=True)),
        "users": sorted(str(pk) for pk in flag.users.values_list("pk", flat=True)),
        "note": flag.note,
    }


def _checked_percent(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        percent = Decimal(str(value))
    except InvalidOperation as error:
        raise ValidationError({"percent": ["Give a number from 0 to 100."]}) from error
    if not percent.is_finite() or not Decimal(0) <= percent <= Decimal(100):
        raise ValidationError({"percent": ["Give a number from 0 to 100."]})
    if percent != percent.quantize(Decimal("0.1")):
        raise ValidationError({"percent": ["Give at most one decimal place."]})
    return percent


def _checked_roles(value: Collection[str]) -> list[Group]:
    names = set(value)
    unknown = sorted(names - {role.value for role in Role})
    if unknown:
        raise ValidationError({"roles": [f"Unknown role: {', '.join(unknown)}."]})
    groups = list(Group.objects.filter(name__in=names))
    if len(groups) != len(names):  # pragma: no cover - roles_sync makes every group
        raise ValidationError({"roles": ["Run manage.py sync_roles first."]})
    return groups


def _checked_users(value: Collection[uuid.UUID | str]) -> list[User]:
    try:
        ids = {uuid.UUID(str(each)) for each in value}
    except ValueError as error:
        raise ValidationError({"users": ["Give user ids."]}) from error
    users = list(User.objects.filter(pk__in=ids))
    missing = sorted(str(each) for each in ids - {user.pk for user in users})
    if missing:
        raise ValidationError({"users": [f"No such user: {', '.join(missing)}."]})
    return users


def _checked_note(value: Any) -> str:
    note = str(value or "")
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationError({"note": [f"At most {NOTE_MAX_LENGTH} characters."]})
    return note


def _difference(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Each rule that changed, from what to what (``users``: the ids added and removed)."""
    changes: dict[str, Any] = {}
    for field in RULE_FIELDS:
        if before[field] == after[field]:
            continue
        if field == "users":
            changes[field] = {
                "added": sorted(set(after[field]) - set(before[field])),
                "removed": sorted(set(before[field]) - set(after[field])),
            }
        else:
            changes[field] = {"from": before[field], "to": after[field]}
    return changes


def _record(
    *,
    flag: Flag,
    kind: AuditKind,
    changes: dict[str, Any],
    actor: Actor,
    client: ClientInfo,
    source: FlagChange.Source,
) -> None:
    FlagChange.objects.create(
        flag=flag, actor=person(actor), source=source, changes=changes
    )
    audit_record(
        kind=kind,
        actor=person(actor),
        client=client,
        payload={"flag": flag.name, "source": source.value, "changes": changes},
    )


# --- Writes --------------------------------------------------------------------------


@transaction.atomic
def flag_update(
    *,
    name: str,
    changes: Mapping[str, Any],
    actor: Actor,
    client: ClientInfo,
    source: FlagChange.Source,
) -> Flag:
    """Change any of a flag's rules (``everyone``, ``percent``, ``roles``, ``users``)
    and its ``note``; the keys of ``changes`` say which. All or nothing.

    ``403`` unless ``actor`` may change flags; ``404 not_found`` for an unknown flag
    (after the access check: the answer says nothing about which flags exist to
    someone who may not change them); ``400`` for a rule out of range, an unknown role
    or user. A change that changes nothing records nothing.
    """
    access.check_targetless(actor, Action.CHANGE_FLAGS)
    unknown = sorted(set(changes) - set(RULE_FIELDS))
    if unknown:
        raise ValidationError({field: ["Not a rule of a flag."] for field in unknown})
    flag = Flag.objects.select_for_update().filter(name=name).first()
    if flag is None:
        raise flag_not_found()
    before = rules_of(flag)
    if "everyone" in changes:
        everyone = changes["everyone"]
        if everyone not in (True, False, None):
            raise ValidationError({"everyone": ["Give true, false or null."]})
        flag.everyone = everyone
    if "percent" in changes:
        flag.percent = _checked_percent(changes["percent"])
    if "note" in changes:
        flag.note = _checked_note(changes["note"])
    groups = _checked_roles(changes["roles"]) if "roles" in changes else None
    users = _checked_users(changes["users"]) if "users" in changes else None
    if groups is not None:
        flag.groups.set(groups)
    if users is not None:
        flag.users.set(users)
    after = rules_of(flag)
    difference = _difference(before, after)
    if not difference:
        return flag
    flag.modified = timezone.now()
    flag.save()
    _record(
        flag=flag,
        kind=AuditKind.FLAG_CHANGED,
        changes=difference,
        actor=actor,
        client=client,
        source=source,
    )
    rules_changed()
    return flag


@transaction.atomic
def flag_create(
    *,
    name: str,
    actor: Actor,
    client: ClientInfo,
    source: FlagChange.Source,
    rules: Mapping[str, Any] | None = None,
) -> Flag:
    """A new flag (off for everyone unless ``rules`` say otherwise): ``409 conflict``
    when the name is taken."""
    access.check_targetless(actor, Action.CHANGE_FLAGS)
    name = name.strip()
    if not name or len(name) > NAME_MAX_LENGTH or any(c.isspace() for c in name):
        raise ValidationError(
            {"name": [f"Give a name of 1-{NAME_MAX_LENGTH} characters, no spaces."]}
        )
    try:
        with transaction.atomic():
            flag = Flag.objects.create(name=name, everyone=None)
    except IntegrityError as error:
        raise ApplicationError("conflict", "A flag of that name exists.") from error
    _record(
        flag=flag,
        kind=AuditKind.FLAG_CREATED,
        changes={},
        actor=actor,
        client=client,
        source=source,
    )
    if rules:
        flag = flag_update(
            name=name, changes=rules, actor=actor, client=client, source=source
        )
    rules_changed()
    return flag


@transaction.atomic
def flag_delete(
    *, name: str, actor: Actor, client: ClientInfo, source: FlagChange.Source
) -> None:
    """Delete a flag that code no longer reads (its history goes with it; the audit
    log keeps the deletion). An endpoint's flag cannot be deleted: ``409 conflict``
    (``migrate`` would make it again); switch it on for everyone instead."""
    access.check_targetless(actor, Action.CHANGE_FLAGS)
    flag = Flag.objects.select_for_update().filter(name=name).first()
    if flag is None:
        raise flag_not_found()
    if flag.is_endpoint:
        raise ApplicationError(
            "conflict", "An endpoint's flag cannot be deleted: switch it on instead."
        )
    rules = rules_of(flag)
    flag.delete()
    audit_record(
        kind=AuditKind.FLAG_DELETED,
        actor=person(actor),
        client=client,
        payload={"flag": name, "source": source.value, "rules": rules},
    )
    rules_changed()


def endpoint_flags_sync() -> list[str]:
    """Make the flag of every API route that has none, on for everyone (run after every
    ``migrate``); returns the names made. No person acts: no history, no audit event."""
    names = endpoint_flag_names()
    existing = set(Flag.objects.filter(name__in=names).values_list("name", flat=True))
    missing = [name for name in names if name not in existing]
    if not missing:
        return []
    with transaction.atomic():
        Flag.objects.bulk_create(
            [
                Flag(
                    name=name,
                    everyone=True,
                    is_endpoint=True,
                    note="The flag of this API route: off, the route is refused.",
                )
                for name in missing
            ],
            ignore_conflicts=True,
        )
        transaction.on_commit(rules_may_have_changed)
    return missing
