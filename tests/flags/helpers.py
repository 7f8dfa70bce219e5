"""Making flags in tests: as the system, through the services (history, audit,
invalidation as in production)."""

from __future__ import annotations

from typing import Any

from accounts.access import SYSTEM_ACTOR
from config.client import SYSTEM
from flags.models import Flag, FlagChange
from flags.services import flag_create, flag_update


def make_flag(name: str, **rules: Any) -> Flag:
    return flag_create(
        name=name,
        actor=SYSTEM_ACTOR,
        client=SYSTEM,
        source=FlagChange.Source.COMMAND,
        rules=rules or None,
    )


def set_rules(name: str, **rules: Any) -> Flag:
    return flag_update(
        name=name,
        changes=rules,
        actor=SYSTEM_ACTOR,
        client=SYSTEM,
        source=FlagChange.Source.COMMAND,
    )
