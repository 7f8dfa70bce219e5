"""The Docker image and compose file start the same entry points the tests run.

No Docker engine runs in CI, so these files are checked by reading: what they execute must be
``bin/start`` and ``bin/worker``, which tests/test_server.py and tests/test_worker.py exercise.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from tests.processes import PROJECT_ROOT, run_python


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


def test_the_health_checks_probe_paths_answered_whatever_the_host() -> None:
    """With a real ALLOWED_HOSTS, probes of 127.0.0.1 were refused with a 400, so the
    app never turned healthy and the worker never started (issue 13): the paths the image
    and compose probe are those HealthProbeMiddleware serves before host validation."""
    from config.health import HealthProbeMiddleware

    served = HealthProbeMiddleware(lambda request: None).probes.keys()
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    [probed] = re.findall(r"^HEALTHCHECK .*?(/health/\w+/)", dockerfile, re.M | re.S)
    compose = yaml.safe_load((PROJECT_ROOT / "compose.yaml").read_text())
    app_check = " ".join(compose["services"]["app"]["healthcheck"]["test"])

    assert probed in served
    assert re.search(r"127\.0\.0\.1:8000(/health/\w+/)", app_check).group(1) in served
    assert "config.health.HealthProbeMiddleware" in settings.MIDDLEWARE


def test_the_worker_is_checked_by_itself_not_by_the_web_servers_probe() -> None:
    compose = yaml.safe_load((PROJECT_ROOT / "compose.yaml").read_text())
    worker_check = " ".join(compose["services"]["worker"]["healthcheck"]["test"])

    assert "celery -A config inspect ping" in worker_check
    assert "/health/" not in worker_check


def test_compose_keeps_secrets_in_an_env_file_not_in_the_shell() -> None:
    """compose.yaml asked for SECRET_KEY=$(python -c ...) per shell, a new key each time:
    every TOTP secret became unreadable (issue 13). The key lives in .env.production."""
    text = (PROJECT_ROOT / "compose.yaml").read_text()
    services = yaml.safe_load(text)["services"]

    for name in ("app", "worker"):
        assert services[name]["env_file"] == ".env.production"
        assert "SECRET_KEY" not in services[name]["environment"]
    assert "token_urlsafe" not in text
    assert "--env-file .env.production" in (PROJECT_ROOT / "Dockerfile").read_text()


def test_the_env_example_names_every_secret_and_holds_none() -> None:
    example = (PROJECT_ROOT / ".env.example").read_text()
    values = dict(
        line.split("=", 1)
        for line in example.splitlines()
        if line and not line.startswith("#")
    )

    assert values["SECRET_KEY"] == ""
    assert values["SECRET_KEY_FALLBACKS"] == ""
    assert "# JWT_SIGNING_KEY=" in example


def test_env_files_stay_out_of_git_and_of_the_image_but_the_example_is_kept() -> None:
    ignored = subprocess.run(
        [
            "git",
            "check-ignore",
            "--no-index",
            ".env",
            ".env.production",
            ".env.example",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()

    assert ignored == [".env", ".env.production"]


def test_the_image_leaves_out_tests_benchmarks_clients_and_local_files() -> None:
    patterns = {
        line.strip()
        for line in (PROJECT_ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }

    assert {"tests", "bench", "clients", ".git", ".venv", "data"} <= patterns
    assert {".env", ".env.*", "node_modules"} <= patterns
    # What the image runs must stay in.
    for needed in ("accounts", "config", "bin", "templates", "static", "manage.py"):
        assert needed not in patterns
        assert (PROJECT_ROOT / needed).exists()
    assert "requirements" not in patterns


def test_make_run_writes_the_development_env_file_once_and_sets_nothing_itself() -> (
    None
):
    """make run set DEBUG=true on its own command lines, so manage.py run by hand did not
    see it (issue 13): the setting lives in the .env it writes when there is none."""
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    run = re.search(r"^run: (.*)\n((?:\t.*\n)+)", makefile, re.M)
    env_target = re.search(r"^\.env: (.*)\n((?:\t.*\n)+)", makefile, re.M)

    assert ".env" in run.group(1).split()
    assert "DEBUG" not in run.group(2)
    assert "DEBUG=true" in env_target.group(2)
    assert "SECRET_KEY=$$($(BIN)/python -c" in env_target.group(2)
    assert env_target.group(1).startswith("|")  # order-only: never rewritten


@pytest.mark.slow
def test_the_env_example_with_a_secret_key_is_a_working_configuration(
    tmp_path: Path,
) -> None:
    environment = {
        "PATH": os.environ["PATH"],
        "DATA_DIR": str(tmp_path),
        "GATEHOUSE_ENV_FILE": str(PROJECT_ROOT / ".env.example"),
        "SECRET_KEY": "k3J9-pQ2_zX8vL5nR1tY7wB4mC6hF0dG-sA2eU9iO3pK5jH8gT1rE4wQ7yN0bV2cX6",
    }

    result = run_python("manage.py", "check", environment=environment)

    assert result.returncode == 0, result.stderr
