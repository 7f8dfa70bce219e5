"""The Docker image and compose file start the same entry points the tests run.

No Docker engine runs in CI, so these files are checked by reading: what they execute must be
``bin/start`` and ``bin/worker``, which tests/test_server.py and tests/test_worker.py exercise.
"""

from __future__ import annotations

import os
import re

import yaml

from tests.processes import PROJECT_ROOT


def test_the_image_runs_bin_start_as_a_non_root_user() -> None:
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()

    assert re.search(r'^CMD \["bin/start"\]$', dockerfile, re.MULTILINE)
    assert re.search(r"^USER gatehouse$", dockerfile, re.MULTILINE)
    assert "--require-hashes -r /tmp/base.txt" in dockerfile
    assert re.search(r"^COPY requirements/base.txt ", dockerfile, re.MULTILINE)


def test_compose_runs_the_app_and_worker_entry_points_on_postgres_and_redis() -> None:
    compose = yaml.safe_load((PROJECT_ROOT / "compose.yaml").read_text())
    services = compose["services"]

    assert services["app"]["command"] == ["bin/start"]
    assert services["worker"]["command"] == ["bin/worker"]
    for name in ("app", "worker"):
        environment = services[name]["environment"]
        assert environment["DATABASE_URL"].startswith("postgres://")
        assert environment["REDIS_URL"].startswith("redis://redis:")
    assert {"db", "redis"} <= services.keys()


def test_entry_points_are_executable() -> None:
    for script in ("bin/start", "bin/worker", ".ci/run"):
        assert os.access(PROJECT_ROOT / script, os.X_OK), script
