"""The catalogue of error codes: every ``code`` a problem body can carry, with its status,
and :class:`ApplicationError`, the exception that carries one.

Services raise ``ApplicationError("not_found", "No such user.")`` and never choose an HTTP
status: the exception handler looks the code up here. Adding a code is one line. The
schema's examples are built from the same table (``config.openapi.problem_example``), so a
documented status cannot disagree with the one served.

This module imports nothing from HTTP or DRF: domain code raises its errors without
depending on the web layer (``config.errors`` renders them).
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import Any


@dataclass(frozen=True)
class ErrorCode:
    status: int
    detail: str  # the usual sentence, for examples and when a raise gives none

    @property
    def title(self) -> str:
        return HTTPStatus(self.status).phrase


ERROR_CODES: dict[str, ErrorCode] = {
    # 400
    "validation_error": ErrorCode(400, "The request is invalid."),
    "bad_request": ErrorCode(400, "The request could not be understood."),
    "parse_error": ErrorCode(400, "The request body is not valid JSON."),
    "invalid_key": ErrorCode(
        400, "This verification link is invalid, expired or already used."
    ),
    "invalid_token": ErrorCode(
        400, "This password reset link is invalid, expired or already used."
    ),
    "invalid_code": ErrorCode(400, "This code is unknown, used or expired."),
    "invalid_redirect": ErrorCode(400, "This redirect is not allowed."),
    "mfa_invalid": ErrorCode(400, "This code is wrong or expired."),
    "mfa_not_set_up": ErrorCode(400, "Turn on a two-factor method first."),
    "invalid_image": ErrorCode(
        400, "The image is corrupt, truncated or has too many pixels."
    ),
    # 401
    "not_authenticated": ErrorCode(
        401, "Authentication credentials were not provided."
    ),
    "invalid_credentials": ErrorCode(401, "The login or password is incorrect."),
    "token_invalid": ErrorCode(401, "The token is invalid, expired or revoked."),
    # 403
    "permission_denied": ErrorCode(
        403, "You do not have permission to perform this action."
    ),
    "insufficient_scope": ErrorCode(403, "This API key lacks the scope this needs."),
    "csrf_failed": ErrorCode(
        403, "CSRF verification failed. Reload the page and try again."
    ),
    "account_banned": ErrorCode(403, "This account is banned."),
    "account_inactive": ErrorCode(403, "This account is deactivated."),
    "email_not_verified": ErrorCode(
        403, "Verify your email address first: follow the link we sent you."
    ),
    "registration_closed": ErrorCode(403, "Registration is closed."),
    "mfa_required": ErrorCode(
        403, "This account has two-factor authentication: sign in with auth/login/."
    ),
    "mfa_setup_required": ErrorCode(
        403,
        "Staff features need a sign-in with a second factor: set one up, or sign in "
        "again with it.",
    ),
    "mfa_method_disabled": ErrorCode(403, "This two-factor method is turned off."),
    # 404, 405, 406
    "not_found": ErrorCode(404, "Not found."),
    "method_not_allowed": ErrorCode(405, "This method is not allowed here."),
    "not_acceptable": ErrorCode(406, "No acceptable representation of the answer."),
    # 409
    "conflict": ErrorCode(409, "This conflicts with the current state."),
    # 413, 415
    "file_too_large": ErrorCode(413, "The file is too large."),
    "request_too_large": ErrorCode(413, "The request body is too large."),
    "quota_exceeded": ErrorCode(413, "This would exceed your storage quota."),
    "unsupported_file_type": ErrorCode(415, "This type of file is not accepted."),
    "unsupported_media_type": ErrorCode(415, "This request body type is not accepted."),
    # 429
    "rate_limited": ErrorCode(429, "Too many requests. Try again later."),
    # 5xx
    "server_error": ErrorCode(500, "The server failed to handle the request."),
    "service_unavailable": ErrorCode(503, "The service is unavailable."),
}


def status_of(code: str) -> int:
    """The HTTP status of ``code``; an unknown code is a programming error."""
    return ERROR_CODES[code].status


class ApplicationError(Exception):
    """A domain failure with a stable code, raised by services and rendered by the handler.

    The HTTP status comes from the code (``config.error_codes``): services say what went
    wrong, never how HTTP should answer. ``detail`` defaults to the code's usual sentence;
    ``extra`` members are added to the problem body (e.g. ``{"banned_until": None}``).
    """

    def __init__(
        self,
        code: str,
        detail: str | None = None,
        *,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        entry = ERROR_CODES[code]  # an unknown code fails where it is raised
        super().__init__(detail or entry.detail)
        self.code = code
        self.detail = detail or entry.detail
        self.status = entry.status
        self.extra = extra or {}
        self.headers = headers or {}
