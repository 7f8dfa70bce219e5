"""Liveness and readiness probes (API.md, Operations)."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.test import override_settings
from rest_framework.test import APIClient

from config import health

UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
    }
}


def test_live_answers_without_touching_dependencies(api_client: APIClient) -> None:
    # No django_db mark: a database query here would fail the request.
    response = api_client.get("/health/live/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_ready_checks_database_and_cache(api_client: APIClient) -> None:
    response = api_client.get("/health/ready/")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok"},
    }


@pytest.mark.django_db
def test_ready_is_503_naming_the_cache_when_redis_is_unreachable(
    api_client: APIClient,
) -> None:
    with override_settings(CACHES=UNREACHABLE_REDIS):
        response = api_client.get("/health/ready/")

    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "not_ready"
    assert body["checks"] == {"database": "ok", "cache": "error"}
    assert body["detail"] == "Not ready: cache is unavailable."


@pytest.mark.django_db
def test_ready_is_503_naming_the_database_when_it_fails(
    api_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def database_down() -> bool:
        raise OperationalError("connection refused")

    monkeypatch.setitem(health.READINESS_CHECKS, "database", database_down)

    response = api_client.get("/health/ready/")

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "error", "cache": "ok"}
    assert "connection refused" not in response.content.decode()
