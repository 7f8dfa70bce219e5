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
        "checks": {"database": "ok", "cache": "ok", "rate_limits": "ok"},
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
    # No request tried to count: the limiter has not failed (yet).
    assert body["checks"] == {"database": "ok", "cache": "error", "rate_limits": "ok"}
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
    assert response.json()["checks"] == {
        "database": "error",
        "cache": "ok",
        "rate_limits": "ok",
    }
    assert "connection refused" not in response.content.decode()


@pytest.mark.parametrize("path", ["/health/live/", "/health/ready/"])
@pytest.mark.django_db
def test_probes_answer_whatever_the_host_header(settings, path: str) -> None:
    """With a real ALLOWED_HOSTS, the image's HEALTHCHECK (127.0.0.1:8000) and
    Kubernetes' probes (the pod's IP) were refused with a 400 (issue 13)."""
    settings.ALLOWED_HOSTS = ["auth.example.com"]

    response = APIClient().get(path, HTTP_HOST="127.0.0.1:8000")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response["X-Request-ID"]  # the access log still sees it


@pytest.mark.django_db
def test_a_failing_probe_answered_before_host_validation_is_still_a_problem(
    settings,
) -> None:
    settings.ALLOWED_HOSTS = ["auth.example.com"]

    with override_settings(CACHES=UNREACHABLE_REDIS):
        response = APIClient().get("/health/ready/", HTTP_HOST="10.0.0.7:8000")

    assert response.status_code == 503
    assert response.json()["code"] == "not_ready"


def test_other_paths_still_refuse_an_unknown_host(settings) -> None:
    settings.ALLOWED_HOSTS = ["auth.example.com"]

    assert APIClient().get("/health/", HTTP_HOST="127.0.0.1").status_code == 400
    assert APIClient().get("/api/v1/config/", HTTP_HOST="127.0.0.1").status_code == 400
