"""Request counters over sliding windows whose edges are the same for every caller: the
endpoint groups' quotas (``limits``), counted in the round trip a request already makes.

The scheme is the *sliding window counter*: each window of ``period`` seconds is cut
into slots at multiples of ``period`` since the epoch, the same instants for every key.
A key keeps one counter per slot; at time ``t`` its count is the current slot's plus the
previous slot's weighted by the share of it still inside ``[t - period, t]``. So:

- nothing in an answer depends on the key: ``RateLimit-Reset`` is the time to the next
  edge, which every caller shares (django-ratelimit starts each key's windows at
  ``crc32(key) % period``, jsocol/django-ratelimit#120, so the edge a client reads tells
  which key it was counted under, and a lock lasts anything from one second to a
  period);
- a burst across an edge is counted against the previous slot's full weight, so twice
  the limit never fits across it (jsocol/django-ratelimit#317: fixed windows let it).

Two cache entries per window and key (the current slot, counted with ``INCR``; the
previous one, read), each living two periods. On Redis the counting and the session
check's ``MGET`` are one Lua script (:func:`count_and_read`): one round trip. The login
lockout keeps its bucketed windows (``config.sliding_window``), which count exactly and
lock for a whole window.

When the cache cannot be reached the counters *fail open*: the request is served, the
failure is logged (at most once every :data:`LOG_EVERY` seconds per process) and counted
(:func:`failures`; :func:`failing_open` until an attempt succeeds, which the readiness
probe reports as its ``rate_limits`` check), and for :data:`BACKOFF` seconds the process
does not try again, so a dead Redis costs the limiter no timeout of its own on each
request.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import math
import threading
import time
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache

logger = logging.getLogger("gatehouse.ratelimits")

BACKOFF = 5.0  # seconds without trying a cache that just failed
LOG_EVERY = 10.0  # seconds between two error lines about it


@dataclass(frozen=True)
class WindowCount:
    """One key's counters for one window at time ``at``."""

    period: int
    current: int
    previous: int
    at: float

    @property
    def elapsed(self) -> float:
        """Seconds since the current slot began."""
        return self.at % self.period

    @property
    def count(self) -> int:
        """The uses inside ``[at - period, at]``, the previous slot's taken in
        proportion to the share of it still inside."""
        inside = self.period - self.elapsed
        return self.current + math.floor(self.previous * inside / self.period)

    @property
    def reset_seconds(self) -> int:
        """Seconds until the next edge, the same for every key."""
        return max(math.ceil(self.period - self.elapsed), 1)

    def retry_after(self, limit: int) -> int:
        """Whole seconds until the count falls below ``limit`` if nothing more is
        counted: the next request then passes. The least integer past the instant
        (integers multiplied first: ``60 * (1 - 1/3)`` is not 40 in floats)."""
        if self.count < limit:
            return 0
        if self.previous and self.current < limit:
            # current + previous * (1 - (elapsed + x) / period) < limit
            left = self.period * (self.previous - limit + self.current)
            wait = left / self.previous - self.elapsed
        else:
            # After the edge the current slot becomes the previous one, weighted down:
            # current * (1 - y / period) < limit.
            to_edge = self.period - self.elapsed
            weight = max(self.current, 1)
            wait = to_edge + self.period * (self.current - limit) / weight
        return max(math.floor(wait) + 1, 1)


@functools.lru_cache(maxsize=65536)
def subject_digest(subject: str) -> str:
    """Keys name a digest of the subject, never an address or an id in clear. Kept per
    process for the subjects seen last: each request asks again."""
    return hashlib.sha256(subject.encode()).hexdigest()[:32]


def slot_key(scope: str, digest: str, period: int, slot: int) -> str:
    return f"rl:{scope}:{period}:{slot}:{digest}"


