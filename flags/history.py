"""Flags as staff read them: a flag's rules in one phrase, and its history in sentences.

The admin's list and change page and ``manage.py flags`` say the same thing the same way:
"On for everyone", "30% of signed-in users + roles admin, tester + 3 users", "Off: no
rule turns it on"; a change reads "Everyone: By rules → On for everyone", with usernames
for the user ids a change stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils.text import Truncator

from accounts.constants import ROLE_ORDER
from accounts.models import User
from accounts.timezones import moment
from flags.models import Flag, FlagChange

ON_FOR_EVERYONE = "On for everyone"
OFF_FOR_EVERYONE = "Off for everyone"
BY_RULES = "By rules"
NOTHING_TURNS_IT_ON = "Off: no rule turns it on"
# A user id a change names whose account is gone (erased accounts keep the history).
GONE = "(deleted account)"
NOTE_LENGTH = 60


def everyone_text(everyone: bool | None) -> str:
    if everyone is None:
        return BY_RULES
    return ON_FOR_EVERYONE if everyone else OFF_FOR_EVERYONE


def percent_text(percent: Decimal | float | None) -> str:
    """``30%``, ``12.5%``; ``none`` for no percentage."""
    if percent is None:
        return "none"
    text = f"{Decimal(str(percent)).normalize():f}"
    return f"{text}%"


def role_names(names: Iterable[str]) -> list[str]:
    """Role names lowest first, as the roles are ranked."""
    order = {role.value: rank for rank, role in enumerate(ROLE_ORDER)}
    return sorted(names, key=lambda name: (order.get(name, len(order)), name))


def rules_text(
    *,
    everyone: bool | None,
    percent: Decimal | float | None,
    roles: Iterable[str],
    user_count: int,
) -> str:
    """A flag's rules in one phrase."""
    if everyone is not None:
        return everyone_text(everyone)
    parts = []
    if percent:
        parts.append(f"{percent_text(percent)} of signed-in users")
    roles = role_names(roles)
    if roles:
        parts.append(f"{'roles' if len(roles) > 1 else 'role'} {', '.join(roles)}")
    if user_count:
        parts.append(f"{user_count} user{'s' if user_count > 1 else ''}")
    return " + ".join(parts) if parts else NOTHING_TURNS_IT_ON


def state_of(flag: Flag) -> str:
    """``on`` or ``off`` for everyone, or ``rules``."""
    if flag.everyone is None:
        return "rules"
    return "on" if flag.everyone else "off"


def short_note(note: str, length: int = NOTE_LENGTH) -> str:
    return Truncator(" ".join(note.split())).chars(length)


# --- History ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryEntry:
    """One change, readable: when, who, through which way in, what changed."""

    created_at: datetime
    when: str  # in the time zone in force (the staff member's, in the admin)
    who: str
    via: str
    lines: list[str]


def _value_text(field: str, value: Any) -> str:
    if field == "everyone":
        return everyone_text(value)
    if field == "percent":
        return percent_text(value)
    if field == "roles":
        return ", ".join(role_names(value)) or "none"
    if field == "note":
        return f'"{short_note(value or "")}"' if value else "empty"
    return str(value)  # pragma: no cover - every rule is named above


LABELS = {
    "everyone": "Everyone",
    "percent": "Percentage",
    "roles": "Roles",
    "users": "Users",
    "note": "Note",
}


def change_lines(changes: Mapping[str, Any], usernames: Mapping[str, str]) -> list[str]:
    """Each rule a change changed, in one line: ``Everyone: By rules → On for
    everyone``, ``Users: added ada; removed bob``. A change of nothing is the flag's
    creation."""
    if not changes:
        return ["Created"]
    lines = []
    for field, label in LABELS.items():
        change = changes.get(field)
        if change is None:
            continue
        if field == "users":
            parts = []
            for verb in ("added", "removed"):
                ids = change.get(verb) or []
                if ids:
                    names = ", ".join(usernames.get(str(each), GONE) for each in ids)
                    parts.append(f"{verb} {names}")
            lines.append(f"{label}: {'; '.join(parts)}")
        else:
            before = _value_text(field, change.get("from"))
            after = _value_text(field, change.get("to"))
            lines.append(f"{label}: {before} → {after}")
    return lines


def who_of(change: FlagChange) -> str:
    if change.actor is not None:
        return change.actor.username
    if change.source == FlagChange.Source.COMMAND:
        return "system (manage.py)"
    return GONE


def flag_history(flag: Flag, *, limit: int | None = None) -> list[HistoryEntry]:
    """The flag's changes, newest first (``limit`` of them): two queries, one for the
    changes and their actors, one for the usernames of the users they added or
    removed."""
    changes: Sequence[FlagChange] = list(
        FlagChange.objects.filter(flag=flag).select_related("actor")[:limit]
        if limit is not None
        else FlagChange.objects.filter(flag=flag).select_related("actor")
    )
    ids = {
        str(each)
        for change in changes
        for verb in ("added", "removed")
        for each in (change.changes.get("users") or {}).get(verb, [])
    }
    usernames = (
        {
            str(pk): username
            for pk, username in User.objects.filter(pk__in=ids).values_list(
                "pk", "username"
            )
        }
        if ids
        else {}
    )
    return [
        HistoryEntry(
            created_at=change.created_at,
            when=moment(change.created_at, seconds=True),
            who=who_of(change),
            via=FlagChange.Source(change.source).label,
            lines=change_lines(change.changes, usernames),
        )
        for change in changes
    ]
