"""Sessions: creation at login, refresh-token rotation with reuse detection, revocation."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.constants import AuditKind, RevokeReason
from accounts.models import AuthSession, User
from accounts.services.audit import audit_record
from accounts.session_state import mark_sessions_revoked
from accounts.tokens import (
    TokenPair,
    issue_token_pair,
    new_refresh_jti,
    read_refresh_token,
)
from config.client import ClientInfo
from config.error_codes import ApplicationError


def _session_expiry(now: datetime) -> datetime:
    # Sliding: each refresh extends the session by the refresh token's lifetime.
    lifetime: timedelta = settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"]
    return now + lifetime


def session_create(
    *, user: User, client: ClientInfo, amr: Sequence[str]
) -> tuple[AuthSession, TokenPair]:
    """Open a session for a user signed in with the methods ``amr`` (RFC 8176 values,
    ``accounts.constants.AMR_*``), now."""
    now = timezone.now()
    session = AuthSession.objects.create(
        user=user,
        created_at=now,
        last_used_at=now,
        expires_at=_session_expiry(now),
        refresh_jti=new_refresh_jti(),
        ip=client.ip,
        user_agent=client.user_agent,
        amr=list(amr),
        auth_time=now,
    )
    _enforce_session_cap(session, client=client)
    return session, issue_token_pair(session)


def _enforce_session_cap(session: AuthSession, *, client: ClientInfo) -> None:
    """Keep at most ``MAX_SESSIONS_PER_USER`` live sessions (0: no cap): a new session
    ends the oldest ones beyond it, as any revocation does (tokens refused at once).

    One query when under the cap. Logins that race may together leave a session or two
    over it (each counts before the others commit); the next login trims them.
    """
    cap: int = settings.MAX_SESSIONS_PER_USER
    if cap <= 0:
        return
    now = session.created_at
    oldest_beyond_cap = list(
        AuthSession.objects.filter(
            user_id=session.user_id, revoked_at__isnull=True, expires_at__gt=now
        )
        .exclude(pk=session.pk)
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)[cap - 1 :]
    )
    if not oldest_beyond_cap:
        return
    revoked = _revoke(
        AuthSession.objects.filter(pk__in=oldest_beyond_cap),
        RevokeReason.SESSION_LIMIT,
        now,
    )
    # The new login's client is what pushed the old sessions out: the owner sees it.
    audit_record(
        kind=AuditKind.SESSION_REVOKED,
        client=client,
        actor=session.user,
        target=session.user,
        payload={
            "sessions": len(revoked),
            "session_ids": [str(session_id) for session_id in revoked],
            "reason": RevokeReason.SESSION_LIMIT.value,
        },
    )


def _token_invalid() -> ApplicationError:
    return ApplicationError(
        "token_invalid", "The refresh token is invalid, expired or revoked."
    )


def session_refresh(*, refresh_token: str, client: ClientInfo) -> TokenPair:
    """Spend a refresh token for a new pair.

    The swap is one conditional ``UPDATE``: it succeeds only while the token's ``jti`` is
    the session's current one, so of two concurrent refreshes with one token at most one
    wins. (Its ``WHERE`` names only this table's columns: PostgreSQL re-checks those on the
    row a concurrent update left, but not conditions reached through a join.) A token that
    is well signed but no longer current is reuse (a stolen token, or a client that kept an
    old one): the whole session is revoked.
    """
    claims = read_refresh_token(refresh_token)
    now = timezone.now()
    new_jti = new_refresh_jti()
    rotated = AuthSession.objects.filter(
        pk=claims.session_id,
        user_id=claims.user_id,
        refresh_jti=claims.jti,
        revoked_at__isnull=True,
        expires_at__gt=now,
    ).update(
        refresh_jti=new_jti,
        last_used_at=now,
        expires_at=_session_expiry(now),
        ip=client.ip,
        user_agent=client.user_agent,
    )
    if rotated and User.objects.filter(pk=claims.user_id, is_active=True).exists():
        # How the session was signed in to comes from the spent token, not a query; a
        # token from before the claims existed proves nothing (amr [], auth_time 0).
        rotated_session = AuthSession(
            pk=claims.session_id,
            user_id=claims.user_id,
            refresh_jti=new_jti,
            amr=list(claims.amr),
            auth_time=datetime.fromtimestamp(claims.auth_time, tz=UTC),
        )
        return issue_token_pair(rotated_session)
    if rotated:  # the account was deactivated: this session ends here
        with transaction.atomic():
            _revoke(
                AuthSession.objects.filter(pk=claims.session_id),
                RevokeReason.ACCOUNT_DEACTIVATED,
                now,
            )
        raise _token_invalid()

    session = AuthSession.objects.filter(
        pk=claims.session_id, user_id=claims.user_id
    ).first()
    if session is not None and session.is_live and session.refresh_jti != claims.jti:
        with transaction.atomic():
            revoked = _revoke(
                AuthSession.objects.filter(pk=session.pk), RevokeReason.TOKEN_REUSE, now
            )
            if revoked:
                audit_record(
                    kind=AuditKind.TOKEN_REUSE_DETECTED,
                    client=client,
                    target=User(pk=session.user_id),
                    payload={"session": str(session.pk)},
                )
    raise _token_invalid()


def _revoke(
    sessions: QuerySet[AuthSession],
    reason: RevokeReason,
    now: datetime,
    *,
    forget_user_id: uuid.UUID | None = None,
) -> list[uuid.UUID]:
    """Revoke the live sessions of a queryset; their tokens are refused from the next
    request on.

    The tombstones are written before the transaction commits and again after
    (``mark_sessions_revoked``): if the cache refuses them, this raises
    ``ApplicationError("service_unavailable")`` and the caller's whole transaction rolls
    back, so a revocation never commits while its tokens keep working. Every caller runs
    in a transaction; ``atomic(savepoint=False)`` makes sure of it without a savepoint's
    extra statements (an exception here dooms the caller's transaction).
    """
    with transaction.atomic(savepoint=False):
        live = sessions.filter(revoked_at__isnull=True)
        session_ids = list(live.values_list("pk", flat=True))
        if session_ids:
            AuthSession.objects.filter(
                pk__in=session_ids, revoked_at__isnull=True
            ).update(revoked_at=now, revoke_reason=reason)
        if session_ids or forget_user_id is not None:
            mark_sessions_revoked(session_ids, forget_user_id=forget_user_id)
    return session_ids


@transaction.atomic
def session_revoke(
    *,
    user: User,
    session_id: uuid.UUID,
    reason: RevokeReason,
    client: ClientInfo,
    actor: User | None = None,
) -> None:
    """Revoke one of ``user``'s sessions; 404 when it is not theirs or already gone."""
    revoked = _revoke(
        AuthSession.objects.filter(pk=session_id, user=user), reason, timezone.now()
    )
    if not revoked:
        raise ApplicationError("not_found", "No such session.")
    audit_record(
        kind=AuditKind.LOGOUT
        if reason == RevokeReason.LOGOUT
        else AuditKind.SESSION_REVOKED,
        client=client,
        actor=actor or user,
        target=user,
        payload={"session": str(session_id), "reason": reason.value},
    )


@transaction.atomic
def sessions_revoke_all(
    *,
    user: User,
    reason: RevokeReason,
    client: ClientInfo,
    actor: User | None = None,
    keep_session_id: uuid.UUID | None = None,
    audit: bool = True,
) -> int:
    """Revoke every session of ``user`` (but ``keep_session_id``); returns how many.

    Admin (cookie) sessions end too, even with ``keep_session_id`` (an API session):
    ``sessions_revoked_at`` is part of their hash (``User._get_session_auth_hash``).
    The user's cached snapshot is dropped with the tombstones, before the commit: the
    callers are deactivation, bans, password changes and deletion, after which nothing
    cached about the account should be trusted."""
    now = timezone.now()
    sessions = AuthSession.objects.filter(user=user)
    if keep_session_id is not None:
        sessions = sessions.exclude(pk=keep_session_id)
    revoked = _revoke(sessions, reason, now, forget_user_id=user.pk)
    User.objects.filter(pk=user.pk).update(sessions_revoked_at=now)
    user.sessions_revoked_at = now
    if audit:
        audit_record(
            kind=AuditKind.SESSIONS_REVOKED_ALL,
            client=client,
            actor=actor or user,
            target=user,
            payload={"sessions": len(revoked), "reason": reason.value},
        )
    return len(revoked)


def session_logout(*, refresh_token: str, client: ClientInfo) -> None:
    """End the session a refresh token belongs to (the token proves the right to)."""
    claims = read_refresh_token(refresh_token)
    try:
        session_revoke(
            user=User(pk=claims.user_id),
            session_id=claims.session_id,
            reason=RevokeReason.LOGOUT,
            client=client,
        )
    except ApplicationError as error:
        if error.code != "not_found":  # service_unavailable: nothing revoked, retry
            raise
        raise _token_invalid() from None


def sessions_purge(*, now: datetime | None = None) -> int:
    """Delete sessions that can never be used again: expired, or revoked longer ago than an
    access token lives (their tombstones have expired too, and the row says nothing new)."""
    now = now or timezone.now()
    grace: timedelta = settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"]
    deleted, _ = AuthSession.objects.filter(
        Q(expires_at__lte=now) | Q(revoked_at__lte=now - grace)
    ).delete()
    return deleted