@dataclass(frozen=True)
class CounterSpec:
    """The counters of one subject (``u:<id>``, ``k:<prefix>``, ``ip:<address>``) in one
    scope (an endpoint group) for each of ``periods``."""

    scope: str
    subject: str
    periods: tuple[int, ...]

    def keys(self, now: float) -> list[tuple[int, str, str]]:
        """``(period, current slot's key, previous slot's key)`` per period."""
        digest = subject_digest(self.subject)
        keys = []
        for period in self.periods:
            slot = int(now // period)
            keys.append(
                (
                    period,
                    slot_key(self.scope, digest, period, slot),
                    slot_key(self.scope, digest, period, slot - 1),
                )
            )
        return keys


# --- Failing open ----------------------------------------------------------------------

_health_lock = threading.Lock()
_failures = 0
_last_failure: float | None = None
_last_logged: float | None = None


def note_failure() -> None:
    """The cache failed a counter: served uncounted, logged (at most every
    :data:`LOG_EVERY` seconds), backed off for :data:`BACKOFF` seconds."""
    global _failures, _last_failure, _last_logged
    now = time.monotonic()
    with _health_lock:
        _failures += 1
        _last_failure = now
        log = _last_logged is None or now - _last_logged >= LOG_EVERY
        if log:
            _last_logged = now
        count = _failures
    if log:
        logger.error(
            "Rate limits fail open: the cache cannot be reached (%d failures so far "
            "in this process); requests are served without being counted",
            count,
            exc_info=True,
        )


def note_success() -> None:
    """The cache answered a counter: counting again."""
    global _last_failure
    if _last_failure is not None:
        with _health_lock:
            _last_failure = None
        logger.warning("Rate limits count again: the cache answers")


def note_skipped() -> None:
    """One more request served uncounted while backing off (not logged)."""
    global _failures
    with _health_lock:
        _failures += 1


def backing_off() -> bool:
    """Whether a counter failed less than :data:`BACKOFF` seconds ago: do not try."""
    last = _last_failure
    return last is not None and time.monotonic() - last < BACKOFF


def failing_open() -> bool:
    """Whether this process's last attempt to count failed: requests are served
    uncounted until one succeeds."""
    return _last_failure is not None


def failures() -> int:
    """How many requests this process served uncounted because the cache failed."""
    return _failures


def counting_is_ready() -> bool:
    """The readiness probe's ``rate_limits`` check: whether requests are counted. While
    failing open, one read (once the backoff is over) tells whether the cache is back,
    so that a process the probe took out of service comes back without traffic."""
    if not failing_open():
        return True
    if backing_off():
        return False  # not tried (nor counted among the requests served uncounted)
    return count_and_read([PROBE_KEY], []) is not None


PROBE_KEY = "rl:probe"


def reset_health() -> None:
    """Forget past failures (tests)."""
    global _failures, _last_failure, _last_logged
    with _health_lock:
        _failures, _last_failure, _last_logged = 0, None, None


# --- One round trip -------------------------------------------------------------------


def _redis_client() -> Any | None:
    """django-redis's raw client, or ``None`` for another backend."""
    client = getattr(cache, "client", None)
    if client is None or not hasattr(client, "get_client"):
        return None
    return client


def count_and_read(
    reads: Iterable[str], specs: Iterable[CounterSpec]
) -> tuple[dict[str, Any], list[tuple[CounterSpec, tuple[WindowCount, ...]]]] | None:
    """Read ``reads`` and count one use for each of ``specs``, in one round trip.

    Returns what was found (as ``cache.get_many``) and each spec's counts, or ``None``
    when the cache failed (then nothing is known: the caller fails open). On Redis, one
    script; on another backend (the embedded default's in-process cache), the same
    operations one by one, which cost no network.
    """
    reads = list(reads)
    specs = list(specs)
    if backing_off():
        note_skipped()
        return None
    now = time.time()
    plans = [(spec, spec.keys(now)) for spec in specs]
    try:
        client = _redis_client()
        if client is None:
            result = _count_one_by_one(reads, plans, now)
        else:
            result = _count_in_script(client, reads, plans, now)
    except Exception:  # any failure of the cache backend (redis-py, django-redis)
        note_failure()
        return None
    note_success()
    return result


# Reads KEYS[1..ARGV[1]] (MGET), then counts one use in each further key, setting a
# new counter's expiry (ARGV[2..]); answers the values read, then the counts. One
# command, so one round trip, and atomic: a counter never lives without its expiry.
COUNT_AND_READ_SCRIPT = """
local reads = tonumber(ARGV[1])
local answer = {}
if reads > 0 then answer = redis.call('MGET', unpack(KEYS, 1, reads)) end
for index = reads + 1, #KEYS do
  local count = redis.call('INCR', KEYS[index])
  if count == 1 then redis.call('EXPIRE', KEYS[index], ARGV[index - reads + 1]) end
  answer[#answer + 1] = count
end
return answer
"""
_scripts: dict[tuple[int, str], Any] = {}


def _script(redis: Any, source: str) -> Any:
    """redis-py's ``Script`` of ``source`` on this client: ``EVALSHA``, loaded again
    after a restart of Redis (``NOSCRIPT``)."""
    key = (id(redis), source)
    script = _scripts.get(key)
    if script is None:
        script = _scripts[key] = redis.register_script(source)
    return script


def _count_in_script(
    client: Any,
    reads: list[str],
    plans: list[tuple[CounterSpec, list[tuple[int, str, str]]]],
    now: float,
) -> tuple[dict[str, Any], list[tuple[CounterSpec, tuple[WindowCount, ...]]]]:
    """On Redis: one ``EVALSHA`` (a pipeline of the same commands costs the web process
    five times the time to pack and parse: 60-70 µs against 10-15 µs over a plain
    ``MGET``, measured). redis-py's ``Script`` loads the script again after a restart
    of Redis (``NOSCRIPT``)."""
    script = _script(client.get_client(write=True), COUNT_AND_READ_SCRIPT)
    previous = [prev for _, keys in plans for _, _, prev in keys]
    names = {client.make_key(key): key for key in [*reads, *previous]}
    # The slot lives two periods: its own, and the next, where it is "previous".
    slots = [
        (client.make_key(slot), 2 * period) for _, k in plans for period, slot, _ in k
    ]
    results = script(
        keys=[*names, *(made for made, _ in slots)],
        args=[len(names), *(ttl for _, ttl in slots)],
    )
    found: dict[str, Any] = {}
    for made, value in zip(names, results, strict=False):
        if value is not None:
            found[names[made]] = client.decode(value)
    offset = len(names)
    counted = []
    for spec, keys in plans:
        windows = []
        for period, _, prev in keys:
            current = int(results[offset])
            offset += 1
            windows.append(
                WindowCount(period, current, int(found.pop(prev, 0) or 0), now)
            )
        counted.append((spec, tuple(windows)))
    return found, counted


def _count_one_by_one(
    reads: list[str],
    plans: list[tuple[CounterSpec, list[tuple[int, str, str]]]],
    now: float,
) -> tuple[dict[str, Any], list[tuple[CounterSpec, tuple[WindowCount, ...]]]]:
    previous = [prev for _, keys in plans for _, _, prev in keys]
    found = cache.get_many([*reads, *previous])
    counted = []
    for spec, keys in plans:
        windows = []
        for period, key, prev in keys:
            cache.add(key, 0, timeout=2 * period)
            try:
                value = cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, timeout=2 * period)
                value = 1
            windows.append(
                WindowCount(period, value, int(found.pop(prev, 0) or 0), now)
            )
        counted.append((spec, tuple(windows)))
    return found, counted


