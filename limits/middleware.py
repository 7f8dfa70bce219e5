"""Plans each API request's counting before its view runs, and reports it afterwards.

- ``process_view``: the route's group (``limits.policy.group_of``) becomes the request's
  :class:`~config.counters.Counting`, also set as ``config.counters.current_counting``
  so the session check (or the API key's check) counts the request in its own cache
  round trip, whichever subject it authenticates.
- On the way out: the ``RateLimit-Limit``/``-Remaining``/``-Reset`` headers of the
  tightest limit the request was counted against (the group's, and the named limits of
  ``config.ratelimits``), and, for a ``429``, one more refusal toward an automatic ban
  (``limits.services.refusal_record``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from config.client import ClientInfo
from config.counters import Counting, current_counting, take_back
from config.ratelimits import Usage
from limits.callers import caller_of
from limits.policy import group_of, periods_of, view_class_of

logger = logging.getLogger("gatehouse.ratelimits")


def tightest(usages: list[Usage]) -> Usage:
    return min(usages, key=lambda usage: (usage.remaining, -usage.reset_seconds))


class RateLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            response = self.get_response(request)
        finally:
            token = request.__dict__.pop("_rate_limit_token", None)
            if token is not None:
                current_counting.reset(token)
            counting: Counting | None = getattr(request, "rate_limit_counting", None)
            if counting is not None:
                # Refused before the limiter checked it (401, 403, switched off): the
                # uses its credential's round trip counted are taken back.
                take_back(counting.unconfirmed())
        usages: list[Usage] = getattr(request, "rate_limits", [])
        if usages and not getattr(request, "rate_limit_headers_withheld", False):
            usage = tightest(usages)
            response["RateLimit-Limit"] = str(usage.limit)
            response["RateLimit-Remaining"] = str(usage.remaining)
            response["RateLimit-Reset"] = str(usage.reset_seconds)
        if response.status_code == 429 and settings.AUTO_BAN_ENABLED:
            self._refused(request)
        return response

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: Any,
        view_kwargs: Any,
    ) -> None:
        if not settings.RATELIMIT_ENABLE:
            return
        match = request.resolver_match
        group = group_of(
            view_class_of(view_func),
            request.method or "GET",
            match.route if match is not None else None,
        )
        if group is None or view_class_of(view_func) is None:
            return
        counting = Counting(scope=group, periods=periods_of(group))
        request.rate_limit_counting = counting  # type: ignore[attr-defined]
        request._rate_limit_token = current_counting.set(counting)  # type: ignore[attr-defined]

    @staticmethod
    def _refused(request: HttpRequest) -> None:
        """A refusal counts toward an automatic ban of its caller (never a 500: the
        answer is already written)."""
        from limits.services import refusal_record

        try:
            refusal_record(caller_of(request), client=ClientInfo.from_request(request))
        except Exception:
            logger.exception("Could not record a rate-limit refusal")
