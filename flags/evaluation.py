"""Whether a flag is on for a caller, with no SQL once warm and no cache read of its own.

Every flag's rules are compiled into one :class:`RuleSet`, kept by each process and
stored in the cache under the rule set's version (``flags:rules:<version>``). The
version (``flags:version``) is a new random value after every committed change
(:func:`rules_changed`). A process goes by the newest version it has seen in the last
``FLAGS_REFRESH_SECONDS``: the session check reads the version in its own round trip
(``config.round_trip``), so a warm authenticated request makes no cache read for flags;
a process that saw no version for that long (anonymous traffic only) reads it itself,
once for all its requests. When the version moves, the process loads the new rule set
from the cache (one read), or on a miss from the database (three queries) and stores
it. A change is therefore seen by every worker within ``FLAGS_REFRESH_SECONDS`` of its
commit.

Why this is never stale for long: the version is written after the change commits, so
a process that reads it and then loads the rules from the database sees the change. A
rule set loaded before the commit is stored under the version read before it, which no
process goes by once the new version is written.

If the cache cannot be read, the database answers, at most once per process per
``FLAGS_REFRESH_SECONDS``.

Percentages are stable per user: a user is in a flag's share when a hash of the flag's
name and the user's id falls in it (no cookie, no randomness), so the same user gets the
same answer on every request, in every process, and a 30 % flag raised to 40 % keeps
its first 30 %. Anonymous callers have no id: a percentage never includes them.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from waffle import get_waffle_flag_model

from accounts.roles import roles_of
from config import round_trip
from config.error_codes import ApplicationError

logger = logging.getLogger("gatehouse.flags")

VERSION_KEY = "flags:version"
# How long a stored rule set outlives its version (a process still on it finishes).
RULES_TIMEOUT = 24 * 60 * 60
# Shares are counted in tenths of a percent: 1,000 buckets.
BUCKETS = 1000

round_trip.ride_along(VERSION_KEY)


def rules_key(version: str) -> str:
    return f"flags:rules:{version}"


@dataclass(frozen=True, slots=True)
class Rule:
    """One flag's rules, compiled. ``share`` is in tenths of a percent (0-1000)."""

    everyone: bool | None
    share: int
    roles: frozenset[str]
    user_ids: frozenset[str]

    def is_on_for(self, name: str, user: Any) -> bool:
        if self.everyone is not None:
            return self.everyone
        if user is None or not user.is_authenticated:
            return False
        user_id = str(user.pk)
        if user_id in self.user_ids:
            return True
        if self.roles and not self.roles.isdisjoint(roles_for(user)):
            return True
        return self.share > 0 and bucket(name, user_id) < self.share


