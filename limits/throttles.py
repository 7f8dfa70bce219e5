"""The endpoint groups' limits, checked on every API request (DRF's throttle step).

Listed in ``REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]`` after the feature flags' gate,
so it runs after authentication and the permission classes: a request refused before it
(401, 403, a route switched off) is answered without counting, exactly as an unknown
route is. The counting itself has usually happened already, in the session check's (or
the API key's) cache round trip (``config.counters.exchange``, asked for by
``limits.middleware``); an anonymous request, or one whose credential did not count,
counts here, in one round trip that also reads its address's ban.

Refused: ``429 rate_limited`` with ``Retry-After`` (the tightest exceeded window's
wait). Every answer that passed here carries ``RateLimit-Limit``/``-Remaining``/
``-Reset`` for its tightest window (``limits.middleware``). The cache unreachable: the
request is served (``config.counters`` fails open).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from config.counters import Counting, WindowCount, count_and_read
from config.errors import ApplicationError
from config.ratelimits import Usage, raise_rate_limited, report_usage
from config.requests import django_request
from limits.callers import Caller, caller_of
from limits.policy import Limit, limits_for
from limits.state import ip_ban_key

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView


def counting_of(request: Any) -> Counting | None:
    """The counting ``limits.middleware`` planned for this request (``None``: exempt)."""
    return getattr(django_request(request), "rate_limit_counting", None)


def address_banned(until: float) -> ApplicationError:
    wait = max(int(until - time.time()) + 1, 1)
    return ApplicationError(
        "rate_limited",
        f"Too many requests from this address: it is blocked for {wait} seconds.",
        headers={"Retry-After": str(wait)},
        extra={"retry_after": wait},
    )


def usages_of(
    group: str, limits: tuple[Limit, ...], counts: tuple[WindowCount, ...]
) -> list[tuple[Usage, WindowCount]]:
    by_period = {window.period: window for window in counts}
    usages = []
    for limit in limits:
        window = by_period.get(limit.period)
        if window is None:  # pragma: no cover - every limit's period is counted
            continue
        usage = Usage(
            name=f"{group}:{limit.window}",
            limit=limit.limit,
            count=window.count,
            reset_seconds=window.reset_seconds,
        )
        usages.append((usage, window))
    return usages


class RateLimitThrottle(BaseThrottle):
    """Counts the request in its route's group for its caller, and refuses it (429)
    past the caller's limits there."""

    def allow_request(self, request: Request, view: APIView) -> bool:
        counting = counting_of(request)
        if counting is None or not settings.RATELIMIT_ENABLE:
            return True
        caller = caller_of(request)
        counting.confirm(caller.subject)  # the others are taken back (Counting)
        counts = counting.counted.get(caller.subject)
        if counts is None or caller.is_anonymous:
            counts = self._count(request, counting, caller, counts)
            if counts is None:
                return True  # the cache failed: fail open (config.counters)
        limits = limits_for(
            counting.scope,
            caller.tier,
            quota_per_hour=caller.quota_per_hour,
            quota_per_day=caller.quota_per_day,
        )
        exceeded = []
        for usage, window in usages_of(counting.scope, limits, counts):
            report_usage(request, usage)
            if usage.is_exceeded:
                exceeded.append((usage, window))
        if exceeded:
            wait = max(window.retry_after(usage.limit) for usage, window in exceeded)
            usage = exceeded[0][0]
            raise_rate_limited(
                Usage(usage.name, usage.limit, usage.count, reset_seconds=wait)
            )
        return True

    @staticmethod
    def _count(
        request: Request,
        counting: Counting,
        caller: Caller,
        counted: tuple[WindowCount, ...] | None,
    ) -> tuple[WindowCount, ...] | None:
        """Count here (none of the request's round trips did), reading an anonymous
        caller's address ban in the same trip; 429 while the address is banned."""
        reads = [ip_ban_key(caller.ip)] if caller.ip else []
        specs = [] if counted is not None else [counting.spec(caller.subject)]
        result = count_and_read(reads, specs)
        if result is None:
            return None
        found, fresh = result
        until = found.get(reads[0]) if reads else None
        if until is not None and float(until) > time.time():
            raise address_banned(float(until))
        if counted is None:
            counted = fresh[0][1]
            counting.counted[caller.subject] = counted
        return counted

    def wait(self) -> float | None:  # pragma: no cover - allow_request never says no
        return None

    # --- The schema (config.openapi.AutoSchema asks every throttle) ---------------------

    def schema_rate_limited(self, view: APIView, method: str, route: str) -> bool:
        """Whether the operation is counted in a group (documents 429 and the
        ``RateLimit-*`` headers)."""
        from limits.policy import group_of

        return group_of(type(view), method, route) is not None
