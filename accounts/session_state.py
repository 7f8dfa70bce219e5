"""The per-request check that an access token's session and user are still good.

Every authenticated request must notice at once that its session was revoked, or its user
deactivated, yet must not query the database to find out. Two cache entries answer it in
one round trip (``get_many``, a single ``MGET`` on Redis, which also reads the keys other
apps ride along with it: ``config.round_trip``):

- ``auth:session:<sid>``: the user id while the session is live, ``REVOKED`` once it is not.
  Revocation *writes* the tombstone (it does not merely delete the entry), inside the
  revoking transaction and again after it commits (:func:`mark_sessions_revoked`), and
  fills use ``add``, so a request that read the database just before a revocation cannot
  put the session back. A tombstone outlives every access token issued before it.
- ``auth:user:<uid>``: a snapshot of the user (profile, flags, verified email, roles),
  deleted whenever the user changes (``accounts.signals``) and rebuilt on the next request.

Both positive entries live ``SESSION_STATE_CACHE_SECONDS`` (60 by default): should an
invalidation ever be lost, the cache's word goes stale for at most that long. A miss costs
one query (the session joined to its user, with the verified flag and roles as
subqueries). If the cache loses everything, the database still says what is revoked; if it
refuses writes, requests are answered from the database and revocations refuse to commit
(``503 service_unavailable``) rather than leave tokens working.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Collection, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from accounts.models import AuthSession, SessionUser, User
from accounts.selectors import (
    ProfileAnnotations,
    ban_in_force,
    group_names_of,
    profile_annotations,
)
from config import counters, round_trip
from config.caching import best_effort
from config.error_codes import ApplicationError

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

logger = logging.getLogger("gatehouse.sessions")

REVOKED = "revoked"
SNAPSHOT_FIELDS = (
    "username",
    "email",
    *User.PROFILE_FIELDS,
    "is_active",
    "is_staff",
    "is_superuser",
)


def _session_key(session_id: uuid.UUID | str) -> str:
    return f"auth:session:{session_id}"


def _user_key(user_id: uuid.UUID | str) -> str:
    return f"auth:user:{user_id}"


def _tombstone_timeout() -> int:
    # Longer than any access token lives, so a tombstone outlasts the tokens it refuses.
    return int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()) + 60


def _positive_timeout() -> int:
    # Short: the cache's word that a session is live, or what its user looks like, is
    # trusted this long without asking the database (an invalidation lost to a cache that
    # refused a write is repaired within it).
    return int(settings.SESSION_STATE_CACHE_SECONDS)


def _fill(write: Callable[[], object]) -> None:
    """Store what a request read from the database, if the cache takes it.

    Best effort: the answer came from the database, so a cache that refuses writes costs
    a query per request (until it recovers), never a wrong answer or a 500.
    """
    try:
        write()
    except Exception:  # any failure of the cache backend (redis-py, django-redis)
        logger.warning("The session cache refused a write; answered from the database")


def _stored_timestamp(value: datetime | None) -> str | None:
    """The snapshot's storage format for datetimes, ISO 8601 strings that
    ``session_user_from_snapshot`` parses back (responses render their own)."""
    return value.isoformat() if value else None


def user_snapshot(
    user: User, *, email_verified: bool, group_names: Iterable[str], mfa_enabled: bool
) -> dict:
    snapshot = {field: getattr(user, field) for field in SNAPSHOT_FIELDS}
    snapshot.update(
        id=str(user.pk),
        date_joined=_stored_timestamp(user.date_joined),
        last_login=_stored_timestamp(user.last_login),
        email_verified=email_verified,
        mfa_enabled=mfa_enabled,
        groups=sorted(name for name in group_names if name),
    )
    return snapshot


def session_user_from_snapshot(snapshot: dict[str, Any]) -> SessionUser:
    user = SessionUser(
        id=uuid.UUID(snapshot["id"]),
        **{field: snapshot[field] for field in SNAPSHOT_FIELDS},
        date_joined=datetime.fromisoformat(snapshot["date_joined"]),
        last_login=(
            datetime.fromisoformat(snapshot["last_login"])
            if snapshot["last_login"]
            else None
        ),
    )
    user._state.adding = False
    user._state.db = "default"
    user.snapshot = snapshot
    return user


def _load_from_database(session_id: uuid.UUID, user_id: uuid.UUID) -> dict | None:
    """The user's snapshot if the session is live and its user active, in one query."""
    session = (
        AuthSession.objects.filter(pk=session_id, user_id=user_id)
        .select_related("user")
        .annotate(**profile_annotations(through="user"))
        .first()
    )
    if session is None or not session.is_live or not session.user.is_active:
        return None
    # django-stubs does not follow **profile_annotations(): say what the row holds.
    annotated = cast("WithAnnotations[AuthSession, ProfileAnnotations]", session)
    return user_snapshot(
        session.user,
        email_verified=annotated.profile_email_verified,
        group_names=group_names_of(annotated.profile_group_names),
        mfa_enabled=annotated.profile_mfa_enabled,
    )


