"""Reads of the limiter's counters: a caller's usage and limits, counting nothing."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from config.counters import CounterSpec, read_counts
from config.error_codes import ApplicationError
from limits.callers import Caller
from limits.policy import group_limits, limits_for, periods_of


@dataclass(frozen=True)
class WindowUsage:
    """One limit of a group: ``used`` of ``limit`` requests in the sliding window of
    ``seconds`` (``window``: ``"1m"``, ``"1h"``), ``reset`` seconds to its next edge."""

    window: str
    seconds: int
    limit: int
    used: int
    remaining: int
    reset: int


@dataclass(frozen=True)
class GroupUsage:
    """A group's limits for the caller; ``unlimited``: none apply (no windows)."""

    name: str
    unlimited: bool
    windows: tuple[WindowUsage, ...]


@dataclass(frozen=True)
class QuotaUsage:
    tier: str
    groups: tuple[GroupUsage, ...]


def quota_usage(caller: Caller) -> QuotaUsage:
    """``caller``'s usage and limits in every configured group (``RATE_LIMIT_GROUPS``,
    in its order), read in one cache round trip without counting. A key counts on its
    own, with its own quota (``limits_for``). With rate limits off
    (``RATELIMIT_ENABLE``) nothing limits anyone: every group is unlimited. ``503
    service_unavailable`` when the counters cannot be read."""
    limited = {
        group: limits_for(
            group,
            caller.tier,
            quota_per_hour=caller.quota_per_hour,
            quota_per_day=caller.quota_per_day,
        )
        if settings.RATELIMIT_ENABLE
        else ()
        for group in group_limits()
    }
    specs = [
        CounterSpec(group, caller.subject, periods_of(group))
        for group, limits in limited.items()
        if limits
    ]
    counts = read_counts(specs) if specs else []
    if counts is None:
        raise ApplicationError(
            "service_unavailable",
            "Usage cannot be read right now: try again shortly.",
        )
    counted = {
        spec.scope: {window.period: window for window in windows}
        for spec, windows in zip(specs, counts, strict=True)
    }
    groups = []
    for group, limits in limited.items():
        windows = []
        for limit in limits:
            window = counted[group][limit.period]
            windows.append(
                WindowUsage(
                    window=limit.window,
                    seconds=limit.period,
                    limit=limit.limit,
                    used=window.count,
                    remaining=max(limit.limit - window.count, 0),
                    reset=window.reset_seconds,
                )
            )
        groups.append(GroupUsage(group, unlimited=not limits, windows=tuple(windows)))
    return QuotaUsage(tier=caller.tier, groups=tuple(groups))