def read_counts(specs: Iterable[CounterSpec]) -> list[tuple[WindowCount, ...]] | None:
    """The counts of ``specs`` without counting (``GET me/quota/``); ``None`` when the
    cache cannot be read."""
    specs = list(specs)
    now = time.time()
    plans = [spec.keys(now) for spec in specs]
    keys = [
        key for plan in plans for _, current, prev in plan for key in (current, prev)
    ]
    try:
        found = cache.get_many(keys)
    except Exception:  # any failure of the cache backend
        note_failure()
        return None
    note_success()
    return [
        tuple(
            WindowCount(
                period, int(found.get(current) or 0), int(found.get(prev) or 0), now
            )
            for period, current, prev in plan
        )
        for plan in plans
    ]


TAKE_BACK_SCRIPT = """
for _, key in ipairs(KEYS) do
    if redis.call("EXISTS", key) == 1 then redis.call("DECR", key) end
end
"""


def take_back(uses: Iterable[tuple[CounterSpec, Iterable[WindowCount]]]) -> None:
    """Uncount uses counted by :func:`count_and_read` (best effort): on Redis in one
    round trip, decrementing only slots that still exist (a ``DECR`` would make a
    missing one ``-1``, for ever)."""
    keys = [
        spec.keys(window.at)[spec.periods.index(window.period)][1]
        for spec, counts in uses
        for window in counts
    ]
    if not keys:
        return
    try:
        client = _redis_client()
        if client is None:
            for key in keys:
                with contextlib.suppress(ValueError):  # expired since
                    cache.decr(key)
            return
        script = _script(client.get_client(write=True), TAKE_BACK_SCRIPT)
        script(keys=[client.make_key(key) for key in keys])
    except Exception:  # the cache failed: nothing to take back
        logger.debug("Could not take back a counted use", exc_info=True)