def _cached_state(
    session_key: str, user_key: str, user_id: uuid.UUID
) -> dict[str, Any]:
    """The two entries (and the keys riding along: ``config.round_trip``), or none
    when the cache cannot be read (Redis down): the request is then answered from the
    database, which is never behind a revocation (a revocation commits only once its
    tombstone is written)."""
    try:
        # The limiter counts the request in the same round trip (config.counters).
        found = counters.exchange(
            round_trip.with_riders([session_key, user_key]),
            subject=f"u:{user_id}",
        )
    except Exception:  # any failure of the cache backend (redis-py, django-redis)
        logger.warning(
            "The session cache could not be read; answered from the database"
        )
        return {}
    round_trip.record(found)
    return dict(found)


def authenticated_user(session_id: uuid.UUID, user_id: uuid.UUID) -> SessionUser | None:
    """The user behind a valid access token, or ``None`` if its session is no longer good."""
    session_key, user_key = _session_key(session_id), _user_key(user_id)
    cached = _cached_state(session_key, user_key, user_id)
    session_entry, snapshot = cached.get(session_key), cached.get(user_key)
    if session_entry == REVOKED:
        return None
    if session_entry is not None and session_entry != str(user_id):
        return None
    if session_entry is None or snapshot is None:
        snapshot = _load_from_database(session_id, user_id)
        if snapshot is None:
            _fill(lambda: cache.set(session_key, REVOKED, _tombstone_timeout()))
            return None
        # ``add``, never ``set``: a tombstone written since the read above stays (see
        # mark_sessions_revoked). The snapshot is only read behind the session's entry.
        _fill(lambda: cache.add(session_key, str(user_id), _positive_timeout()))
        _fill(lambda: cache.add(user_key, snapshot, _positive_timeout()))
    # Defensive: only active accounts are cached (_load_from_database), and deactivation
    # forgets the snapshot.
    if not snapshot["is_active"]:  # pragma: no cover
        return None
    return session_user_from_snapshot(snapshot)


def mark_sessions_revoked(
    session_ids: Collection[uuid.UUID | str], *, forget_user_id: uuid.UUID | None = None
) -> None:
    """Refuse these sessions' access tokens from the next request on (and, with
    ``forget_user_id``, drop that user's snapshot). Call it inside the revoking
    transaction, after the ``UPDATE`` that revokes them.

    1. The tombstones are written *now*, before the commit. If the cache refuses (down, or
       refusing writes: ``maxmemory``, a read-only replica), this raises
       ``ApplicationError("service_unavailable")`` (503) and the caller's transaction rolls
       back: nothing is revoked and the client can retry. Committing anyway would fail
       open, the revoked tokens working from their positive entries until those expired.
    2. After the commit they are written again (``set``, overwriting): the retry that covers
       a positive entry put back in between (the tombstone evicted, or expired) by a
       request that read the database before the commit. A failure here is logged, not
       raised: the revocation has committed and step 1's tombstones hold.

    Why a request racing the revocation cannot resurrect the session: such a request read
    the session as live before the commit, then fills with ``cache.add``, which writes
    only where no key exists. If its ``add`` lands before step 1's ``set``, the ``set``
    overwrites it; if after, the tombstone is there and the ``add`` does nothing. (A
    snapshot refilled after step 1 cannot let a token through either: the session entry
    is read first, and it is the tombstone.)

    Fail closed: should the transaction roll back after step 1 (a later statement fails),
    the sessions stay live in the database but their access tokens are refused until the
    tombstones expire (an access token's lifetime and a minute); refreshing still works,
    and the new access token is refused as well until then, since it carries the same
    session. Only a failure after the tombstones were written does this.
    """
    keys = {_session_key(session_id): REVOKED for session_id in session_ids}

    def write() -> None:
        if keys:
            cache.set_many(keys, _tombstone_timeout())
        if forget_user_id is not None:
            cache.delete(_user_key(forget_user_id))

    try:
        write()
    except Exception as error:  # any failure of the cache backend
        logger.error(
            "Sessions not revoked: the session cache refused the tombstones",
            exc_info=True,
        )
        raise ApplicationError(
            "service_unavailable",
            "Sessions cannot be revoked right now: nothing changed, try again shortly.",
        ) from error

    def write_again() -> None:
        try:
            write()
        except Exception:  # any failure of the cache backend
            logger.warning(
                "The session cache refused the tombstones after commit; those written "
                "before it hold",
                exc_info=True,
            )

    transaction.on_commit(write_again)


