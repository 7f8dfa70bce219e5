"""Bans in the admin: every account's ban history in one list. Staff place and lift bans
with the user list's actions, which go through the moderation services."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from accounts.admin.base import ReadOnlyAdminMixin
from accounts.constants import AUTO_BAN_REASON
from accounts.models import Ban

# Placed by the rate limiter (``limits.services``): by no person, with its reason.
AUTOMATIC = Q(created_by__isnull=True, reason=AUTO_BAN_REASON)


class AutomaticFilter(admin.SimpleListFilter):
    """Bans the rate limiter placed on accounts that kept hitting their limits; staff
    lift them as any other (the user list's "Lift the ban")."""

    title = "placed"
    parameter_name = "automatic"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("yes", "Automatic (rate limit abuse)"), ("no", "By staff")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Ban]) -> QuerySet[Ban]:
        if self.value() == "yes":
            return queryset.filter(AUTOMATIC)
        if self.value() == "no":
            return queryset.exclude(AUTOMATIC)
        return queryset


@admin.register(Ban)
class BanAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "ban",
        "reason",
        "created_at",
        "created_by",
        "lifted_at",
        "replaced_by",
    )
    list_filter = (
        AutomaticFilter,
        "created_at",
        ("lifted_at", admin.EmptyFieldListFilter),
    )
    search_fields = ("user__username", "user__email", "reason")
    list_select_related = ("user", "created_by", "replaced_by__user")
    fields = (
        "user",
        "reason",
        "created_at",
        "until",
        "created_by",
        "lifted_at",
        "lifted_by",
        "replaced_by",
    )
    show_full_result_count = False

    @admin.display(description="ban", ordering="until")
    def ban(self, ban: Ban) -> str:
        return str(ban)
