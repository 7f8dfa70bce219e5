"""Bans in the admin: every account's ban history in one list. Staff place and lift bans
with the user list's actions, which go through the moderation services."""

from __future__ import annotations

from django.contrib import admin

from accounts.admin.base import ReadOnlyAdminMixin
from accounts.models import Ban


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
    list_filter = ("created_at", ("lifted_at", admin.EmptyFieldListFilter))
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
