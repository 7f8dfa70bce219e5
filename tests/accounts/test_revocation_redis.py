"""Revocation against a real Redis that answers but refuses writes (issue 12, Medium 6).

Each module run starts its own ``redis-server`` on a free port and points the default
cache at it; ``CONFIG SET maxmemory 1`` with ``noeviction`` makes every write command fail
(``OOM command not allowed``) while reads go on, as a Redis at its memory limit does.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator

import pytest
import redis
from django.conf import settings
from django.test import override_settings
from rest_framework.test import APIClient

from accounts import session_state
from accounts.models import AuthSession, User
from tests.helpers import bearer
from tests.processes import free_port

pytestmark = pytest.mark.django_db

KEY_PREFIX = "revocation-test"


@pytest.fixture(scope="module")
def redis_server() -> Iterator[redis.Redis]:
    """A private, empty, non-persistent Redis; stopped when the module's tests end."""
    executable = shutil.which("redis-server")
    if executable is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(
        [
            executable,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port, socket_timeout=1)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.02)
        yield client
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def redis_cache(redis_server: redis.Redis) -> Iterator[redis.Redis]:
    """The default cache on the private Redis, accepting writes at the start."""
    port = redis_server.connection_pool.connection_kwargs["port"]
    redis_server.flushall()
    caches = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "KEY_PREFIX": KEY_PREFIX,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }
    try:
        with override_settings(CACHES=caches):
            yield redis_server
    finally:
        accept_writes(redis_server)


def refuse_writes(server: redis.Redis) -> None:
    server.config_set("maxmemory-policy", "noeviction")
    server.config_set("maxmemory", 1)
    with pytest.raises(redis.ResponseError, match="maxmemory"):
        server.set("probe", "x")


def accept_writes(server: redis.Redis) -> None:
    server.config_set("maxmemory", 0)


def status_of_me(access: str) -> int:
    return bearer(access).get("/api/v1/users/me/").status_code


def logout(session: dict) -> int:
    return (
        APIClient()
        .post("/api/v1/auth/logout/", {"refresh": session["refresh"]}, format="json")
        .status_code
    )


def test_logout_refused_by_redis_revokes_nothing_and_the_retry_does(
    redis_cache: redis.Redis, user: User, login: Callable
) -> None:
    """Before: logout committed, the tombstone write failed after it (500), and the token
    kept working from its cached entry; retries answered 401 and could not fix it."""
    session = login(user)
    assert status_of_me(session["access"]) == 200  # warm: the positive entries exist
    refuse_writes(redis_cache)

    assert logout(session) == 503
    assert AuthSession.objects.get(user=user).revoked_at is None
    assert status_of_me(session["access"]) == 200  # still live, and rightly so
    readiness = APIClient().get("/health/ready/")
    assert readiness.status_code == 503
    assert readiness.json()["checks"]["cache"] == "error"

    accept_writes(redis_cache)
    assert logout(session) == 204
    assert AuthSession.objects.get(user=user).revoke_reason == "logout"
    assert status_of_me(session["access"]) == 401
    refuse_writes(redis_cache)  # the tombstone holds whatever Redis refuses next
    assert status_of_me(session["access"]) == 401


def test_while_redis_refuses_writes_requests_are_answered_from_the_database(
    redis_cache: redis.Redis, user: User, login: Callable
) -> None:
    live, revoked = login(user), login(user)
    assert logout(revoked) == 204
    redis_cache.flushall()  # the cache lost everything, tombstones included
    refuse_writes(redis_cache)

    assert status_of_me(live["access"]) == 200
    assert status_of_me(revoked["access"]) == 401


def test_positive_entries_are_short_lived_and_tombstones_outlive_access_tokens(
    redis_cache: redis.Redis,
    user: User,
    login: Callable,
) -> None:
    """Before: positive entries lived as long as tombstones (6 minutes by default)."""
    live, revoked = login(user), login(user)
    assert status_of_me(live["access"]) == 200
    assert logout(revoked) == 204
    live_id, revoked_id = (
        AuthSession.objects.filter(user=user)
        .order_by("created_at")
        .values_list("pk", flat=True)
    )

    def ttl(key: str) -> int:
        return redis_cache.ttl(f"{KEY_PREFIX}:1:{key}")

    access_lifetime = settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()
    assert 0 < ttl(session_state._session_key(live_id)) <= 60
    assert 0 < ttl(session_state._user_key(user.pk)) <= 60
    assert ttl(session_state._session_key(revoked_id)) > access_lifetime
