"""Which group a route counts in, and what each kind of caller may do in each group.

Settings (``config/settings.py``, README "Rate limits"):

- ``RATE_LIMIT_GROUPS``: ``{group: {tier: "100/m,1000/h,10000/d"}}``. A *tier* is a
  role (``user``, ``tester``, ``moderator``, ``admin``, ``superadmin``: an authenticated
  caller's highest), ``anonymous`` (per client address) or ``service`` (a global API
  key). A tier missing from a group, or given ``""``, is not limited in it (staff, by
  default).
- A route's group is its view's ``rate_limit_group`` (``"default"`` when it names none;
  a mapping from method to group when its methods differ, e.g. an upload); ``None``
  exempts it. ``RATE_LIMIT_ROUTE_GROUPS`` (``{route: group or None}``, routes as
  the schema writes them: ``api/v1/users/{user_id}/``) overrides both, and ``RATE_LIMIT_EXEMPT``
  lists routes exempted by ops.
- An API key is counted on its own (per key, not per owner) at its owner's tier's
  limits, except the hourly and daily ones of the ``default`` group when the key
  carries its own quota (``ApiKey.quota_per_hour``/``quota_per_day``).

Every group counts the periods any of its tiers limits, plus an hour and a day (what a
key's quota and ``GET me/quota/`` report), whoever the caller turns out to be: the
counting happens in the session check's round trip, before the caller's tier is known.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

from config.sliding_window import parse_rate

DEFAULT_GROUP = "default"
HOUR, DAY = 3600, 86400
QUOTA_PERIODS = (HOUR, DAY)
TIERS = ("anonymous", "user", "tester", "moderator", "admin", "superadmin", "service")


@dataclass(frozen=True)
class Limit:
    """``limit`` uses per ``period`` seconds."""

    limit: int
    period: int

    @property
    def window(self) -> str:
        """``"1m"``, ``"1h"``, ``"1d"``, ``"15m"``, ``"30s"``: how the rates write it."""
        for unit, seconds in (("d", DAY), ("h", HOUR), ("m", 60)):
            if self.period % seconds == 0:
                return f"{self.period // seconds}{unit}"
        return f"{self.period}s"


def parse_limits(rates: str) -> tuple[Limit, ...]:
    """``"100/m,1000/h"`` → its limits, shortest window first; ``""`` → none."""
    limits = []
    for rate in filter(None, (part.strip() for part in rates.split(","))):
        limit, period = parse_rate(rate)
        limits.append(Limit(limit, period))
    return tuple(sorted(limits, key=lambda each: each.period))


@cache
def group_limits() -> dict[str, dict[str, tuple[Limit, ...]]]:
    """``RATE_LIMIT_GROUPS`` parsed: ``{group: {tier: limits}}``."""
    groups: Mapping[str, Mapping[str, str]] = settings.RATE_LIMIT_GROUPS
    parsed: dict[str, dict[str, tuple[Limit, ...]]] = {}
    for group, tiers in groups.items():
        parsed[group] = {}
        for tier, rates in tiers.items():
            if tier not in TIERS:
                raise ImproperlyConfigured(
                    f"RATE_LIMIT_GROUPS[{group!r}]: unknown tier {tier!r} "
                    f"(use {', '.join(TIERS)})."
                )
            parsed[group][tier] = parse_limits(rates or "")
    if DEFAULT_GROUP not in parsed:
        raise ImproperlyConfigured('RATE_LIMIT_GROUPS needs a "default" group.')
    return parsed


SETTINGS = frozenset(
    {"RATE_LIMIT_GROUPS", "RATE_LIMIT_ROUTE_GROUPS", "RATE_LIMIT_EXEMPT"}
)


def forget_settings() -> None:
    """Drop what was parsed from the settings: the next request reads them again."""
    group_limits.cache_clear()
    periods_of.cache_clear()
    _route_groups.cache_clear()


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    """``override_settings`` (and pytest-django's ``settings``) change the limits of a
    test, and put them back after it, as Django's own cached settings follow."""
    if setting in SETTINGS:
        forget_settings()


def check_settings() -> None:
    """Fail at start-up on a rate or a group that does not parse."""
    forget_settings()
    groups = group_limits()
    for route, group in _route_groups().items():
        if group is not None and group not in groups:
            raise ImproperlyConfigured(
                f"RATE_LIMIT_ROUTE_GROUPS[{route!r}]: no group {group!r} in "
                "RATE_LIMIT_GROUPS."
            )


@cache
def periods_of(group: str) -> tuple[int, ...]:
    """The periods counted in ``group``: every tier's, an hour and a day."""
    periods = set(QUOTA_PERIODS)
    for limits in group_limits().get(group, {}).values():
        periods.update(limit.period for limit in limits)
    return tuple(sorted(periods))


def limits_for(
    group: str,
    tier: str,
    *,
    quota_per_hour: int | None = None,
    quota_per_day: int | None = None,
) -> tuple[Limit, ...]:
    """The limits a caller of ``tier`` has in ``group``; a key's own quota replaces the
    hourly and daily limits of the default group."""
    limits = group_limits().get(group, {}).get(tier, ())
    if group != DEFAULT_GROUP:
        return limits
    own = {HOUR: quota_per_hour, DAY: quota_per_day}
    if all(value is None for value in own.values()):
        return limits
    kept = [limit for limit in limits if own.get(limit.period) is None]
    added = [Limit(value, period) for period, value in own.items() if value is not None]
    return tuple(sorted([*kept, *added], key=lambda each: each.period))


def route_key(route: str) -> str:
    """A route as the settings and the schema write it: ``api/v1/users/{user_id}/``
    (Django writes ``api/v1/users/<uuid:user_id>/``); either form is accepted."""
    return CONVERTER.sub(r"{\1}", route.removeprefix("/"))


CONVERTER = re.compile(r"<(?:[^>:]+:)?([^>]+)>")


@cache
def _route_groups() -> dict[str, str | None]:
    routes = {
        route_key(route): group
        for route, group in settings.RATE_LIMIT_ROUTE_GROUPS.items()
    }
    for route in settings.RATE_LIMIT_EXEMPT:
        routes[route_key(route)] = None
    return routes


def group_of(view_class: type | None, method: str, route: str | None) -> str | None:
    """The group a request to ``route`` with ``method`` counts in; ``None``: exempt."""
    routes = _route_groups()
    if route is not None and routes and route_key(route) in routes:
        return routes[route_key(route)]
    if view_class is None:
        return None
    declared: str | Mapping[str, str | None] | None = getattr(
        view_class, "rate_limit_group", DEFAULT_GROUP
    )
    if isinstance(declared, Mapping):
        declared = declared.get(method, declared.get("*", DEFAULT_GROUP))
    if declared is not None and declared not in group_limits():
        return DEFAULT_GROUP  # a group ops removed from RATE_LIMIT_GROUPS
    return declared


def view_class_of(view_func: Callable[..., Any]) -> type | None:
    """The DRF view class behind a resolved view function (``None`` for a plain Django
    view: the admin, the benchmark's reference, which no group counts)."""
    return getattr(view_func, "cls", None)
