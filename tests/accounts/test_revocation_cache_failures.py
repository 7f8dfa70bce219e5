"""Revocation never fails open when the cache refuses writes (issue 12, Medium 6).

The tombstones are written before the revoking transaction commits: a cache that refuses
them aborts the revocation (503, nothing revoked, the client retries) instead of
committing it while the session's access token keeps working. The cache here raises as
django-redis does when Redis answers but refuses writes (``maxmemory``);
``test_revocation_redis.py`` plays the same against a real Redis.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from unittest import mock

import pytest
from django.contrib.messages import get_messages
from django.core.cache import caches
from django.db import transaction
from django.test import override_settings
from redis.exceptions import ResponseError
from rest_framework.test import APIClient

from accounts import session_state
from accounts.constants import RevokeReason
from accounts.models import AuditEvent, AuthSession, Ban, User
from accounts.services.sessions import session_revoke, sessions_revoke_all
from config import counters
from config.client import SYSTEM
from tests.factories import DEFAULT_PASSWORD
from tests.helpers import account, bearer, client_for, otp_verified_staff_client

pytestmark = pytest.mark.django_db

OOM = "OOM command not allowed when used memory > 'maxmemory'."


@contextmanager
def cache_refusing(*methods: str) -> Iterator[None]:
    """The cache answers reads but raises on these write methods, as Redis at its
    ``maxmemory`` does through django-redis. Refusing ``get_many`` refuses the read
    that the rate limiter makes with its counting on Redis too
    (``config.counters``)."""
    backend = caches["default"]
    refused = {name: mock.Mock(side_effect=ResponseError(OOM)) for name in methods}
    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch.multiple(backend, **refused))
        if "get_many" in methods:
            stack.enter_context(
                mock.patch.object(
                    counters, "_count_in_script", side_effect=ResponseError(OOM)
                )
            )
        yield


def is_refused(access: str) -> bool:
    response = bearer(access).get("/api/v1/users/me/")
    assert response.status_code in (200, 401), response.content
    return response.status_code == 401


def live_sessions(user: User) -> int:
    return AuthSession.objects.filter(user=user, revoked_at__isnull=True).count()


def logout(session: dict) -> object:
    return APIClient().post(
        "/api/v1/auth/logout/", {"refresh": session["refresh"]}, format="json"
    )


def logout_all(session: dict) -> object:
    return bearer(session["access"]).post("/api/v1/auth/logout/all/")


def delete_the_other_session(session: dict) -> object:
    other = AuthSession.objects.order_by("created_at").first()
    return bearer(session["access"]).delete(f"/api/v1/auth/sessions/{other.pk}/")


def change_password(session: dict) -> object:
    return bearer(session["access"]).post(
        "/api/v1/auth/password/change/",
        {
            "current_password": DEFAULT_PASSWORD,
            "new_password": "silver kettles whistle beneath autumn rain",
        },
        format="json",
    )


@pytest.mark.parametrize(
    "revoke", [logout, logout_all, delete_the_other_session, change_password]
)
def test_a_revocation_the_cache_refuses_answers_503_and_changes_nothing(
    user: User, login: Callable, revoke: Callable
) -> None:
    """Before: the revocation committed, the tombstone write failed after it (500), and
    the tokens kept working from their cached entries."""
    first, second = login(user), login(user)
    assert not is_refused(first["access"])
    assert not is_refused(second["access"])
    events = AuditEvent.objects.count()
    password = User.objects.get(pk=user.pk).password

    with cache_refusing("set_many", "delete"):
        response = revoke(second)

    assert response.status_code == 503, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "service_unavailable"
    assert live_sessions(user) == 2  # nothing revoked: the client can retry
    assert AuditEvent.objects.count() == events
    assert User.objects.get(pk=user.pk).password == password
    assert not is_refused(first["access"])
    assert not is_refused(second["access"])


def test_the_retry_revokes_once_the_cache_takes_writes_again(
    user: User, login: Callable
) -> None:
    session = login(user)
    assert not is_refused(session["access"])
    with cache_refusing("set_many"):
        assert logout(session).status_code == 503

    assert logout(session).status_code == 204

    assert is_refused(session["access"])
    assert live_sessions(user) == 0


def test_a_tombstone_refused_after_commit_is_logged_and_the_first_one_holds(
    user: User, login: Callable, caplog: pytest.LogCaptureFixture
) -> None:
    """Before: the only tombstone write came after commit; its failure was a 500 and
    left the token working."""
    session = login(user)
    assert not is_refused(session["access"])
    backend = caches["default"]
    set_many = backend.set_many
    writes: list[dict] = []

    def accepted_once(keys: dict, *args: object, **kwargs: object) -> None:
        writes.append(keys)
        if len(writes) > 1:
            raise ResponseError(OOM)
        set_many(keys, *args, **kwargs)

    with (
        mock.patch.object(backend, "set_many", accepted_once),
        caplog.at_level(logging.WARNING, logger="gatehouse.sessions"),
    ):
        response = logout(session)

    assert response.status_code == 204
    assert len(writes) == 2  # before the commit, then after it
    assert "after commit" in caplog.text
    assert is_refused(session["access"])


def test_staff_deactivation_the_cache_refuses_leaves_the_account_active(
    user: User, login: Callable
) -> None:
    """Deactivation drops the user's cached snapshot with the tombstones, before the
    commit: a refusal leaves the account active, its sessions live."""
    session = login(user)
    assert not is_refused(session["access"])
    staff = client_for(account("admin"))

    with cache_refusing("set_many", "delete"):
        response = staff.patch(
            f"/api/v1/users/{user.pk}/", {"is_active": False}, format="json"
        )

    assert response.status_code == 503, response.content
    assert User.objects.get(pk=user.pk).is_active
    assert live_sessions(user) == 1


def test_a_ban_the_cache_refuses_bans_nobody(user: User, login: Callable) -> None:
    session = login(user)
    staff = client_for(account("moderator"))

    with cache_refusing("set_many", "delete"):
        response = staff.post(
            f"/api/v1/users/{user.pk}/ban/", {"reason": "spam"}, format="json"
        )

    assert response.status_code == 503, response.content
    assert not Ban.objects.filter(user=user).exists()
    assert not is_refused(session["access"])


def test_tombstones_and_the_forgotten_user_are_written_before_the_commit(
    user: User, login: Callable, django_capture_on_commit_callbacks: Callable
) -> None:
    """Before: both waited for ``on_commit``, so a refusal came too late to abort."""
    session = login(user)
    assert not is_refused(session["access"])
    session_id = AuthSession.objects.get(user=user).pk
    cache = caches["default"]

    with django_capture_on_commit_callbacks(execute=False) as after_commit:
        with transaction.atomic():
            sessions_revoke_all(
                user=user, reason=RevokeReason.ACCOUNT_DEACTIVATED, client=SYSTEM
            )
        # Committed (as far as this test's transaction allows), callbacks not yet run:
        assert cache.get(session_state._session_key(session_id)) == "revoked"
        assert cache.get(session_state._user_key(user.pk)) is None

    assert len(after_commit) == 1  # the retry after commit


def test_requests_are_answered_from_the_database_while_the_cache_refuses_fills(
    user: User, login: Callable, caplog: pytest.LogCaptureFixture
) -> None:
    """Before: a cold request raised the cache's error (500). The answer comes from the
    database, so a refused fill costs a query, not a wrong answer."""
    live, revoked = login(user), login(user)
    assert logout(revoked).status_code == 204
    # The cache lost its entries, the tombstone included.
    caches["default"].delete_many(
        [session_state._user_key(user.pk)]
        + [
            session_state._session_key(session_id)
            for session_id in AuthSession.objects.values_list("pk", flat=True)
        ]
    )

    with (
        cache_refusing("add", "set", "set_many"),
        caplog.at_level(logging.WARNING, logger="gatehouse.sessions"),
    ):
        assert not is_refused(live["access"])
        assert is_refused(revoked["access"])

    assert "refused a write" in caplog.text


@override_settings(SESSION_STATE_CACHE_SECONDS=42)
def test_positive_entries_live_session_state_cache_seconds(
    user: User, login: Callable
) -> None:
    """Before: the cache's word that a session was live lasted an access token's lifetime
    and a minute (6 minutes by default), however an invalidation had fared."""
    session = login(user)
    backend = caches["default"]
    add = backend.add
    timeouts: dict[str, object] = {}

    def recorded(key: str, value: object, timeout: object = None, **kwargs: object):
        if not key.startswith("rl:"):  # the rate limiter's counters (config.counters)
            timeouts[key.split(":")[1]] = timeout
        return add(key, value, timeout, **kwargs)

    with mock.patch.object(backend, "add", recorded):
        assert not is_refused(session["access"])

    assert timeouts == {"session": 42, "user": 42}


def test_a_request_that_read_the_session_before_the_revocation_cannot_restore_it(
    user: User, login: Callable, django_capture_on_commit_callbacks: Callable
) -> None:
    """The race ``mark_sessions_revoked`` explains: a request reads the session as live,
    the revocation writes its tombstone, then the request fills the cache (with ``add``):
    the tombstone stays, and the next request is refused."""
    session = login(user)
    session_id = AuthSession.objects.get(user=user).pk
    load = session_state._load_from_database

    def read_then_revoked(*args: object) -> dict | None:
        snapshot = load(*args)
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            session_revoke(
                user=user,
                session_id=session_id,
                reason=RevokeReason.LOGOUT,
                client=SYSTEM,
            )
        return snapshot

    with mock.patch.object(session_state, "_load_from_database", read_then_revoked):
        racing = bearer(session["access"]).get("/api/v1/users/me/")

    assert racing.status_code == 200  # it read the session before the revocation
    assert caches["default"].get(session_state._session_key(session_id)) == "revoked"
    assert is_refused(session["access"])


def test_the_admin_says_which_sessions_the_cache_refused_to_revoke(
    user: User, login: Callable
) -> None:
    """Before: a refusal was told as "Skipped: accounts you may not sign out"."""
    session = login(user)
    admin, _ = otp_verified_staff_client()
    session_id = AuthSession.objects.get(user=user).pk

    with cache_refusing("set_many"):
        response = admin.post(
            "/admin/accounts/authsession/",
            {"action": "revoke_sessions", "_selected_action": [str(session_id)]},
            follow=True,
        )

    told = [str(message) for message in get_messages(response.wsgi_request)]
    assert told == [
        "Revoked 0 session(s).",
        "Could not revoke 1 session(s): the session cache refused the change. "
        "Nothing happened to them; try again.",
    ]
    assert live_sessions(user) == 1
    assert not is_refused(session["access"])


def test_requests_are_answered_from_the_database_while_the_cache_cannot_be_read(
    user: User, login: Callable, caplog: pytest.LogCaptureFixture
) -> None:
    """Before: with Redis down, every authenticated request was a 500. The database is
    never behind a revocation (one commits only once its tombstone is written), so it
    answers alone: the live session is served and the revoked one refused."""
    live, revoked = login(user), login(user)
    assert logout(revoked).status_code == 204

    with (
        cache_refusing("get_many", "add", "set", "set_many"),
        caplog.at_level(logging.WARNING, logger="gatehouse.sessions"),
    ):
        assert not is_refused(live["access"])
        assert is_refused(revoked["access"])

    assert "could not be read" in caplog.text
