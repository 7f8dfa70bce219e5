"""Redis unreachable (issue 17): the API keeps serving, the limits fail open with an
error logged, and the readiness probe names it; never a 500 because of the limiter."""

from __future__ import annotations

import logging

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from config import counters
from tests.factories import DEFAULT_PASSWORD
from tests.helpers import account, client_for

pytestmark = pytest.mark.django_db

UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
    }
}
ME = "/api/v1/users/me/"
CONFIG = "/api/v1/config/"
EXPORT = "/api/v1/users/me/export/"  # a named limit as well as the group's
RESET = "/api/v1/auth/password/reset/"  # anyone's: named limits per address, email
LOGIN = "/api/v1/auth/login/"  # the lockout's counters
REGISTER = "/api/v1/auth/register/"
HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")


@pytest.fixture
def redis_down(caplog):
    """The cache is a Redis nobody answers for (Django makes the caches anew)."""
    caplog.set_level(logging.ERROR, logger="gatehouse.ratelimits")
    with override_settings(CACHES=UNREACHABLE_REDIS):
        yield caplog


def test_an_address_is_served_uncounted(limit_groups, redis_down) -> None:
    limit_groups({"default": {"anonymous": "1/m"}})
    caller = APIClient(REMOTE_ADDR="203.0.113.9")

    answers = [caller.get(CONFIG) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [200] * 3
    assert all(name not in answer for answer in answers for name in HEADERS)
    assert counters.failing_open()
    assert counters.failures() == 3
    # Logged once: the next requests back off (no timeout of their own) and the log
    # says so at most every LOG_EVERY seconds.
    errors = [r for r in redis_down.records if r.levelno == logging.ERROR]
    assert [r.getMessage().split(":")[0] for r in errors] == ["Rate limits fail open"]


def test_a_user_is_served_uncounted(limit_groups, caplog) -> None:
    limit_groups({"default": {"user": "1/m"}})
    client = client_for(account())  # signed in while the cache answered

    with override_settings(CACHES=UNREACHABLE_REDIS):
        answers = [client.get(ME) for _ in range(3)] + [client.get(EXPORT)]

    assert [answer.status_code for answer in answers] == [200] * 4
    assert all(name not in answer for answer in answers for name in HEADERS)
    assert "Rate limits fail open" in caplog.text


def test_the_named_limits_fail_open(settings, redis_down) -> None:
    """Before: the named limits (config.sliding_window) raised: every limited auth
    route answered 500 with Redis down."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_failures_per_ip": "1/m"}
    caller = APIClient(REMOTE_ADDR="203.0.113.9", raise_request_exception=False)

    resets = [
        caller.post(RESET, {"email": "someone@example.com"}, format="json")
        for _ in range(2)
    ]
    logins = [
        caller.post(LOGIN, {"login": "nobody", "password": "wrong"}, format="json")
        for _ in range(3)
    ]

    assert [answer.status_code for answer in resets] == [202, 202]
    assert [answer.status_code for answer in logins] == [401] * 3
    assert counters.failing_open()


def test_the_readiness_probe_names_the_limiter(api_client, redis_down) -> None:
    assert APIClient().get(CONFIG).status_code == 200  # served uncounted

    response = api_client.get("/health/ready/")

    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "ok",
        "cache": "error",
        "rate_limits": "error",
    }


def test_counting_resumes_when_the_cache_answers_again(
    limit_groups, monkeypatch, caplog
) -> None:
    limit_groups({"default": {"anonymous": "5/m"}})
    caller = APIClient(REMOTE_ADDR="203.0.113.9")
    with override_settings(CACHES=UNREACHABLE_REDIS):
        assert caller.get(CONFIG).status_code == 200
    assert counters.failing_open()
    # Within the backoff the probe does not even try; once it is over, it reads once.
    assert APIClient().get("/health/ready/").json()["checks"]["rate_limits"] == "error"
    monkeypatch.setattr(counters, "BACKOFF", 0.0)

    ready = APIClient().get("/health/ready/")

    assert ready.status_code == 200
    assert ready.json()["checks"]["rate_limits"] == "ok"
    assert not counters.failing_open()
    assert caller.get(CONFIG)["RateLimit-Remaining"] == "4"
    assert "Rate limits count again" in caplog.text


def test_a_login_and_a_sign_up_are_served(redis_down) -> None:
    """The limiter aside, the flows that touch the cache carry on without it: a login
    (its snapshot forgotten on commit), a sign-up, and a sign-up with a taken address,
    which still answers as a new account's (its reservations are best effort)."""
    user = account(email="ada@example.com")
    caller = APIClient(REMOTE_ADDR="203.0.113.10", raise_request_exception=False)
    sign_up = {
        "email": "grace@example.com",
        "username": "grace_h",
        "password": "a long and unusual passphrase 42",
    }

    login = caller.post(
        LOGIN, {"login": user.username, "password": DEFAULT_PASSWORD}, format="json"
    )
    fresh = caller.post(REGISTER, sign_up, format="json")
    taken = caller.post(
        REGISTER,
        {**sign_up, "email": "ada@example.com", "username": "ada_again"},
        format="json",
    )

    assert login.status_code == 200, login.content
    assert fresh.status_code == taken.status_code == 201, (fresh.content, taken.content)
    assert set(fresh.json()) == set(taken.json())
