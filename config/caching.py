"""Cache calls that must not fail a request when the cache is down."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

logger = logging.getLogger("gatehouse.cache")

T = TypeVar("T")


def best_effort(call: Callable[[], T], *, default: T, what: str) -> T:
    """``call()``, or ``default`` when the cache backend fails (logged): for entries whose
    loss costs a little (a snapshot refreshed late, a reservation forgotten sooner) and
    whose failure must not answer ``500``, nor answer differently for an address that
    has an account than for one that has not."""
    try:
        return call()
    except Exception:  # any failure of the cache backend (redis-py, django-redis)
        logger.warning("The cache failed (%s); carried on without it", what)
        return default
