"""The flag list's filters: kind, state and stale."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import (
    HttpRequest,
)

from flags.history import (
    BY_RULES,
    OFF_FOR_EVERYONE,
    ON_FOR_EVERYONE,
)
from flags.models import Flag
from flags.selectors import stale_flags

# The stale filter's age, as ``manage.py flags stale``'s default.
STALE_DAYS = 90
# The quick toggles: the value posted, the rule it sets, the button's label.
TOGGLES = {
    "on": (True, ON_FOR_EVERYONE),
    "off": (False, OFF_FOR_EVERYONE),
    "rules": (None, BY_RULES),
}


class KindFilter(admin.SimpleListFilter):
    title = "kind"
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list:
        return [("feature", "Feature"), ("endpoint", "Endpoint")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[Flag]
    ) -> QuerySet[Flag]:
        if self.value() in {"feature", "endpoint"}:
            return queryset.filter(is_endpoint=self.value() == "endpoint")
        return queryset


class StateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list:
        return [(value, label) for value, (_, label) in TOGGLES.items()]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[Flag]
    ) -> QuerySet[Flag]:
        if self.value() == "rules":
            return queryset.filter(everyone__isnull=True)
        if self.value() in {"on", "off"}:
            return queryset.filter(everyone=self.value() == "on")
        return queryset


class StaleFilter(admin.SimpleListFilter):
    """``flags.selectors.stale_flags``: what ``manage.py flags stale`` lists."""

    title = "stale"
    parameter_name = "stale"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list:
        return [
            ("yes", f"Unchanged for {STALE_DAYS} days, fully on or off"),
        ]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[Flag]
    ) -> QuerySet[Flag]:
        if self.value() == "yes":
            stale = stale_flags(days=STALE_DAYS).values_list("pk", flat=True)
            return queryset.filter(pk__in=list(stale))
        return queryset
