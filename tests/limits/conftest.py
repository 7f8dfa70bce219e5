from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from limits import policy

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
