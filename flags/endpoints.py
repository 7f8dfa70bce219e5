"""Every ``/api/v1/`` route has a flag of its own, on unless staff switch it off.

A route's flag is named after its path as API.md writes it: ``api:auth/login/``,
``api:users/{user_id}/ban/`` (one flag for every method of the route). ``migrate`` makes
the flags of new routes (``flags.apps``); a route whose flag is missing is on, so a
deploy that adds a route serves it before its flag exists.

The staff flag routes themselves (``flags/all/``, ``flags/{name}/``) have no flag:
switching them off would leave the API no way to switch anything back on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from django.urls import URLPattern, URLResolver, get_resolver

API_PREFIX = "api/v1/"
ENDPOINT_FLAG_PREFIX = "api:"
# Routes no flag may switch off (relative to API_PREFIX).
ALWAYS_ON = frozenset({"flags/all/", "flags/{name}/"})

_CONVERTER = re.compile(r"<(?:[^>:]+:)?([^>]+)>")


def route_path(route: str) -> str:
    """``api/v1/users/<uuid:user_id>/ban/`` -> ``users/{user_id}/ban/``."""
    return _CONVERTER.sub(r"{\1}", route.removeprefix(API_PREFIX))


@lru_cache(maxsize=1024)
def flag_name_for_route(route: str) -> str | None:
    """The flag of a resolved route (``request.resolver_match.route``), or ``None`` for
    a route outside the API or one that is always on."""
    if not route.startswith(API_PREFIX):
        return None
    path = route_path(route)
    if path in ALWAYS_ON:
        return None
    return f"{ENDPOINT_FLAG_PREFIX}{path}"


def path_of_endpoint_flag(name: str) -> str:
    """``api:auth/login/`` -> ``/api/v1/auth/login/`` (the route as a caller writes it)."""
    return f"/{API_PREFIX}{name.removeprefix(ENDPOINT_FLAG_PREFIX)}"


def _routes(patterns: list, prefix: str) -> Iterator[str]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route


def endpoint_flag_names() -> list[str]:
    """The flag names of every API route there is now."""
    names = {
        name
        for route in _routes(get_resolver().url_patterns, "")
        if (name := flag_name_for_route(route)) is not None
    }
    return sorted(names)
