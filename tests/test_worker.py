"""The Celery worker entry point (``bin/worker``) connects to the Redis broker."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from django.conf import settings

from config.celery import app
from tests.processes import PROJECT_ROOT, process_environment

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not settings.REDIS_URL,
        reason="the embedded default has no broker: tasks run inline",
    ),
]


def test_bin_worker_answers_on_the_broker(tmp_path: Path) -> None:
    environment = process_environment(
        CELERY_TASK_ALWAYS_EAGER="false",
        CELERY_BEAT_SCHEDULE_FILE=str(tmp_path / "beat-schedule"),
        WORKER_CONCURRENCY="1",
    )
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            ["bin/worker"], cwd=PROJECT_ROOT, env=environment, stdout=log, stderr=log
        )
        try:
            replies: list = []
            deadline = time.monotonic() + 60
            while not replies and time.monotonic() < deadline:
                assert worker.poll() is None, log_path.read_text()
                replies = app.control.ping(timeout=1.0)
        finally:
            worker.terminate()
            worker.wait(timeout=30)

    assert replies, log_path.read_text()
    [reply] = replies
    assert next(iter(reply.values())) == {"ok": "pong"}
    assert "beat: Starting" in log_path.read_text()
