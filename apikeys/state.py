"""The cached word on each key, so a warm request authenticates with no query.

``apikey:<prefix>`` holds what the authentication class needs (the digest, owner, scopes,
expiry, the key's own quota) while the key is live, and ``REVOKED`` once it is not (or
when no key has that prefix: a shorter negative entry, so a stream of made-up prefixes
with valid checksums costs one indexed query each per ``API_KEY_UNKNOWN_CACHE_SECONDS``).

Revocation follows ``accounts.session_state.mark_sessions_revoked``: the tombstone is
written inside the revoking transaction (a cache that refuses it rolls the revocation
back: ``503 service_unavailable``) and again after the commit, and fills use ``add``, so
a request that read the key as live just before cannot put it back.

A change of a key's quota replaces its entry inside the changing transaction
(:func:`replace_entry`), so the limiter reads the new quota from the next request on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from accounts.session_state import user_cache_key
from config import counters, round_trip
from config.error_codes import ApplicationError

if TYPE_CHECKING:
    from apikeys.models import ApiKey

logger = logging.getLogger("gatehouse.apikeys")

REVOKED = "revoked"


def key_cache_key(prefix: str) -> str:
    return f"apikey:{prefix}"


def entry_of(key: ApiKey) -> dict[str, Any]:
    """The cached word on a live key: what authenticating it and counting its requests
    need, so a warm request reads no row."""
    return {
        "id": str(key.pk),
        "digest": key.secret_hash,
        "user_id": str(key.user_id) if key.user_id else None,
        "scopes": list(key.scopes),
        "expires_at": key.expires_at.isoformat() if key.expires_at else None,
        "quota_per_hour": key.quota_per_hour,
        "quota_per_day": key.quota_per_day,
    }


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


@dataclass(frozen=True)
class CachedState:
    """What one round trip found for a key: its entry (``REVOKED``, or ``None`` for a
    miss or a cache that cannot be read: then the database answers), whether its last
    use was written in the last minute, and its owner's snapshot when the owner was
    known (``None`` otherwise: read it on its own)."""

    entry: dict[str, Any] | str | None
    recently_used: bool
    owner_snapshot: dict[str, Any] | None


# A key's owner never changes, so once a process has seen a key it asks for the owner's
# snapshot in the same ``get_many`` as the key's entry: a warm request makes one round
# trip, as a bearer token's does. Bounded; a forgotten prefix costs one more round trip.
_OWNERS: dict[str, str] = {}
_OWNERS_MAX = 10_000


def remember_owner(prefix: str, user_id: str) -> None:
    if len(_OWNERS) >= _OWNERS_MAX:
        _OWNERS.clear()
    _OWNERS[prefix] = user_id


def cached_entry(prefix: str) -> CachedState:
    """The key's cached state in one round trip (``get_many``, with the keys riding
    along: ``config.round_trip``)."""
    owner = _OWNERS.get(prefix)
    keys = [key_cache_key(prefix), use_cache_key(prefix)]
    if owner is not None:
        keys.append(user_cache_key(owner))
    try:
        # The limiter counts the request in the same round trip (config.counters).
        found = counters.exchange(round_trip.with_riders(keys), subject=f"k:{prefix}")
    except Exception:  # any failure of the cache backend
        logger.warning(
            "The API key cache could not be read; answered from the database"
        )
        return CachedState(None, False, None)
    round_trip.record(found)
    entry = found.get(keys[0])
    snapshot = found.get(keys[2]) if owner is not None else None
    if isinstance(entry, dict) and entry["user_id"] != owner:
        snapshot = None  # defensive: an entry for another owner than remembered
    return CachedState(entry, keys[1] in found, snapshot)


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


def replace_entry(key: ApiKey) -> None:
    """Put ``key``'s new entry in the cache now, inside the transaction that changed it
    (after its row was locked: a revocation waits for the commit, and its tombstone
    then overwrites this entry). A request that read the old row fills with ``add``,
    which never overwrites it. Raises ``503 service_unavailable`` (rolling the change
    back) if the cache refuses: committing anyway would leave the old quota in force
    until the entry expired (``API_KEY_CACHE_SECONDS``)."""
    try:
        cache.set(key_cache_key(key.prefix), entry_of(key), positive_timeout())
    except Exception as error:  # any failure of the cache backend
        logger.error("API key not changed: the cache refused its new entry")
        raise ApplicationError(
            "service_unavailable",
            "The key cannot be changed right now: nothing changed, try again shortly.",
        ) from error
