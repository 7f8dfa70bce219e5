"""Every 4xx/5xx answer is one RFC 9457 problem-details shape (API.md, Errors)."""

from __future__ import annotations

import logging

import pytest
from rest_framework.test import APIClient

from config.middleware import RequestIdFilter

pytestmark = pytest.mark.urls("tests.config.urls")

PROBLEM_KEYS = {"type", "title", "status", "code", "detail"}


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body.keys() >= PROBLEM_KEYS
    assert body["type"] == "about:blank"
    assert body["status"] == status
    assert body["code"] == code
    assert isinstance(body["detail"], str)
    assert body["detail"]
    return body


def test_validation_error_lists_each_field(api_client: APIClient) -> None:
    response = api_client.post(
        "/test/validating/", {"username": "too_long_name", "age": -1}, format="json"
    )

    body = assert_problem(response, 400, "validation_error")
    assert body["title"] == "Bad Request"
    assert set(body["errors"]) == {"username", "age"}
    assert body["errors"]["age"] == ["Ensure this value is greater than or equal to 0."]
    assert body["detail"] in body["errors"]["username"] + body["errors"]["age"]


def test_malformed_json_is_a_400_problem(api_client: APIClient) -> None:
    response = api_client.post(
        "/test/validating/", data="{not json", content_type="application/json"
    )

    assert_problem(response, 400, "parse_error")


def test_form_data_on_a_json_route_is_415(api_client: APIClient) -> None:
    response = api_client.post(
        "/test/validating/", {"username": "a"}, format="multipart"
    )

    assert_problem(response, 415, "unsupported_media_type")


def test_missing_credentials_are_401_with_a_bearer_challenge(
    api_client: APIClient,
) -> None:
    response = api_client.get("/test/protected/")

    assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_garbage_token_is_401_token_invalid(api_client: APIClient) -> None:
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not.a.jwt")

    body = assert_problem(api_client.get("/test/protected/"), 401, "token_invalid")
    assert "messages" not in body


def test_application_error_carries_its_code_and_extra_members(
    api_client: APIClient,
) -> None:
    body = assert_problem(api_client.get("/test/banned/"), 403, "account_banned")

    assert body["banned_until"] is None
    assert body["title"] == "Forbidden"


@pytest.mark.parametrize(
    "path", ["/api/v1/no-such-route/", "/no-such-page/", "/api/v1/"]
)
def test_unknown_routes_are_404_problems(api_client: APIClient, path: str) -> None:
    assert_problem(api_client.get(path), 404, "not_found")


@pytest.mark.parametrize("method", ["post", "delete"])
def test_unsafe_methods_on_unknown_api_routes_are_404_not_a_csrf_failure(
    method: str,
) -> None:
    # As a browser's fetch would send them: CSRF is checked (an id that is not a UUID
    # falls through to the unknown-route view).
    client = APIClient(enforce_csrf_checks=True)
    response = getattr(client, method)("/api/v1/auth/sessions/not-a-uuid/")

    assert_problem(response, 404, "not_found")


def test_wrong_method_is_405_with_allow_header(api_client: APIClient) -> None:
    response = api_client.post("/health/live/", {}, format="json")

    assert_problem(response, 405, "method_not_allowed")
    assert "GET" in response["Allow"]


def test_unhandled_api_exception_is_a_500_problem_without_internals(
    api_client: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.handler.addFilter(RequestIdFilter())  # as settings.LOGGING's console handler
    with caplog.at_level(logging.ERROR, logger="gatehouse.errors"):
        response = api_client.get("/test/exploding/", HTTP_X_REQUEST_ID="trace-500-api")

    body = assert_problem(response, 500, "server_error")
    assert "hunter2" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert body["request_id"] == response["X-Request-ID"] == "trace-500-api"
    [record] = [r for r in caplog.records if r.name == "gatehouse.errors"]
    assert record.request_id == "trace-500-api"
    assert record.exc_info is not None  # the traceback goes to the log, not the client


def test_unhandled_exception_outside_the_api_is_a_500_problem(
    api_client: APIClient,
) -> None:
    api_client.raise_request_exception = False

    response = api_client.get("/test/exploding-django/")

    assert_problem(response, 500, "server_error")
    assert "hunter2" not in response.content.decode()


def test_a_rate_limit_is_429_rate_limited_not_403(api_client: APIClient) -> None:
    assert_problem(api_client.get("/test/ratelimited/"), 429, "rate_limited")


def test_a_throttle_is_429_with_retry_after(api_client: APIClient) -> None:
    response = api_client.get("/test/throttled/")

    assert_problem(response, 429, "rate_limited")
    assert response["Retry-After"] == "42"


def test_deeply_nested_json_is_a_400_parse_error(api_client: APIClient) -> None:
    # 2,000 levels in a 4 KB body: json.loads overflows the recursion limit.
    body = "[" * 2000 + "]" * 2000

    response = api_client.post(
        "/test/validating/", data=body, content_type="application/json"
    )

    assert_problem(response, 400, "parse_error")


def test_a_body_over_the_upload_limit_is_a_413_problem(
    api_client: APIClient, settings
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"username": "' + "a" * 2000 + '"}'

    response = api_client.post(
        "/test/validating/", data=body, content_type="application/json"
    )

    assert_problem(response, 413, "request_too_large")


def test_a_body_over_the_upload_limit_outside_the_api_is_a_413_problem(
    api_client: APIClient, settings
) -> None:
    # The admin's login form reads request.POST in Django, not in a DRF view.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    api_client.enforce_csrf_checks = False

    response = api_client.post(
        "/admin/login/", {"username": "a" * 2000, "password": "x"}, format="multipart"
    )

    assert_problem(response, 413, "request_too_large")


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_an_api_path_without_its_slash_is_a_308_to_the_slashed_route(
    method: str, settings
) -> None:
    # Under DEBUG, CommonMiddleware's APPEND_SLASH raised a RuntimeError for a POST.
    settings.DEBUG = True
    client = APIClient(enforce_csrf_checks=True)

    response = getattr(client, method)("/api/v1/auth/login?next=1")

    assert response.status_code == 308
    assert response["Location"] == "/api/v1/auth/login/?next=1"


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_unknown_api_path_without_a_slash_is_a_404_problem(method: str) -> None:
    client = APIClient(enforce_csrf_checks=True)

    response = getattr(client, method)("/api/v1/no-such-route")

    assert_problem(response, 404, "not_found")