# --- The current request's counting (set by the limits middleware) ---------------------


@dataclass
class Counting:
    """What the current request counts in its cache round trip: one use in ``scope``
    over ``periods`` for whichever subject authenticates it (the session check and the
    API key's check ask :func:`exchange` with theirs). ``counted`` holds what was
    counted, per subject.

    A use counted there is provisional: it was counted before the credential was
    verified (a key's secret, a session's revocation) and before the permission
    classes ran. The limiter confirms (:meth:`confirm`) the subject it checks the
    request against; the others are taken back once the request is answered
    (:meth:`unconfirmed`), so
    that a request refused before the limiter (a wrong secret for someone's key prefix,
    a revoked token, a 403, a route switched off) costs no one's quota."""

    scope: str
    periods: tuple[int, ...]
    counted: dict[str, tuple[WindowCount, ...]] = field(default_factory=dict)
    confirmed: set[str] = field(default_factory=set)
    failed: bool = False

    def spec(self, subject: str) -> CounterSpec:
        return CounterSpec(self.scope, subject, self.periods)

    def confirm(self, subject: str) -> None:
        self.confirmed.add(subject)

    def unconfirmed(self) -> list[tuple[CounterSpec, tuple[WindowCount, ...]]]:
        """The uses counted for subjects the limiter did not check the request
        against, forgotten here (taken back once)."""
        uses = [
            (self.spec(subject), counts)
            for subject, counts in self.counted.items()
            if subject not in self.confirmed
        ]
        for spec, _ in uses:
            del self.counted[spec.subject]
        return uses


current_counting: ContextVar[Counting | None] = ContextVar(
    "current_counting", default=None
)


def exchange(keys: list[str], *, subject: str) -> Mapping[str, Any]:
    """``cache.get_many(keys)``, counting the current request for ``subject`` in the same
    round trip when the limiter asked for it (:data:`current_counting`). Raises what
    ``get_many`` raises when the cache cannot be read, so that its callers' fallbacks
    apply (the session check answers from the database)."""
    counting = current_counting.get()
    if counting is None or subject in counting.counted:
        return cache.get_many(keys)
    result = count_and_read(keys, [counting.spec(subject)])
    if result is None:
        counting.failed = True
        return cache.get_many(keys)  # raises if the cache is down
    found, counted = result
    counting.counted[subject] = counted[0][1]
    return found
