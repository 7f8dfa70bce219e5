"""The one error contract: every 4xx/5xx body is an RFC 9457 problem-details document.

``{"type": "about:blank", "title", "status", "code", "detail"}`` plus ``errors`` (field ->
messages) for validation failures and any extra members an :class:`ApplicationError` carries
(``banned_until``, ``retry_after``…). DRF's errors go through :func:`exception_handler`;
Django's own 400/403/404/500 pages through the ``handler*`` views wired in ``config.urls``.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import resolve
from django_ratelimit.exceptions import Ratelimited
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

# Re-exported: code that raises it may import it from here or from config.error_codes.
from config.error_codes import ERROR_CODES
from config.error_codes import ApplicationError as ApplicationError
from config.middleware import current_request_id

logger = logging.getLogger("gatehouse.errors")

PROBLEM_CONTENT_TYPE = "application/problem+json"

# DRF's and simplejwt's codes, renamed to the contract's catalogue (API.md, Errors).
CODE_ALIASES = {
    "invalid": "validation_error",
    "authentication_failed": "token_invalid",
    "token_not_valid": "token_invalid",
    "user_not_found": "token_invalid",
    "bad_authorization_header": "token_invalid",
    "user_inactive": "account_inactive",
    "throttled": "rate_limited",
    "error": "server_error",
}


def problem_body(
    status_code: int,
    code: str,
    detail: str,
    *,
    errors: Any = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status_code).phrase,
        "status": status_code,
        "code": code,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    if status_code >= 500:
        # Lets an operator find the logged traceback; nothing else about the failure leaks.
        body["request_id"] = current_request_id.get()
    body.update(extra or {})
    return body


def problem_response(
    status_code: int,
    code: str,
    detail: str,
    *,
    errors: Any = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    return Response(
        problem_body(status_code, code, detail, errors=errors, extra=extra),
        status=status_code,
        headers=headers,
        content_type=PROBLEM_CONTENT_TYPE,
    )


def _first_message(errors: Any) -> str | None:
    if isinstance(errors, dict):
        for value in errors.values():
            if (message := _first_message(value)) is not None:
                return message
    elif isinstance(errors, list):
        for value in errors:
            if (message := _first_message(value)) is not None:
                return message
    elif errors is not None:
        return str(errors)
    return None


def _validation_problem(exc: exceptions.ValidationError) -> Response:
    errors = (
        exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
    )
    detail = _first_message(errors) or "The request is invalid."
    return problem_response(
        status.HTTP_400_BAD_REQUEST, "validation_error", detail, errors=errors
    )


def _api_exception_problem(exc: exceptions.APIException) -> Response:
    headers: dict[str, str] = {}
    if auth_header := getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = auth_header
    if isinstance(exc, exceptions.Throttled):
        wait: float | None = exc.wait  # type: ignore[attr-defined]  # missing from the stubs
        if wait is not None:
            headers["Retry-After"] = str(int(wait))

    detail: Any = exc.detail
    code = exc.default_code
    if isinstance(detail, dict):
        # simplejwt's InvalidToken carries {"detail", "code", "messages"}; keep the sentence.
        code = str(detail.get("code", code))
        detail = detail.get("detail", exc.default_detail)
    elif isinstance(detail, exceptions.ErrorDetail) and detail.code:
        code = detail.code
    code = CODE_ALIASES.get(code, code)
    return problem_response(exc.status_code, code, str(detail), headers=headers)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's ``EXCEPTION_HANDLER``: every exception raised in an API view becomes a problem."""
    # Imported here: rest_framework.views imports the authentication classes, whose
    # modules import this one.
    from rest_framework.views import set_rollback

    set_rollback()
    if isinstance(exc, ApplicationError):
        return problem_response(
            exc.status, exc.code, exc.detail, extra=exc.extra, headers=exc.headers
        )
    if isinstance(exc, Ratelimited):
        return problem_response(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "rate_limited",
            "Too many requests. Try again later.",
        )
    if isinstance(exc, RequestDataTooBig):
        # Over DATA_UPLOAD_MAX_MEMORY_SIZE, raised when a view first reads the body.
        return problem_response(
            status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            "request_too_large",
            ERROR_CODES["request_too_large"].detail,
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, exceptions.ValidationError):
        return _validation_problem(exc)
    if isinstance(exc, exceptions.APIException):
        return _api_exception_problem(exc)

    request = context.get("request")
    logger.exception(
        "Unhandled exception in %s %s",
        getattr(request, "method", "-"),
        getattr(request, "path", "-"),
    )
    return problem_response(
        status.HTTP_500_INTERNAL_SERVER_ERROR,
        "server_error",
        "The server failed to handle the request.",
    )


# --- Django's own error views (non-API views, unknown routes, middleware failures) -----------


def _json_problem(status_code: int, code: str, detail: str) -> JsonResponse:
    # Rendered as DRF's JSONRenderer renders (compact, UTF-8): a problem raised in an
    # API view is byte for byte the one Django's handlers answer (a switched-off
    # endpoint, flags.gates, is indistinguishable from an unknown route).
    return JsonResponse(
        problem_body(status_code, code, detail),
        status=status_code,
        content_type=PROBLEM_CONTENT_TYPE,
        json_dumps_params={"separators": (",", ":"), "ensure_ascii": False},
    )


def bad_request(
    request: HttpRequest, exception: Exception | None = None
) -> JsonResponse:
    if isinstance(exception, RequestDataTooBig):
        # Django routes SuspiciousOperation raised outside DRF's views here.
        return _json_problem(
            413, "request_too_large", ERROR_CODES["request_too_large"].detail
        )
    return _json_problem(400, "bad_request", "The request could not be understood.")


def permission_denied(
    request: HttpRequest, exception: Exception | None = None
) -> JsonResponse:
    if isinstance(exception, Ratelimited):
        return _json_problem(429, "rate_limited", "Too many requests. Try again later.")
    return _json_problem(
        403, "permission_denied", "You do not have permission to perform this action."
    )


def page_not_found(
    request: HttpRequest, exception: Exception | None = None
) -> JsonResponse:
    return _json_problem(404, "not_found", "Not found.")


def api_path_without_slash(request: HttpRequest) -> HttpResponse:
    """An ``/api/`` path missing its trailing slash: 308 to the slashed route, or 404.

    CommonMiddleware's ``APPEND_SLASH`` answers such a POST with a RuntimeError page under
    DEBUG and an empty 301 (which clients follow with a GET) otherwise. A 308 keeps the
    method and body.
    """
    # Never raises Resolver404: the unknown-route catch-all matches every slashed api/ path.
    if resolve(f"{request.path_info}/").url_name == "api-not-found":
        return page_not_found(request)
    return HttpResponse(
        status=308, headers={"Location": request.get_full_path(force_append_slash=True)}
    )


def server_error(request: HttpRequest) -> JsonResponse:
    return _json_problem(
        500, "server_error", "The server failed to handle the request."
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> JsonResponse:
    return _json_problem(
        403, "csrf_failed", "CSRF verification failed. Reload the page and try again."
    )
