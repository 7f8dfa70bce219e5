"""Security events in the admin: their own list, and the timeline on a user's page."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.admin.base import ReadOnlyAdminMixin
from accounts.models import STAFF_ACTION, AuditEvent


class AuditEventInline(admin.TabularInline):
    model = AuditEvent
    fk_name = "target"
    extra = 0
    can_delete = False
    max_num = 0
    verbose_name_plural = "security events"
    fields = ("created_at", "kind", "actor", "ip")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditEvent]:
        return (
            super()
            .get_queryset(request)
            .select_related("actor")
            .order_by("-created_at")
        )


class StaffActionFilter(admin.SimpleListFilter):
    """Events of a staff member acting on another account (``STAFF_ACTION``): the
    dashboard's "staff actions" link here (``?by=staff``)."""

    title = "by"
    parameter_name = "by"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("staff", "Staff, on another account")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[AuditEvent]
    ) -> QuerySet[AuditEvent]:
        if self.value() == "staff":
            return queryset.filter(STAFF_ACTION)
        return queryset


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "kind", "actor", "target", "ip", "user_agent")
    list_filter = ("kind", StaffActionFilter, "created_at")
    search_fields = ("target__username", "target__email", "actor__username", "ip")
    date_hierarchy = "created_at"
    list_select_related = ("actor", "target")
    show_full_result_count = False
