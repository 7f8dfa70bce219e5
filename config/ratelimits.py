"""Named rate limits over django-ratelimit, answering the contract's 429.

Limits are declared once, in ``settings.RATE_LIMITS``; views and services ask for them by
name. A refused request raises an :class:`~config.errors.ApplicationError` rendered as
``429 rate_limited`` with ``Retry-After``; every checked limit also reports itself in the
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


class RateLimitHeadersMixin:
    """Adds the IETF draft ``RateLimit-*`` headers for the tightest limit checked."""

    rate_limited = True  # the OpenAPI schema then documents the 429 answer

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        usages: list[Usage] = getattr(django_request(request), "rate_limits", [])
        if usages:
            tightest = min(
                usages, key=lambda usage: (usage.remaining, -usage.reset_seconds)
            )
            response["RateLimit-Limit"] = str(tightest.limit)
            response["RateLimit-Remaining"] = str(tightest.remaining)
            response["RateLimit-Reset"] = str(tightest.reset_seconds)
        return response
