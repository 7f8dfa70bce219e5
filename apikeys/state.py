"""The cached word on each key, so a warm request authenticates with no query.

``apikey:<prefix>`` holds what the authentication class needs (the digest, owner, scopes,
expiry) while the key is live, and ``REVOKED`` once it is not (or when no key has that
prefix: a shorter negative entry, so a stream of made-up prefixes with valid checksums
costs one indexed query each per ``API_KEY_UNKNOWN_CACHE_SECONDS``).

Revocation follows ``accounts.session_state.mark_sessions_revoked``: the tombstone is
written inside the revoking transaction (a cache that refuses it rolls the revocation
back: ``503 service_unavailable``) and again after the commit, and fills use ``add``, so
a request that read the key as live just before cannot put it back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from config.error_codes import ApplicationError

logger = logging.getLogger("gatehouse.apikeys")

REVOKED = "revoked"


def key_cache_key(prefix: str) -> str:
    return f"apikey:{prefix}"


def positive_timeout() -> int:
    return int(settings.API_KEY_CACHE_SECONDS)


def tombstone_timeout() -> int:
    # Outlives every positive entry written before it.
    return positive_timeout() + 60


def unknown_timeout() -> int:
    return int(settings.API_KEY_UNKNOWN_CACHE_SECONDS)


def use_cache_key(prefix: str) -> str:
    """Present while the key's last use was written less than a minute ago."""
    return f"apikey:used:{prefix}"


def cached_entry(prefix: str) -> tuple[dict[str, Any] | str | None, bool]:
    """The cached entry (``REVOKED``, or ``None`` for a miss or a cache that cannot be
    read: then the database answers), and whether the key's last use was written in
    the last minute: one round trip (``get_many``)."""
    keys = [key_cache_key(prefix), use_cache_key(prefix)]
    try:
        found = cache.get_many(keys)
    except Exception:  # any failure of the cache backend
        logger.warning(
            "The API key cache could not be read; answered from the database"
        )
        return None, False
    return found.get(keys[0]), keys[1] in found


def fill(prefix: str, entry: dict[str, Any] | str, timeout: int) -> None:
    """Best effort, with ``add``: never over a tombstone written since the read."""
    try:
        cache.add(key_cache_key(prefix), entry, timeout)
    except Exception:  # any failure of the cache backend
        logger.warning("The API key cache refused a write; answered from the database")


def forget_unknown(prefix: str) -> None:
    """After a key is made: drop a negative entry its (random) prefix might have."""

    def forget() -> None:
        try:
            cache.delete(key_cache_key(prefix))
        except Exception:  # any failure of the cache backend
            logger.warning("The API key cache refused a delete", exc_info=True)

    transaction.on_commit(forget)


def mark_keys_revoked(prefixes: Iterable[str]) -> None:
    """Refuse these keys from the next request on. Call it inside the revoking
    transaction: raises ``503 service_unavailable`` (rolling it back) if the cache
    refuses the tombstones, and writes them again after the commit."""
    entries = {key_cache_key(prefix): REVOKED for prefix in prefixes}
    if not entries:
        return
    try:
        cache.set_many(entries, tombstone_timeout())
    except Exception as error:  # any failure of the cache backend
        logger.error("API keys not revoked: the cache refused the tombstones")
        raise ApplicationError(
            "service_unavailable",
            "Keys cannot be revoked right now: nothing changed, try again shortly.",
        ) from error

    def write_again() -> None:
        try:
            cache.set_many(entries, tombstone_timeout())
        except Exception:  # any failure of the cache backend
            logger.warning(
                "The API key cache refused the tombstones after commit; those written "
                "before it hold"
            )

    transaction.on_commit(write_again)
