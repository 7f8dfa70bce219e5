"""Who a request is counted as: a subject (what its counters are keyed by) and a tier
(which limits apply, ``limits.policy``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from rest_framework.request import Request

from accounts.roles import ROLE_ORDER, is_staff_member, rank_of
from config.ratelimits import limited_ip
from config.requests import django_request


@dataclass(frozen=True)
class Caller:
    """``subject``: ``u:<user id>``, ``k:<key prefix>`` or ``ip:<address>`` (an IPv6
    client by its /64). ``user_id``: the account an automatic ban would bar (a key's
    owner; none for a global key or an anonymous caller). ``is_staff``: never banned
    automatically."""

    subject: str
    tier: str
    user_id: str | None = None
    is_staff: bool = False
    quota_per_hour: int | None = None
    quota_per_day: int | None = None
    ip: str | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.subject.startswith("ip:")


def caller_of(request: HttpRequest | Request) -> Caller:
    """The caller of an authenticated (or anonymous) request: DRF has set ``user`` and
    ``auth`` on the Django request too, so this answers after the response as well."""
    plain = django_request(request)
    user: Any = getattr(plain, "user", None)
    auth: Any = getattr(plain, "auth", None)
    prefix = getattr(auth, "prefix", None)  # apikeys.authentication.ApiKeyClaims
    if prefix is not None:
        per_hour = getattr(auth, "quota_per_hour", None)
        per_day = getattr(auth, "quota_per_day", None)
        if getattr(auth, "is_global", False):
            return Caller(
                subject=f"k:{prefix}",
                tier="service",
                quota_per_hour=per_hour,
                quota_per_day=per_day,
            )
        return Caller(
            subject=f"k:{prefix}",
            tier=ROLE_ORDER[rank_of(user)].value,
            user_id=str(user.pk),
            is_staff=is_staff_member(user),
            quota_per_hour=per_hour,
            quota_per_day=per_day,
        )
    if user is not None and user.is_authenticated and user.pk is not None:
        return Caller(
            subject=f"u:{user.pk}",
            tier=ROLE_ORDER[rank_of(user)].value,
            user_id=str(user.pk),
            is_staff=is_staff_member(user),
        )
    address = limited_ip(plain)
    return Caller(subject=f"ip:{address}", tier="anonymous", ip=address)
