"""Live sessions per account are capped (issue 12, Low): a new login ends the oldest
sessions beyond ``MAX_SESSIONS_PER_USER``, as any revocation does."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from unittest import mock

import pytest
from django.core.cache import caches
from django.test import override_settings
from django.utils import timezone
from redis.exceptions import ResponseError
from rest_framework.test import APIClient

from accounts.activity import describe_event
from accounts.models import AuditEvent, AuthSession, User
from tests.factories import DEFAULT_PASSWORD
from tests.helpers import bearer

pytestmark = pytest.mark.django_db


def live_sessions(user: User) -> int:
    return AuthSession.objects.filter(user=user, revoked_at__isnull=True).count()


@override_settings(MAX_SESSIONS_PER_USER=3)
def test_a_login_beyond_the_cap_ends_the_oldest_session(
    user: User, login: Callable
) -> None:
    """Before: every login added a live session (55 logins, 56 sessions)."""
    first = login(user)
    assert bearer(first["access"]).get("/api/v1/users/me/").status_code == 200
    others = [login(user) for _ in range(3)]

    assert bearer(first["access"]).get("/api/v1/users/me/").status_code == 401
    refresh = APIClient().post(
        "/api/v1/auth/token/refresh/", {"refresh": first["refresh"]}, format="json"
    )
    assert refresh.status_code == 401
    for session in others:
        assert bearer(session["access"]).get("/api/v1/users/me/").status_code == 200
    assert live_sessions(user) == 3
    oldest = AuthSession.objects.filter(user=user).order_by("created_at").first()
    assert oldest.revoke_reason == "session_limit"
    event = AuditEvent.objects.get(kind="session.revoked", target=user)
    assert event.actor_id == user.pk
    assert event.payload["session_ids"] == [str(oldest.pk)]
    assert describe_event(event) == "Session revoked (1 session; session limit reached)"


@override_settings(MAX_SESSIONS_PER_USER=2)
def test_a_lowered_cap_ends_every_session_beyond_it_at_the_next_login(
    user: User, login: Callable
) -> None:
    with override_settings(MAX_SESSIONS_PER_USER=0):
        sessions = [login(user) for _ in range(4)]

    newest = login(user)

    assert live_sessions(user) == 2
    assert [
        bearer(session["access"]).get("/api/v1/users/me/").status_code
        for session in [*sessions, newest]
    ] == [401, 401, 401, 200, 200]


@override_settings(MAX_SESSIONS_PER_USER=0)
def test_zero_means_no_cap(user: User, login: Callable) -> None:
    for _ in range(12):
        login(user)

    assert live_sessions(user) == 12


@override_settings(MAX_SESSIONS_PER_USER=2)
def test_expired_and_revoked_sessions_do_not_count(user: User, login: Callable) -> None:
    login(user)
    AuthSession.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    revoked = login(user)
    assert (
        APIClient()
        .post("/api/v1/auth/logout/", {"refresh": revoked["refresh"]}, format="json")
        .status_code
        == 204
    )

    login(user), login(user)

    assert live_sessions(user) == 3  # the expired one (never counted) and two live
    assert not AuthSession.objects.filter(revoke_reason="session_limit").exists()


@override_settings(MAX_SESSIONS_PER_USER=1)
def test_a_login_whose_old_session_cannot_be_tombstoned_is_refused(
    user: User, login: Callable
) -> None:
    """The cap revokes like any revocation: if the cache refuses the tombstone, nothing
    commits (503) and the old session goes on."""
    first = login(user)

    with mock.patch.object(
        caches["default"], "set_many", side_effect=ResponseError("OOM")
    ):
        response = APIClient().post(
            "/api/v1/auth/login/",
            {"login": user.username, "password": DEFAULT_PASSWORD},
            format="json",
        )

    assert response.status_code == 503, response.content
    assert response.json()["code"] == "service_unavailable"
    assert AuthSession.objects.filter(user=user).count() == 1
    assert bearer(first["access"]).get("/api/v1/users/me/").status_code == 200
