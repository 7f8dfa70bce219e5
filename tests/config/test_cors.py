"""Browsers on FRONTEND_URL may call the API; other origins may not."""

from __future__ import annotations

from rest_framework.test import APIClient


def test_the_frontend_origin_passes_a_preflight() -> None:
    response = APIClient().options(
        "/health/live/",
        HTTP_ORIGIN="http://localhost:3000",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
    )

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "http://localhost:3000"


def test_the_frontend_may_send_a_request_id() -> None:
    response = APIClient().options(
        "/api/v1/auth/login/",
        HTTP_ORIGIN="http://localhost:3000",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type, x-request-id",
    )

    allowed = {
        name.strip().lower()
        for name in response["Access-Control-Allow-Headers"].split(",")
    }
    assert {"x-request-id", "content-type", "authorization"} <= allowed


def test_the_request_id_header_is_readable_by_the_frontend() -> None:
    response = APIClient().get("/health/live/", HTTP_ORIGIN="http://localhost:3000")

    exposed = {
        name.strip().lower()
        for name in response["Access-Control-Expose-Headers"].split(",")
    }
    assert {"x-request-id", "retry-after"} <= exposed


def test_another_origin_gets_no_cors_headers() -> None:
    response = APIClient().get("/health/live/", HTTP_ORIGIN="https://evil.example")

    assert "Access-Control-Allow-Origin" not in response
