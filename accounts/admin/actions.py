"""The user list's actions: ban, unban, sign out, reset MFA, resend the verification email,
delete personal data."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone

from accounts.constants import RevokeReason
from accounts.models import User
from accounts.roles import may_manage
from accounts.services.deletion import user_delete
from accounts.services.mfa import mfa_reset_by_staff
from accounts.services.moderation import user_ban, user_unban
from accounts.services.sessions import sessions_revoke_all
from config.client import ClientInfo
from config.errors import ApplicationError


class UserActions(admin.ModelAdmin):
    """Mixed into ``UserAdmin`` before Django's ``UserAdmin``."""

    actions = [
        "ban_for_a_day",
        "ban_for_a_week",
        "ban_permanently",
        "unban",
        "revoke_all_sessions",
        "reset_mfa",
        "resend_verification",
        "erase_personal_data",
    ]

    def has_ban_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("accounts.ban_user")

    def has_erase_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("accounts.delete_user")

    def _split_by_rank(
        self, request: HttpRequest, queryset: QuerySet[User], verb: str
    ) -> list[User]:
        """The selected accounts the staff member may act on; the others are named in an
        error message and left alone."""
        allowed, refused = [], []
        for user in queryset:
            (allowed if may_manage(request.user, user) else refused).append(user)
        if refused:
            names = ", ".join(user.username for user in refused)
            self.message_user(
                request, f"Not allowed to {verb}: {names}.", messages.ERROR
            )
        return allowed

    def _ban(
        self,
        request: HttpRequest,
        queryset: QuerySet[User],
        duration: timedelta | None,
        label: str,
    ) -> TemplateResponse | None:
        reason = request.POST.get("reason", "").strip()
        if not reason:
            return TemplateResponse(
                request,
                "admin/accounts/user/ban_reason.html",
                {
                    **self.admin_site.each_context(request),
                    "title": f"Ban {label}",
                    "users": queryset,
                    "action": request.POST.get("action"),
                    "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                    "opts": self.model._meta,
                },
            )
        actor = User.objects.get(pk=request.user.pk)
        client = ClientInfo.from_request(request)
        until = timezone.now() + duration if duration else None
        banned, refused = [], []
        for user in queryset:
            try:
                user_ban(
                    user_id=user.pk,
                    actor=actor,
                    reason=reason,
                    until=until,
                    client=client,
                )
                banned.append(user.username)
            except ApplicationError:
                refused.append(user.username)
        if banned:
            self.message_user(
                request, f"Banned {label}: {', '.join(banned)}.", messages.SUCCESS
            )
        if refused:
            self.message_user(
                request, f"Not allowed to ban: {', '.join(refused)}.", messages.ERROR
            )
        return None

    @admin.action(description="Ban for 1 day", permissions=["ban"])
    def ban_for_a_day(
        self, request: HttpRequest, queryset: QuerySet[User]
    ) -> TemplateResponse | None:
        return self._ban(request, queryset, timedelta(days=1), "for 1 day")

    @admin.action(description="Ban for 7 days", permissions=["ban"])
    def ban_for_a_week(
        self, request: HttpRequest, queryset: QuerySet[User]
    ) -> TemplateResponse | None:
        return self._ban(request, queryset, timedelta(days=7), "for 7 days")

    @admin.action(description="Ban permanently", permissions=["ban"])
    def ban_permanently(
        self, request: HttpRequest, queryset: QuerySet[User]
    ) -> TemplateResponse | None:
        return self._ban(request, queryset, None, "permanently")

    @admin.action(description="Lift the ban", permissions=["ban"])
    def unban(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        actor = User.objects.get(pk=request.user.pk)
        client = ClientInfo.from_request(request)
        for user in queryset:
            try:
                user_unban(user_id=user.pk, actor=actor, client=client)
            except ApplicationError as error:
                self.message_user(
                    request, f"{user.username}: {error.detail}", messages.WARNING
                )

    @admin.action(
        description="Sign out everywhere (revoke all sessions)", permissions=["change"]
    )
    def revoke_all_sessions(
        self, request: HttpRequest, queryset: QuerySet[User]
    ) -> None:
        client = ClientInfo.from_request(request)
        actor = User.objects.get(pk=request.user.pk)
        for user in self._split_by_rank(request, queryset, "sign out"):
            sessions_revoke_all(
                user=user, reason=RevokeReason.REVOKED, client=client, actor=actor
            )
        self.message_user(request, "Their sessions were revoked.", messages.SUCCESS)

    @admin.action(description="Resend the verification email", permissions=["change"])
    def resend_verification(
        self, request: HttpRequest, queryset: QuerySet[User]
    ) -> None:
        sent = 0
        for user in queryset:
            address = user.emailaddress_set.filter(
                verified=False, email__iexact=user.email
            ).first()
            if address is not None:
                # allauth's middleware has put the request in allauth's context.
                address.send_confirmation(request, signup=False)
                sent += 1
        self.message_user(
            request, f"Sent {sent} verification email(s).", messages.SUCCESS
        )

    @admin.action(
        description="Reset two-factor authentication (for a locked-out user)",
        permissions=["change"],
    )
    def reset_mfa(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        client = ClientInfo.from_request(request)
        users = self._split_by_rank(
            request, queryset, "reset two-factor authentication"
        )
        for user in users:
            mfa_reset_by_staff(user=user, actor=request.user, client=client)
        if users:
            self.message_user(
                request,
                f"Two-factor authentication reset for {len(users)} account(s).",
                messages.SUCCESS,
            )

    @admin.action(
        description="Delete the selected accounts' personal data (data-subject request)",
        permissions=["erase"],
    )
    def erase_personal_data(
        self, request: HttpRequest, queryset: QuerySet[User]
    ) -> TemplateResponse | None:
        """The same deletion a user makes from ``DELETE me/``, audited with the staff
        member as actor; a confirmation page comes first."""
        if request.POST.get("confirmed") != "yes":
            return TemplateResponse(
                request,
                "admin/accounts/user/erase_personal_data.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Delete personal data",
                    "users": queryset,
                    "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                    "opts": self.model._meta,
                },
            )
        client = ClientInfo.from_request(request)
        erased = 0
        for user in self._split_by_rank(request, queryset, "delete the data of"):
            user_delete(user_id=user.pk, actor=request.user, client=client)
            erased += 1
        self.message_user(
            request,
            f"Deleted the personal data of {erased} account(s).",
            messages.SUCCESS,
        )
        return None
