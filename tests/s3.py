"""A real S3-compatible server on loopback for the storage tests: moto's standalone
server (``moto[server]``), spoken to over HTTP by django-storages and boto3 exactly as a
bucket in production would be (no mocked client).

- :func:`moto_server` starts one on a free port (threaded, in this process) and gives
  its endpoint; ``.ci/run``'s "S3 storage" stage starts the ``moto_server`` script
  instead and points ``STORAGE_URL`` at it for all of ``tests/files``.
- :func:`storage_url_settings` turns an ``s3://`` URL into the ``STORAGES["default"]``
  entry through ``config.env.Settings.storage``: the tests use the code production uses.
- :func:`isolated_storage` (a fixture body): a temporary folder when the configured
  storage is the local one, the configured bucket as it is otherwise (stored names are
  random, so tests do not collide there). Tests then use ``default_storage``'s API only,
  never a path, and pass on either backend.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any
from unittest import mock

import boto3

from config.env import Settings as EnvSettings

ACCESS_KEY = "testing"
SECRET_KEY = "testing-secret"
REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def moto_server() -> Iterator[str]:
    """A moto S3 server on a free loopback port; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@cache
def s3_client(endpoint: str) -> Any:
    """A boto3 client of the server (made once: boto3 takes a while to build one)."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name=REGION,
    )


def new_bucket(endpoint: str) -> str:
    bucket = f"gatehouse-{uuid.uuid4().hex[:12]}"
    s3_client(endpoint).create_bucket(Bucket=bucket)
    return bucket


def storage_url(endpoint: str, bucket: str, prefix: str = "") -> str:
    host = endpoint.removeprefix("http://")
    path = f"{bucket}/{prefix}" if prefix else bucket
    return f"s3://{ACCESS_KEY}:{SECRET_KEY}@{host}/{path}?secure=false&region={REGION}"


def storage_url_settings(url: str) -> dict[str, Any]:
    """``STORAGES["default"]`` for ``url``, as ``config.settings`` builds it."""
    with mock.patch.dict(os.environ, {"STORAGE_URL": url}):
        return EnvSettings().storage("STORAGE_URL")


def isolated_storage(settings: Any, tmp_path: Path) -> None:
    """Point a local storage at ``tmp_path``; leave a bucket as configured."""
    if (
        settings.STORAGES["default"]["BACKEND"]
        == "django.core.files.storage.FileSystemStorage"
    ):
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": tmp_path},
            },
        }
        settings.MEDIA_ROOT = tmp_path
