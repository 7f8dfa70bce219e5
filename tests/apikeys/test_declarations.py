"""What views declare for API keys names real scopes, and the schema's names agree."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, get_resolver

from apikeys.authentication import ApiKeyAuthenticationScheme, required_scopes_of
from apikeys.scopes import Scope
from config.openapi import API_KEY_SCHEMES


def views() -> list[type]:
    found: list[type] = []

    def walk(patterns: list) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern):
                view = getattr(pattern.callback, "view_class", None)
                if view is not None:
                    found.append(view)

    walk(get_resolver().url_patterns)
    return found


def test_every_declared_scope_is_a_scope() -> None:
    declared = [view for view in views() if getattr(view, "required_scopes", None)]
    assert declared, "views state the scopes a key needs"
    for view in declared:
        for method, needed in view.required_scopes.items():
            assert method in {"GET", "POST", "PUT", "PATCH", "DELETE"}, view
            names = (needed,) if isinstance(needed, str) else tuple(needed)
            assert all(name in set(Scope) for name in names), (view, names)


def test_head_and_options_need_what_get_needs() -> None:
    class View:
        required_scopes = {"GET": "users:read", "PATCH": ("users:write", "admin")}

    assert required_scopes_of(View(), "HEAD") == ("users:read",)
    assert required_scopes_of(View(), "OPTIONS") == ("users:read",)
    assert required_scopes_of(View(), "PATCH") == ("users:write", "admin")
    assert required_scopes_of(View(), "DELETE") is None
    assert required_scopes_of(object(), "GET") is None


def test_the_schema_names_the_schemes_the_extension_documents() -> None:
    assert tuple(ApiKeyAuthenticationScheme.name) == API_KEY_SCHEMES


def test_the_schemas_example_key_is_well_formed() -> None:
    from apikeys.api.views import EXAMPLE_KEY
    from apikeys.keys import parse_key

    assert parse_key(EXAMPLE_KEY) is not None
