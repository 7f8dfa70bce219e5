"""Sessions in the admin: their own list (where staff revoke them), and a user's sessions
on their page."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.access import Action, may_take
from accounts.admin.base import ReadOnlyAdminMixin, acting_user
from accounts.constants import RevokeReason
from accounts.models import AuthSession
from accounts.services.moderation import session_revoke_by_staff
from accounts.services.sessions import session_revoke
from config.client import ClientInfo
from config.errors import ApplicationError


class SessionInline(admin.TabularInline):
    model = AuthSession
    extra = 0
    can_delete = False
    fields = (
        "created_at",
        "last_used_at",
        "ip",
        "user_agent",
        "amr",
        "auth_time",
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

    def has_revoke_sessions_permission(self, request: HttpRequest) -> bool:
        return may_take(acting_user(request), Action.REVOKE_SESSIONS)

    @admin.action(
        description="Revoke the selected sessions (their tokens stop at once)",
        permissions=["revoke_sessions"],
    )
    def revoke_sessions(
        self, request: HttpRequest, queryset: QuerySet[AuthSession]
    ) -> None:
        """Other accounts' sessions by ``accounts.access`` (``revoke_sessions``); the staff
        member's own, as anyone ends their own (``sessions/``)."""
        actor = acting_user(request)
        client = ClientInfo.from_request(request)
        revoked = skipped = unavailable = 0
        for session in queryset.filter(revoked_at__isnull=True).select_related("user"):
            try:
                if session.user_id == actor.pk:
                    session_revoke(
                        user=actor,
                        session_id=session.pk,
                        reason=RevokeReason.REVOKED,
                        client=client,
                    )
                else:
                    session_revoke_by_staff(
                        actor=actor, session_id=session.pk, client=client
                    )
            except ApplicationError as error:
                if error.code == "service_unavailable":
                    unavailable += 1
                else:
                    skipped += 1
            else:
                revoked += 1
        self.message_user(request, f"Revoked {revoked} session(s).", messages.SUCCESS)
        if unavailable:
            self.message_user(
                request,
                f"Could not revoke {unavailable} session(s): the session cache refused "
                "the change. Nothing happened to them; try again.",
                messages.ERROR,
            )
        if skipped:
            self.message_user(
                request,
                f"Skipped {skipped} session(s) of accounts you may not sign out.",
                messages.ERROR,
            )
