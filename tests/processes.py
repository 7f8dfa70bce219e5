"""Helpers for tests that run the project's own entry points (bin/start, bin/worker)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from django.conf import settings

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def run_python(
    *arguments: str, environment: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """This interpreter, in the project folder, with exactly ``environment`` (and no env
    file: a developer's ``.env`` would add to it)."""
    return subprocess.run(
        [sys.executable, *arguments],
        cwd=PROJECT_ROOT,
        env={"GATEHOUSE_ENV_FILE": "", **environment},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def process_environment(**variables: str) -> dict[str, str]:
    """The environment of a child process: this one's, with the project's venv first."""
    environment = dict(os.environ)
    environment["PATH"] = (
        f"{Path(sys.executable).parent}{os.pathsep}{environment['PATH']}"
    )
    environment["PYTHON"] = sys.executable
    environment.update(variables)
    return environment


@contextmanager
def scratch_database_url(tmp_path: Path) -> Iterator[str]:
    """A database no test shares: a new PostgreSQL database when the suite runs on
    PostgreSQL (dropped afterwards), else a SQLite file under ``tmp_path``."""
    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.postgresql":
        yield f"sqlite:///{tmp_path / 'scratch.sqlite3'}"
        return
    name = f"gatehouse_scratch_{uuid.uuid4().hex[:12]}"
    admin = {
        "host": database["HOST"] or "localhost",
        "port": database["PORT"] or 5432,
        "user": database["USER"],
        "password": database["PASSWORD"] or None,
        "dbname": "postgres",
        "autocommit": True,
    }
    with psycopg.connect(**admin) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        credentials = database["USER"]
        if database["PASSWORD"]:
            credentials += f":{database['PASSWORD']}"
        yield f"postgres://{credentials}@{admin['host']}:{admin['port']}/{name}"
    finally:
        with psycopg.connect(**admin) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