def bucket(name: str, user_id: str) -> int:
    """The user's place (0-999) in the flag's population: stable, and independent from
    one flag to the next (the name is hashed with the id)."""
    digest = hashlib.sha256(f"{name}\x00{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def share_of(percent: Decimal | float | None) -> int:
    """A percentage as a number of buckets."""
    if percent is None:
        return 0
    return max(0, min(BUCKETS, round(Decimal(percent) * 10)))


def roles_for(user: Any) -> Iterable[str]:
    """The user's roles: a request's ``SessionUser`` from its snapshot, a loaded user
    from its groups (read once and kept on it)."""
    roles = getattr(user, "roles", None)
    if roles is not None:
        return roles
    cached = user.__dict__.get("_flag_roles")
    if cached is None:
        cached = roles_of(
            user.groups.values_list("name", flat=True),
            is_superuser=user.is_superuser,
        )
        user.__dict__["_flag_roles"] = cached
    return cached


@dataclass(frozen=True, slots=True)
class RuleSet:
    version: str | None
    rules: dict[str, Rule]

    def is_on(self, name: str, user: Any, *, default: bool = False) -> bool:
        rule = self.rules.get(name)
        return default if rule is None else rule.is_on_for(name, user)

    def evaluate(self, user: Any) -> dict[str, bool]:
        return {name: rule.is_on_for(name, user) for name, rule in self.rules.items()}


def _stored(rules: dict[str, Rule]) -> dict[str, tuple]:
    """A rule set as the cache stores it: plain tuples, small and quick to unpickle."""
    return {
        name: (rule.everyone, rule.share, sorted(rule.roles), sorted(rule.user_ids))
        for name, rule in rules.items()
    }


def _from_stored(stored: dict[str, tuple]) -> dict[str, Rule]:
    return {
        name: Rule(everyone, share, frozenset(roles), frozenset(user_ids))
        for name, (everyone, share, roles, user_ids) in stored.items()
    }


def load_rules() -> dict[str, Rule]:
    """Every flag's rules from the database: three queries."""
    # The model by waffle's setting, not by import: flags.models answers waffle's
    # ``is_active`` through this module.
    Flag: Any = get_waffle_flag_model()

    roles: dict[int, set[str]] = {}
    for flag_id, group_name in Flag.groups.through.objects.values_list(
        "flag_id", "group__name"
    ):
        roles.setdefault(flag_id, set()).add(group_name)
    user_ids: dict[int, set[str]] = {}
    for flag_id, user_id in Flag.users.through.objects.values_list(
        "flag_id", "user_id"
    ):
        user_ids.setdefault(flag_id, set()).add(str(user_id))
    return {
        name: Rule(
            everyone,
            share_of(percent),
            frozenset(roles.get(flag_id, ())),
            frozenset(user_ids.get(flag_id, ())),
        )
        for flag_id, name, everyone, percent in Flag.objects.values_list(
            "id", "name", "everyone", "percent"
        )
    }


class _Memo:
    """This process's rule set and when it last checked that it was current."""

    def __init__(self) -> None:
        self.rule_set: RuleSet | None = None
        self.checked_at = 0.0
        self.lock = threading.Lock()


_memo = _Memo()


def _read_version() -> tuple[bool, str | None]:
    """``(True, version)`` from the cache, writing a first version if there is none
    (a new or emptied cache); ``(False, None)`` when the cache cannot be read."""
    try:
        version = cache.get(VERSION_KEY)
        if version is None:
            cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
            version = cache.get(VERSION_KEY)
    except Exception:  # any failure of the cache backend (redis-py, django-redis)
        logger.warning("The flag cache could not be read; answered from the database")
        return False, None
    round_trip.remember(VERSION_KEY, version)
    return True, version


def _rules_for_version(version: str) -> dict[str, Rule]:
    try:
        stored = cache.get(rules_key(version))
    except Exception:  # any failure of the cache backend
        stored = None
    if stored is not None:
        return _from_stored(stored)
    rules = load_rules()
    try:
        cache.add(rules_key(version), _stored(rules), RULES_TIMEOUT)
    except Exception:  # any failure of the cache backend
        logger.warning("The flag cache refused a write; answered from the database")
    return rules


def current_rules() -> RuleSet:
    """The rule set this process goes by, brought up to date when its version moved."""
    max_age = settings.FLAGS_REFRESH_SECONDS
    fresh, version = round_trip.latest(VERSION_KEY, max_age=max_age)
    if not fresh or version is None:
        readable, version = _read_version()
        if not readable:
            return _from_database_at_most_every(max_age)
    rule_set = _memo.rule_set
    if rule_set is not None and rule_set.version == version:
        return rule_set
    with _memo.lock:
        rule_set = _memo.rule_set
        if rule_set is None or rule_set.version != version:
            rule_set = RuleSet(version, _rules_for_version(version))
            _memo.rule_set = rule_set
            _memo.checked_at = time.monotonic()
    return rule_set


def _from_database_at_most_every(max_age: float) -> RuleSet:
    rule_set = _memo.rule_set
    if (
        rule_set is not None
        and rule_set.version is None
        and time.monotonic() - _memo.checked_at <= max_age
    ):
        return rule_set
    rule_set = RuleSet(None, load_rules())
    _memo.rule_set = rule_set
    _memo.checked_at = time.monotonic()
    return rule_set


def flag_is_on(name: str, user: Any, *, default: bool = False) -> bool:
    """Whether flag ``name`` is on for ``user`` (a request's user, a loaded user,
    ``AnonymousUser`` or ``None``); ``default`` for a flag that does not exist."""
    return current_rules().is_on(name, user, default=default)


def flags_for(user: Any) -> dict[str, bool]:
    """Every flag, evaluated for ``user``."""
    return current_rules().evaluate(user)


def rules_changed() -> None:
    """Call inside a transaction that changes flags: every process reloads the rules
    once it commits.

    Like a revocation (``accounts.session_state.mark_sessions_revoked``), it writes now
    and again after the commit. The write now proves the cache takes writes: if it does
    not, this raises ``503 service_unavailable`` and the change rolls back, rather than
    commit a change no worker would see until the cache recovered. It writes a version
    of its own, which a process may load the old rules under: harmless, since the
    version written after the commit replaces it, and only that one is loaded after the
    change is visible.
    """
    try:
        _write_new_version()
    except Exception as error:  # any failure of the cache backend
        logger.error("Flags not changed: the cache refused the new version")
        raise ApplicationError(
            "service_unavailable",
            "Flags cannot be changed right now: nothing changed, try again shortly.",
        ) from error

    transaction.on_commit(rules_may_have_changed)


def rules_may_have_changed() -> None:
    """A new version, best effort: for flags made by the system (``migrate``'s endpoint
    flags, which are on, as a missing one is), and after a change commits."""
    try:
        _write_new_version()
    except Exception:  # any failure of the cache backend
        logger.error(
            "The flag cache refused a new version; workers keep the rules they have "
            "until the next change",
            exc_info=True,
        )


def _write_new_version() -> None:
    version = uuid.uuid4().hex
    cache.set(VERSION_KEY, version, timeout=None)
    # This process goes by it at once (the others within FLAGS_REFRESH_SECONDS).
    round_trip.remember(VERSION_KEY, version)
