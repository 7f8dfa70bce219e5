"""The per-request check that an access token's session and user are still good.

Every authenticated request must notice at once that its session was revoked, or its user
deactivated, yet must not query the database to find out. Two cache entries answer it in
one round trip (``get_many``, a single ``MGET`` on Redis):

- ``auth:session:<sid>``: the user id while the session is live, ``REVOKED`` once it is not.
  Revocation *writes* the tombstone (it does not merely delete the entry), and fills use
  ``add``, so a request that read the database just before a revocation cannot put the
  session back. A tombstone outlives every access token issued before it.
- ``auth:user:<uid>``: a snapshot of the user (profile, flags, verified email, roles),
  deleted whenever the user changes (``accounts.signals``) and rebuilt on the next request.

A miss costs one query (the session joined to its user, with the verified flag and roles
as subqueries). If the cache loses everything, the database still says what is revoked.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.core.cache import cache

from accounts.models import AuthSession, SessionUser, User
from accounts.selectors import (
    ProfileAnnotations,
    group_names_of,
    profile_annotations,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

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


def _state_timeout() -> int:
    # Longer than any access token lives, so a tombstone outlasts the tokens it refuses.
    return int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()) + 60


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


def authenticated_user(session_id: uuid.UUID, user_id: uuid.UUID) -> SessionUser | None:
    """The user behind a valid access token, or ``None`` if its session is no longer good."""
    session_key, user_key = _session_key(session_id), _user_key(user_id)
    cached = cache.get_many([session_key, user_key])
    session_entry, snapshot = cached.get(session_key), cached.get(user_key)
    if session_entry == REVOKED:
        return None
    if session_entry is not None and session_entry != str(user_id):
        return None
    if session_entry is None or snapshot is None:
        snapshot = _load_from_database(session_id, user_id)
        if snapshot is None:
            cache.set(session_key, REVOKED, _state_timeout())
            return None
        cache.add(session_key, str(user_id), _state_timeout())
        cache.add(user_key, snapshot, _state_timeout())
    # Defensive: only active accounts are cached (_load_from_database), and deactivation
    # forgets the snapshot.
    if not snapshot["is_active"]:  # pragma: no cover
        return None
    return session_user_from_snapshot(snapshot)


def mark_sessions_revoked(session_ids: Iterable[uuid.UUID | str]) -> None:
    """Refuse these sessions' access tokens from the next request on (call after commit)."""
    keys = {_session_key(session_id): REVOKED for session_id in session_ids}
    if keys:  # pragma: no branch (callers pass at least one id)
        cache.set_many(keys, _state_timeout())


def forget_user(user_id: uuid.UUID | str) -> None:
    """Drop the cached snapshot so the next request reads the user afresh."""
    cache.delete(_user_key(user_id))
