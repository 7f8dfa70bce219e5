"""Who is on the other end: what services record about a caller, built by the HTTP layer.

Services never see a request. Views (and the admin) build a :class:`ClientInfo` from theirs
with :meth:`ClientInfo.from_request`; ``manage.py`` commands and background jobs pass
:data:`SYSTEM`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from config.client_ip import client_ip

if TYPE_CHECKING:  # domain code imports this module: it must not pull in HTTP or DRF
    from django.http import HttpRequest
    from rest_framework.request import Request

USER_AGENT_MAX_LENGTH = 512


@dataclass(frozen=True)
class ClientInfo:
    """The client's address, user agent and the request's id, as recorded on sessions and
    audit events. ``ip`` is ``None`` when there is no network client (a command, a job)."""

    ip: str | None
    user_agent: str
    request_id: str = ""

    @classmethod
    def from_request(cls, request: HttpRequest | Request) -> ClientInfo:
        http_request: HttpRequest = getattr(request, "_request", request)  # DRF's wraps
        return cls(
            ip=client_ip(http_request),
            user_agent=http_request.META.get("HTTP_USER_AGENT", "")[
                :USER_AGENT_MAX_LENGTH
            ],
            request_id=getattr(http_request, "request_id", ""),
        )


SYSTEM = ClientInfo(ip=None, user_agent="", request_id="")
