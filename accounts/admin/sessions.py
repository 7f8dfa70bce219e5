"""Sessions in the admin: their own list (where staff revoke them), and a user's sessions
on their page."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.admin.base import ReadOnlyAdminMixin
from accounts.constants import RevokeReason
from accounts.models import AuthSession
from accounts.roles import may_manage
from accounts.services.sessions import session_revoke
from config.client import ClientInfo


class SessionInline(admin.TabularInline):
    model = AuthSession
    extra = 0
    can_delete = False
    fields = (
        "created_at",
        "last_used_at",
        "ip",
        "user_agent",
        "revoked_at",
        "revoke_reason",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuthSession]:
        return super().get_queryset(request).order_by("-created_at")


@admin.register(AuthSession)
class AuthSessionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "user",
        "created_at",
        "last_used_at",
        "expires_at",
        "ip",
        "revoked_at",
    )
    list_filter = (("revoked_at", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("user__username", "user__email", "ip")
    list_select_related = ("user",)
    actions = ["revoke_sessions"]
    show_full_result_count = False

    @admin.action(
        description="Revoke the selected sessions (their tokens stop at once)"
    )
    def revoke_sessions(
        self, request: HttpRequest, queryset: QuerySet[AuthSession]
    ) -> None:
        client = ClientInfo.from_request(request)
        revoked = 0
        for session in queryset.filter(revoked_at__isnull=True).select_related("user"):
            if session.user_id != request.user.pk and not may_manage(
                request.user, session.user
            ):
                continue  # someone they do not outrank: counted out below
            session_revoke(
                user=session.user,
                session_id=session.pk,
                reason=RevokeReason.REVOKED,
                client=client,
                actor=request.user,
            )
            revoked += 1
        self.message_user(
            request,
            f"Revoked {revoked} session(s); accounts you do not outrank were skipped.",
            messages.SUCCESS,
        )