def forget_user(user_id: uuid.UUID | str) -> None:
    """Drop the cached snapshot so the next request reads the user afresh. A cache that
    cannot be reached holds no snapshot anyone reads; should it come back with one, the
    snapshot lives ``SESSION_STATE_CACHE_SECONDS`` at most."""
    best_effort(
        lambda: cache.delete(_user_key(user_id)),
        default=False,
        what="forgetting a user's snapshot",
    )


# --- Credentials other than sessions (API keys) --------------------------------------


def snapshot_in_good_standing(
    user: WithAnnotations[User, ProfileAnnotations],
) -> dict | None:
    """The snapshot of ``user`` (loaded with ``profile_annotations``), or ``None`` when
    the account may not act: deactivated, or banned (a ban not lifted that is in
    force: one more query, only for users that have one)."""
    if not user.is_active:
        return None
    if user.profile_has_unlifted_ban and ban_in_force(user) is not None:
        return None
    return user_snapshot(
        user,
        email_verified=user.profile_email_verified,
        group_names=group_names_of(user.profile_group_names),
        mfa_enabled=user.profile_mfa_enabled,
    )


def remember_user(user_id: uuid.UUID | str, snapshot: dict) -> None:
    """Cache a snapshot read from the database (with ``add``, best effort)."""
    _fill(lambda: cache.add(_user_key(user_id), snapshot, _positive_timeout()))


def user_cache_key(user_id: uuid.UUID | str) -> str:
    """The cache key of a user's snapshot, for a caller that reads it in its own round
    trip (``apikeys.state.cached_entry``) and hands it to :func:`user_for_credential`."""
    return _user_key(user_id)


def user_for_credential(
    user_id: uuid.UUID | str, *, snapshot: dict[str, Any] | None = None
) -> SessionUser | None:
    """The user a credential that is not a session (an API key) acts as, or ``None``
    when the account is gone, deactivated or banned.

    The snapshot is the one sessions share, and it is forgotten whenever the user
    changes, so a deactivation or a ban (which revokes the sessions with
    ``forget_user_id``) is seen on the next request. The snapshot is only ever stored
    for an account in good standing: by a live session (a ban or deactivation ends them
    all), or here. A miss costs one query (two for a user with a ban not lifted).
    """
    if snapshot is None:
        try:
            snapshot = cache.get(_user_key(user_id))
        except Exception:  # any failure of the cache backend (redis-py, django-redis)
            logger.warning(
                "The session cache could not be read; answered from the database"
            )
    if snapshot is None:
        user = User.objects.annotate(**profile_annotations()).filter(pk=user_id).first()
        if user is None:
            return None
        snapshot = snapshot_in_good_standing(
            cast("WithAnnotations[User, ProfileAnnotations]", user)
        )
        if snapshot is None:
            return None
        remember_user(user_id, snapshot)
    # Defensive, as for sessions: only accounts in good standing are cached.
    if not snapshot["is_active"]:  # pragma: no cover
        return None
    return session_user_from_snapshot(snapshot)
