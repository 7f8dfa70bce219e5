"""Fixtures for the rate limits' tests: small limits per group (``limit_groups``,
``small_limits``), a frozen clock (``clock``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from limits import policy
from limits.policy import check_settings

# Whole minutes, hours (and a day's edge far from it): windows are cut at multiples of
# their period since the epoch, the same instants for every caller.
START = 1_800_000_000  # 2027-01-15T08:00:00Z

LimitGroups = Callable[[Mapping[str, Mapping[str, str]]], None]

# Every tier two requests a minute in the default group: the third is refused.
SMALL_GROUPS = {
    "default": {
        "anonymous": "2/m",
        "user": "2/m",
        "tester": "2/m",
        "moderator": "2/m",
        "admin": "2/m",
        "service": "2/m",
    },
    "auth": {"anonymous": "1000/m"},
    "refresh": {},
    "uploads": {},
}


def forget_policy() -> None:
    """``limits.policy`` parses its settings once: let the next request read them."""
    policy.group_limits.cache_clear()
    policy.periods_of.cache_clear()
    policy._route_groups.cache_clear()


@pytest.fixture
def small_limits(settings: Any) -> Iterator[Any]:
    """Two requests a minute in the default group, and a ban at the third ``429``
    within ten minutes: 15 minutes, then 60 (AUTO_BAN_ESCALATION 4)."""
    settings.RATELIMIT_ENABLE = True
    settings.AUTO_BAN_ENABLED = True
    settings.AUTO_BAN_THRESHOLD = 3
    settings.AUTO_BAN_WINDOW_MINUTES = 10
    settings.AUTO_BAN_MINUTES = 15
    settings.AUTO_BAN_ESCALATION = 4
    settings.AUTO_BAN_MAX_MINUTES = 24 * 60
    settings.AUTO_BAN_MEMORY_DAYS = 30
    settings.RATE_LIMIT_GROUPS = SMALL_GROUPS
    policy.check_settings()
    yield settings
    forget_policy()  # the settings fixture restores them after this


@pytest.fixture
def limit_groups(settings) -> LimitGroups:
    """``limit_groups({"default": {"user": "3/m"}})``: the named groups' limits for this
    test (each replaced whole: a tier it does not name is not limited there); the
    other groups keep theirs. Checked as at start-up (``check_settings``); put back
    after the test (``limits.policy`` forgets its parsed settings on every change)."""

    def apply(groups: Mapping[str, Mapping[str, str]]) -> None:
        settings.RATE_LIMIT_GROUPS = {
            **settings.RATE_LIMIT_GROUPS,
            **{name: dict(tiers) for name, tiers in groups.items()},
        }
        check_settings()

    return apply


@pytest.fixture
def clock(time_machine):
    """Time stands still at :data:`START` (``clock.shift(seconds)`` moves it)."""
    time_machine.move_to(START, tick=False)
    return time_machine
