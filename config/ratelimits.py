"""Named rate limits over django-ratelimit, answering the contract's 429.

Limits are declared once, in ``settings.RATE_LIMITS``; views (and the admin) ask for them by
name. They count per request (the client's address, the headers the answer reports), so
they stay in the HTTP layer: services never see them. A refused request raises an
:class:`~config.errors.ApplicationError` rendered as ``429 rate_limited`` with
``Retry-After``; every checked limit also reports itself in the
``RateLimit-Limit``/``-Remaining``/``-Reset`` headers (see :class:`RateLimitHeadersMixin`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage
from rest_framework.request import Request
from rest_framework.response import Response

from config.api import ViewMixin
from config.errors import ApplicationError
from config.requests import django_request


@dataclass(frozen=True)
class Usage:
    name: str
    limit: int
    count: int
    reset_seconds: int

    @property
    def remaining(self) -> int:
        return max(self.limit - self.count, 0)

    @property
    def is_exceeded(self) -> bool:
        return self.count > self.limit

    @property
    def is_reached(self) -> bool:
        return self.count >= self.limit


def rate_limit_usage(
    request: HttpRequest | Request, name: str, *, key: str, increment: bool
) -> Usage | None:
    """Count (``increment``) or only read one use of limit ``name`` for ``key``.

    ``key`` is ``"ip"`` (the client's address) or any string that identifies what is
    limited (an account id, a normalised email). ``None`` when rate limits are disabled.
    """
    plain_request = django_request(request)
    value = key if key == "ip" else (lambda group, request: key)
    usage: dict[str, Any] | None = get_usage(
        plain_request,
        group=f"gatehouse:{name}",
        key=value,
        rate=settings.RATE_LIMITS[name],
        increment=increment,
    )
    if usage is None:
        return None
    result = Usage(
        name=name,
        limit=usage["limit"],
        count=usage["count"],
        reset_seconds=max(int(usage["time_left"]), 1),
    )
    reported = getattr(plain_request, "rate_limits", [])
    # An attribute of ours on Django's request (RateLimitHeadersMixin reports it).
    plain_request.rate_limits = [*reported, result]  # type: ignore[attr-defined]
    return result


def raise_rate_limited(usage: Usage) -> None:
    raise ApplicationError(
        "rate_limited",
        f"Too many requests. Try again in {usage.reset_seconds} seconds.",
        headers={"Retry-After": str(usage.reset_seconds)},
        extra={"retry_after": usage.reset_seconds},
    )


def enforce_rate_limit(request: HttpRequest | Request, name: str, *, key: str) -> None:
    """Count one use of ``name`` for ``key``; 429 once the limit is exceeded."""
    usage = rate_limit_usage(request, name, key=key, increment=True)
    if usage is not None and usage.is_exceeded:
        raise_rate_limited(usage)


def check_not_locked(request: HttpRequest | Request, key: str) -> None:
    """Login lockout, read before a password is checked: ``429`` while the account's
    failures (``key``, see ``accounts.services.login.lockout_key``) or the client's are at
    their limit, whatever the password. Counts nothing."""
    for name, limit_key in (
        ("login_failures_per_account", key),
        ("login_failures_per_ip", "ip"),
    ):
        usage = rate_limit_usage(request, name, key=limit_key, increment=False)
        if usage is not None and usage.is_reached:
            raise_rate_limited(usage)


def count_login_failure(request: HttpRequest | Request, key: str) -> int | None:
    """Count a failed login against the account (``key``) and the client. Returns the
    account's limit when this failure is the one that reaches it (it locks the account,
    which ``accounts.services.login.login_failure_record`` audits and tells), else
    ``None``."""
    account = rate_limit_usage(
        request, "login_failures_per_account", key=key, increment=True
    )
    rate_limit_usage(request, "login_failures_per_ip", key="ip", increment=True)
    if account is not None and account.count == account.limit:
        return account.limit
    return None


class RateLimitHeadersMixin(ViewMixin):
    """Adds the IETF draft ``RateLimit-*`` headers for the tightest limit checked."""

    rate_limited = True  # the OpenAPI schema then documents the 429 answer

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        usages: list[Usage] = getattr(django_request(request), "rate_limits", [])
        if usages:
            tightest = min(
                usages, key=lambda usage: (usage.remaining, -usage.reset_seconds)
            )
            response["RateLimit-Limit"] = str(tightest.limit)
            response["RateLimit-Remaining"] = str(tightest.remaining)
            response["RateLimit-Reset"] = str(tightest.reset_seconds)
        return response
