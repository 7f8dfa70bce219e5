"""Cache keys that ride along in the one cache round trip a request already makes.

A warm authenticated request reads the cache once: the session check's ``get_many``
(``accounts.session_state``) or an API key's (``apikeys.state``). Other per-request
state that changes rarely, yet must reach every worker within a second, asks for its
key to be read in that same round trip instead of making one of its own: the feature
flags' rule version (``flags.evaluation``), later the rate limits' settings.

- An app registers its key once, at start-up: :func:`ride_along`.
- The readers ask for ``with_riders(keys)`` and hand what they found to :func:`record`
  (only when the read succeeded: a cache that failed says nothing).
- The key's owner reads :func:`latest`: the value this process saw last, if it saw it
  less than ``max_age`` seconds ago; otherwise it reads the key itself and
  :func:`remember` s it, so the requests of the next ``max_age`` seconds need no read.

What is recorded is process-wide (the latest value seen by any thread), not per
request: a value read by another thread a moment ago is as good as one read now.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

_RIDERS: tuple[str, ...] = ()
# key -> (time.monotonic() when read, value read; None for a key the cache did not hold)
_SEEN: dict[str, tuple[float, Any]] = {}


def ride_along(key: str) -> None:
    """Have ``key`` read in every request's cache round trip from now on."""
    global _RIDERS
    if key not in _RIDERS:
        _RIDERS = (*_RIDERS, key)


def with_riders(keys: list[str]) -> list[str]:
    """``keys`` and the registered riders: what a request's ``get_many`` asks for."""
    return [*keys, *_RIDERS]


def record(found: Mapping[str, Any]) -> None:
    """Note what a successful ``get_many`` of :func:`with_riders` found for the riders
    (a rider it did not find is recorded as ``None``: the cache does not hold it)."""
    now = time.monotonic()
    for key in _RIDERS:
        _SEEN[key] = (now, found.get(key))


def remember(key: str, value: Any) -> None:
    """Note a rider's value that its owner read itself."""
    _SEEN[key] = (time.monotonic(), value)


def latest(key: str, *, max_age: float) -> tuple[bool, Any]:
    """``(True, value)`` when this process read ``key`` less than ``max_age`` seconds
    ago (``value`` is ``None`` if the cache did not hold it), else ``(False, None)``."""
    seen = _SEEN.get(key)
    if seen is None or time.monotonic() - seen[0] > max_age:
        return False, None
    return True, seen[1]


def forget() -> None:
    """Drop every recorded value (tests that empty the cache start from nothing)."""
    _SEEN.clear()
