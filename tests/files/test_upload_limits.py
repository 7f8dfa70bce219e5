"""The size limit of an upload, enforced while the body streams in: in process, and on
the real server (``bin/start``) with its workers' peak memory measured."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from files.models import StoredFile
from tests.files.samples import on_local_storage, stored_names
from tests.helpers import account, client_for
from tests.processes import (
    PROJECT_ROOT,
    free_port,
    process_environment,
    scratch_database_url,
)

FILES = "/api/v1/files/"


@pytest.mark.django_db
def test_a_file_past_the_limit_is_413_and_nothing_is_kept(
    media_root: Path, settings
) -> None:
    settings.FILE_MAX_BYTES = 1000
    client = client_for(account())

    at_limit = client.post(
        FILES, {"file": SimpleUploadedFile("a.txt", b"a" * 1000)}, format="multipart"
    )
    past = client.post(
        FILES, {"file": SimpleUploadedFile("b.txt", b"b" * 1001)}, format="multipart"
    )

    assert at_limit.status_code == 201
    assert past.status_code == 413
    assert past.json()["code"] == "file_too_large"
    assert past.json()["max_bytes"] == 1000
    assert StoredFile.objects.count() == 1
    assert len(stored_names()) == 1


@pytest.mark.django_db
def test_a_declared_length_far_past_the_limit_is_refused_before_the_body_is_read(
    settings,
) -> None:
    settings.FILE_MAX_BYTES = 1000
    client = client_for(account())
    body = b"--x\r\n"  # never parsed: the length alone decides

    response = client.generic(
        "POST",
        FILES,
        body,
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(50 * 1024 * 1024),
    )

    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"


# --- On the real server --------------------------------------------------------------------

MB = 1024 * 1024
BOUNDARY = "gatehouse-memory-test"


def _workers_of(pid: int) -> list[int]:
    """The processes started by ``pid`` (granian's workers), at any depth."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def _peak_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def _peaks(pid: int) -> dict[int, int]:
    return {each: _peak_kb(each) for each in [pid, *_workers_of(pid)]}


def _form(size: int, chunk: int = 64 * 1024) -> tuple[int, Iterator[bytes]]:
    """A multipart form with a text file of ``size`` bytes, generated chunk by chunk:
    its length, and its bytes."""
    head = (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="file"; filename="big.txt"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    line = (b"x" * 63 + b"\n") * (chunk // 64)

    def chunks() -> Iterator[bytes]:
        yield head
        left = size
        while left > 0:
            yield line[: min(left, len(line))]
            left -= len(line)
        yield tail

    return len(head) + size + len(tail), chunks()


def _post(
    port: int, key: str, size: int, *, chunked: bool
) -> tuple[int, dict, int, float]:
    """POST a generated form; the status, body, bytes sent and seconds taken. Sending
    stops when the server answers or closes early."""
    length, chunks = _form(size)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.putrequest("POST", FILES)
    connection.putheader("X-API-Key", key)
    connection.putheader("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")
    if chunked:
        connection.putheader("Transfer-Encoding", "chunked")
    else:
        connection.putheader("Content-Length", str(length))
    connection.endheaders()
    sent = 0
    started = time.monotonic()
    try:
        for chunk in chunks:
            data = b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk
            connection.send(data)
            sent += len(chunk)
        if chunked:
            connection.send(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server answered early and closed: read its answer
    response = connection.getresponse()
    body = json.loads(response.read() or b"{}")
    connection.close()
    return response.status, body, sent, time.monotonic() - started


@pytest.mark.slow
@pytest.mark.server
@pytest.mark.django_db
# The figures are the folder backend's (README). On S3, boto3 adds its own one-time
# warm-up (service models) and part buffers (8 MB parts): bounded, not the file's size,
# and not what this measures.
@pytest.mark.skipif(
    not on_local_storage(), reason="measures the folder backend's memory"
)
def test_on_the_server_memory_stays_flat_for_a_100_mb_upload_and_a_9_mb_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    with scratch_database_url(tmp_path) as database_url:
        environment = process_environment(
            DATABASE_URL=database_url,
            REDIS_URL=settings.REDIS_URL,
            DATA_DIR=str(tmp_path),
            MEDIA_ROOT=str(tmp_path / "media"),
            HOST="127.0.0.1",
            PORT=str(port),
            WEB_WORKERS="1",
            DEBUG="false",
            FILE_MAX_BYTES=str(10 * MB),
            FILE_QUOTA_BYTES=str(100 * MB),
        )
        log_path = tmp_path / "server.log"
        with log_path.open("wb") as log:
            server = subprocess.Popen(
                ["bin/start"], cwd=PROJECT_ROOT, env=environment, stdout=log, stderr=log
            )
            try:
                _wait_until_ready(port, server)
                key = _make_key(environment)
                figures = _measure(server.pid, port, key)
            finally:
                server.terminate()
                server.wait(timeout=30)

    with capsys.disabled():  # the figures, for the record (pytest -s shows them)
        sys.stdout.write(f"\nupload memory (kB, VmHWM): {json.dumps(figures)}\n")
    refused, refused_chunked, cut_off, accepted = (
        figures["100MB_declared"],
        figures["100MB_chunked"],
        figures["10MB_plus_40KB"],
        figures["9MB"],
    )
    # A declared length past the limit: 413 before the body is read.
    assert refused["status"] == 413
    assert refused["code"] == "file_too_large"
    assert refused["sent_bytes"] < 100 * MB  # answered before the body was all sent
    # No length at all (chunked): a WSGI application reads no body it was not told
    # the length of, so the form has no file.
    assert refused_chunked["status"] == 400
    assert refused_chunked["sent_bytes"] < 100 * MB
    # A length within the form's allowance but a file past the limit: the parse
    # stops at the first chunk past it.
    assert cut_off["status"] == 413
    assert cut_off["code"] == "file_too_large"
    assert cut_off["peak_growth_kb"] < 8 * 1024
    assert accepted["status"] == 201
    # "Flat": nothing near the body's size. A 100 MB body read into memory would add
    # ~100,000 kB; a 9 MB one held whole ~9,000 kB (the parse streams it to disk).
    assert refused["peak_growth_kb"] < 20 * 1024
    assert refused_chunked["peak_growth_kb"] < 20 * 1024
    assert accepted["peak_growth_kb"] < 8 * 1024


def _measure(pid: int, port: int, key: str) -> dict[str, dict]:
    # A first request warms the worker (imports, connections) before the baseline.
    _post(port, key, 1024, chunked=False)
    figures = {}
    for label, size, chunked in [
        ("100MB_declared", 100 * MB, False),
        ("100MB_chunked", 100 * MB, True),
        # Declared within the limit plus the form's allowance: the parse itself stops.
        ("10MB_plus_40KB", 10 * MB + 40 * 1024, False),
        ("9MB", 9 * MB, False),
    ]:
        before = _peaks(pid)
        status, body, sent, seconds = _post(port, key, size, chunked=chunked)
        after = _peaks(pid)
        figures[label] = {
            "status": status,
            "code": body.get("code"),
            "sent_bytes": sent,
            "seconds": round(seconds, 2),
            "peak_before_kb": max(before.values()),
            "peak_after_kb": max(after.values()),
            "peak_growth_kb": max(
                after[each] - before.get(each, after[each]) for each in after
            ),
        }
    return figures


def _wait_until_ready(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"bin/start exited with {server.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/health/ready/")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    pytest.fail("bin/start did not become ready")


def _make_key(environment: dict[str, str]) -> str:
    """A user and an API key with ``files:write``, made in the server's database."""
    script = (
        "from accounts.models import User\n"
        "from apikeys.services import api_key_create\n"
        "from config.client import SYSTEM\n"
        "user = User.objects.create_user('uploader', 'uploader@example.com', "
        "'a long password for the test')\n"
        "key = api_key_create(actor=user, owner_id=user.pk, name='t', "
        "scopes=['files:write', 'files:read'], expires_at=None, client=SYSTEM)[1]\n"
        "print(key)\n"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]
