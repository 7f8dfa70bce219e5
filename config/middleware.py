"""Request id and access log: one line per request, and the id on every log record; the
Content-Security-Policy of every response.

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

from django.conf import settings
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


# Pages a browser renders: the admin and the API docs. Their scripts, styles and images
# come from this origin (Django's admin and drf-spectacular-sidecar's Swagger UI and Redoc
# under /static/); neither has an inline script (Swagger UI is served by the "split"
# view, its set-up script a file of its own). Inline styles stay allowed: the admin's
# templates and widgets and Redoc's styled components write style attributes and blocks.
# Redoc runs its search index in a worker built from a blob: URL.
PAGE_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
# Everything else is data (JSON, files), never a page: nothing may load or frame it.
DATA_POLICY = "default-src 'none'; frame-ancestors 'none'"
PAGE_URL_NAMES = frozenset({"swagger-ui", "redoc"})


class ContentSecurityPolicyMiddleware:
    """A ``Content-Security-Policy`` header on every response that has none: a strict
    policy for the admin and the API docs pages, and "load nothing" for the rest.

    Django 5.2 has no CSP of its own. The page is told apart by its route (the ``admin``
    namespace, the docs' URL names), so moving a prefix changes nothing here.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" in response:
            return response
        if self.is_page(request):
            response["Content-Security-Policy"] = PAGE_POLICY
        elif not (settings.DEBUG and self.is_html(response)):
            # With DEBUG on, Django's error pages are HTML with inline styles and scripts.
            response["Content-Security-Policy"] = DATA_POLICY
        return response

    @staticmethod
    def is_html(response: HttpResponse) -> bool:
        return response.get("Content-Type", "").startswith("text/html")

    @staticmethod
    def is_page(request: HttpRequest) -> bool:
        match = request.resolver_match
        return match is not None and (
            "admin" in match.namespaces or match.url_name in PAGE_URL_NAMES
        )
