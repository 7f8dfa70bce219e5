"""``run_after_response``: work that waits until the response has been sent."""

from __future__ import annotations

import logging

import pytest
from django.core.signals import request_finished
from django.db import close_old_connections
from django.http import HttpResponse

from config.after_response import run_after_response


def server_closes(response: HttpResponse) -> None:
    """What a server does once the last byte is sent, as Django's test client does it:
    without letting ``request_finished`` close the database connection tests share."""
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


def test_the_work_runs_when_the_server_closes_the_response() -> None:
    calls: list[str] = []
    response = HttpResponse("answer")

    run_after_response(response, lambda: calls.append("work"))

    assert calls == []  # not while the view answers
    server_closes(response)
    assert calls == ["work"]
    server_closes(response)
    assert calls == ["work"]  # once


def test_the_work_runs_before_the_request_ends_its_database_connection() -> None:
    calls: list[str] = []

    def finished(**kwargs: object) -> None:
        calls.append("request_finished")

    response = HttpResponse()
    run_after_response(response, lambda: calls.append("work"))
    request_finished.connect(finished)
    try:
        server_closes(response)
    finally:
        request_finished.disconnect(finished)

    assert calls == ["work", "request_finished"]


def test_a_failure_is_logged_and_the_response_still_closes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[str] = []

    def fail() -> None:
        raise RuntimeError("mail server down")

    response = HttpResponse()
    run_after_response(response, fail)
    run_after_response(response, lambda: calls.append("next"))

    with caplog.at_level(logging.ERROR, logger="config.after_response"):
        server_closes(response)

    assert response.closed
    assert calls == ["next"]
    [record] = caplog.records
    assert record.exc_info is not None
    assert "mail server down" in str(record.exc_info[1])
