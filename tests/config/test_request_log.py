"""One access-log line per request, and a request id in the response and the log."""

from __future__ import annotations

import json
import logging
import os

import pytest
from rest_framework.test import APIClient

from tests.processes import run_python


@pytest.mark.parametrize("incoming", ["abc-123", "Trace.ID_42", "x" * 128])
def test_a_well_formed_request_id_is_echoed(
    api_client: APIClient, incoming: str
) -> None:
    response = api_client.get("/health/live/", HTTP_X_REQUEST_ID=incoming)

    assert response["X-Request-ID"] == incoming


@pytest.mark.parametrize("incoming", ["", "x" * 129, "has space", "new\nline", "ü"])
def test_a_malformed_request_id_is_replaced(
    api_client: APIClient, incoming: str
) -> None:
    response = api_client.get("/health/live/", HTTP_X_REQUEST_ID=incoming)

    generated = response["X-Request-ID"]
    assert generated != incoming
    assert len(generated) == 32
    assert generated.isalnum()


def test_each_request_logs_method_path_status_duration_and_id(
    api_client: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="gatehouse.access"):
        api_client.get("/no-such-page/?token=secret", HTTP_X_REQUEST_ID="req-1")

    [record] = [r for r in caplog.records if r.name == "gatehouse.access"]
    assert (record.method, record.path, record.status) == ("GET", "/no-such-page/", 404)
    assert record.duration_ms >= 0
    assert record.getMessage().startswith("GET /no-such-page/ 404 ")
    assert "secret" not in record.getMessage()  # query strings are never logged


@pytest.mark.slow
def test_log_format_json_writes_one_json_object_per_line(tmp_path) -> None:
    script = (
        "import django; django.setup();"
        "from django.test import Client;"
        "Client().get('/health/live/', HTTP_HOST='localhost', HTTP_X_REQUEST_ID='json-1')"
    )
    environment = {
        **os.environ,
        "LOG_FORMAT": "json",
        "DATA_DIR": str(tmp_path),
        "STATIC_ROOT": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }

    result = run_python("-c", script, environment=environment)

    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    [access] = [line for line in lines if line["logger"] == "gatehouse.access"]
    assert access["request_id"] == "json-1"
    assert (access["method"], access["path"], access["status"]) == (
        "GET",
        "/health/live/",
        200,
    )
    assert access["level"] == "INFO"
    assert access["time"].endswith("+00:00")
    assert "duration_ms" in access
