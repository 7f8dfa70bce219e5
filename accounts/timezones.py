"""Times as staff read them: in their own time zone (the profile's ``timezone``).

The admin shows every date in the zone of the staff member using it
(:class:`StaffTimezoneMiddleware`); the API always answers in ISO 8601 UTC and is left
alone. :func:`moment` writes a time as readable text in the zone in force, for the titles
of rows (``Ban.__str__``) and the admin's messages.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

UTC = ZoneInfo("UTC")


def moment(value: datetime, *, seconds: bool = False) -> str:
    """``2026-12-09 15:00 CET``: ``value`` in the time zone in force, with its name."""
    shape = "%Y-%m-%d %H:%M:%S %Z" if seconds else "%Y-%m-%d %H:%M %Z"
    return timezone.localtime(value).strftime(shape)


def zone_of(user: Any) -> ZoneInfo:
    """The time zone of ``user``'s profile; UTC when it has none or an unknown one."""
    try:
        return ZoneInfo(getattr(user, "timezone", "") or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


class StaffTimezoneMiddleware:
    """Admin pages in the signed-in staff member's time zone; every other request (the
    API, health probes) in UTC. It runs after the view is resolved (``process_view``),
    so only the admin's URLs are touched, and puts the default back once the response
    (and its template) is rendered."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

    def process_view(
        self,
        request: HttpRequest,
        view: Callable[..., HttpResponse],
        args: Any,
        kwargs: Any,
    ) -> None:
        match = request.resolver_match
        if match is None or "admin" not in match.namespaces:
            return
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_staff:
            timezone.activate(zone_of(user))
