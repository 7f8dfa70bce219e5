"""Request id and access log: one line per request, and the id on every log record.

``RequestLogMiddleware`` is the outermost middleware so that its duration covers the whole
stack and its log line is written even when a later middleware answers on its own.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
# A client's id is echoed only if it is short and harmless in a log line or a header.
WELL_FORMED_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")

current_request_id: ContextVar[str] = ContextVar("current_request_id", default="-")
access_logger = logging.getLogger("gatehouse.access")


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record so formatters can print it (``-`` outside requests)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True


class RequestLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = (
            incoming if WELL_FORMED_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        )
        # An attribute of ours on Django's request (ClientInfo.from_request reads it).
        request.request_id = request_id  # type: ignore[attr-defined]
        context_token = current_request_id.set(request_id)
        started = time.perf_counter()
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            response[REQUEST_ID_HEADER] = request_id
            return response
        finally:
            duration_ms = round((time.perf_counter() - started) * 1000, 2)
            # The path only: query strings can carry one-time keys and tokens.
            access_logger.info(
                "%s %s %s %.2fms",
                request.method,
                request.path,
                status,
                duration_ms,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": status,
                    "duration_ms": duration_ms,
                },
            )
            current_request_id.reset(context_token)
