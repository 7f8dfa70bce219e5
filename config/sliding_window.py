"""Counters over a sliding window, with a lock that lasts a whole window from the use
that reaches the limit: the login lockout's counters (``config.ratelimits``).

django-ratelimit counts in fixed windows whose edges sit at ``crc32(key) % period``: a
lock then lasts from one second to a whole period, twice the limit fits across an edge,
and the edge a client reads in ``RateLimit-Reset`` tells which key it was counted under.
Here a window is cut into :data:`BUCKETS` buckets whose edges are the same for every key
(multiples of the bucket's width since the epoch); a use is counted for one window
(less at most one bucket's width), and the lock is an entry of its own that expires a
whole window after the locking use. Only ``add``, ``incr``, ``decr``, ``get_many`` and
``delete_many`` are used, atomic on Redis and in the in-process cache alike.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import re
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

BUCKETS = 30  # a window of 15 minutes slides by 30 seconds
PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
RATE = re.compile(r"(?P<limit>\d+)/(?P<number>\d*)(?P<unit>[smhd])")


def parse_rate(rate: str) -> tuple[int, int]:
    """``"10/15m"`` → ``(10, 900)``: the limit and the window in seconds, written as
    django-ratelimit writes rates."""
    match = RATE.fullmatch(rate)
    if match is None:
        raise ImproperlyConfigured(f"Rate limit {rate!r}: write N/s, N/m, N/15m, ...")
    number = int(match["number"] or 1)
    return int(match["limit"]), number * PERIODS[match["unit"]]


@dataclass(frozen=True)
class WindowState:
    """What a counter holds now; ``reset_seconds`` is when it next changes by itself:
    the lock's end, else the oldest counted bucket's leaving, else a whole window."""

    limit: int
    count: int
    reset_seconds: int
    is_locked: bool


class SlidingWindow:
    def __init__(self, *, name: str, key: str, rate: str) -> None:
        self.limit, self.period = parse_rate(rate)
        self.width = max(math.ceil(self.period / BUCKETS), 1)
        digest = hashlib.sha256(key.encode()).hexdigest()[:40]
        self.prefix = f"gatehouse:window:{name}:{digest}"

    def _bucket_keys(self, now: int) -> dict[str, int]:
        """The keys of the buckets counted at ``now`` (each with its index): a bucket
        counts until a whole window after it began."""
        first = (now - self.period) // self.width + 1
        return {
            f"{self.prefix}:{index}": index
            for index in range(first, now // self.width + 1)
        }

    @property
    def _lock_key(self) -> str:
        return f"{self.prefix}:lock"

    def state(self) -> WindowState:
        now = int(time.time())
        locked_until = cache.get(self._lock_key)
        if locked_until is not None and locked_until > now:
            return WindowState(self.limit, self.limit, locked_until - now, True)
        buckets = self._bucket_keys(now)
        counts = cache.get_many(list(buckets))
        count = sum(counts.values())
        reset = self.period
        if counts:
            oldest = min(buckets[key] for key in counts)
            reset = oldest * self.width + self.period - now
        return WindowState(self.limit, count, max(reset, 1), False)

    def count(self) -> WindowState:
        """Count one use (in the current bucket, which :meth:`uncount` remembers)."""
        now = int(time.time())
        self._counted = f"{self.prefix}:{now // self.width}"
        # The bucket outlives the window it counts in by one width, then expires.
        if not cache.add(self._counted, 1, timeout=self.period + self.width):
            try:
                cache.incr(self._counted)
            except ValueError:  # expired between add and incr
                cache.add(self._counted, 1, timeout=self.period + self.width)
        return self.state()

    def uncount(self) -> None:
        """Take back the use :meth:`count` counted (it turned out not to be one)."""
        with contextlib.suppress(ValueError):  # the bucket is gone already (reset)
            cache.decr(self._counted)

    def lock(self) -> bool:
        """Lock the counter for a whole window from now. Answers whether this call
        locked it: of uses racing to the limit, one is told."""
        now = int(time.time())
        return cache.add(self._lock_key, now + self.period, timeout=self.period)

    def reset(self) -> None:
        """Forget the counted uses (a lock in force stays)."""
        cache.delete_many(list(self._bucket_keys(int(time.time()))))
