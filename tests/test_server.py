"""The production entry point, run as the Docker image runs it: ``bin/start``."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from email.message import Message
from pathlib import Path

import pytest
from django.conf import settings

from tests.processes import (
    PROJECT_ROOT,
    free_port,
    process_environment,
    scratch_database_url,
)

pytestmark = [pytest.mark.slow, pytest.mark.server]


def fetch(
    url: str, headers: dict[str, str] | None = None
) -> tuple[int, Message, bytes]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 (loopback only)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def wait_until_ready(
    base_url: str, server: subprocess.Popen, seconds: float = 90
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"bin/start exited with {server.returncode}")
        try:
            if fetch(f"{base_url}/health/ready/")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    pytest.fail("bin/start did not become ready")


def test_bin_start_migrates_and_serves_the_api_docs_and_static_files(
    tmp_path: Path,
) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with scratch_database_url(tmp_path) as database_url:
        environment = process_environment(
            DATABASE_URL=database_url,
            REDIS_URL=settings.REDIS_URL,
            STATIC_ROOT=str(tmp_path / "static"),
            DATA_DIR=str(tmp_path),
            HOST="127.0.0.1",
            PORT=str(port),
            WEB_WORKERS="1",
            DEBUG="false",
        )
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=PROJECT_ROOT,
            env=environment,
            check=True,
            timeout=120,
        )
        log_path = tmp_path / "server.log"
        with log_path.open("wb") as log:
            server = subprocess.Popen(
                ["bin/start"], cwd=PROJECT_ROOT, env=environment, stdout=log, stderr=log
            )
            try:
                wait_until_ready(base_url, server)

                status, headers, body = fetch(
                    f"{base_url}/health/ready/",
                    {"X-Request-ID": "from-the-server-test"},
                )
                assert status == 200
                assert json.loads(body)["checks"] == {
                    "database": "ok",
                    "cache": "ok",
                    "rate_limits": "ok",
                }
                assert headers["X-Request-ID"] == "from-the-server-test"

                status, _, page = fetch(f"{base_url}/api/docs/")
                assert status == 200
                asset = "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"
                assert asset.encode() in page
                status, headers, _ = fetch(f"{base_url}{asset}")
                assert status == 200
                assert "javascript" in headers["Content-Type"]

                status, _, _ = fetch(f"{base_url}/static/admin/css/base.css")
                assert status == 200

                status, headers, body = fetch(f"{base_url}/api/v1/missing/")
                assert status == 404
                assert headers["Content-Type"] == "application/problem+json"
                assert json.loads(body)["code"] == "not_found"
            finally:
                server.terminate()
                server.wait(timeout=30)

    output = log_path.read_text()
    assert "[from-the-server-test] GET /health/ready/ 200" in output
    assert "Applying accounts.0001_initial" in output  # bin/start ran the migrations
