"""The user list's actions: ban, unban, sign out, reset MFA, resend the verification email,
delete personal data.

Each action is offered to the roles ``accounts.access`` lets take it
(``has_<action>_permission``), acts only on the selected accounts the staff member may act
on (the others are named in an error message and left alone), and calls the service,
which asserts the same rule on the row it locks.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone

from accounts.access import Action, may, may_take
from accounts.admin.base import acting_user
from accounts.models import User
from accounts.services.deletion import user_delete
from accounts.services.mfa import mfa_reset_by_staff
from accounts.services.moderation import (
    BanPlacement,
    ends_later,
    sessions_revoke_by_staff,
    user_ban,
    user_unban,
)
from accounts.timezones import moment
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

    # Which actions a staff member is offered: those their role takes at all.
    def has_ban_permission(self, request: HttpRequest) -> bool:
        return may_take(acting_user(request), Action.BAN)

    def has_unban_permission(self, request: HttpRequest) -> bool:
        return may_take(acting_user(request), Action.UNBAN)

    def has_revoke_sessions_permission(self, request: HttpRequest) -> bool:
        return may_take(acting_user(request), Action.REVOKE_SESSIONS)

    def has_reset_mfa_permission(self, request: HttpRequest) -> bool:
        return may_take(acting_user(request), Action.RESET_MFA)

    def has_erase_permission(self, request: HttpRequest) -> bool:
        return may_take(acting_user(request), Action.ERASE)

    def _act_on_each(
        self,
        request: HttpRequest,
        queryset: QuerySet[User],
        action: Action,
        verb: str,
        act: Callable[[User, User], object],
    ) -> list[User]:
        """``act(actor, user)`` on every selected account ``action`` allows; the refused
        are named in one message, a service's own refusal in one message each. Returns
        the accounts acted on."""
        actor = acting_user(request)
        done, refused = [], []
        for user in queryset:
            if not may(actor, action, user):
                refused.append(user.username)
                continue
            try:
                act(actor, user)
            except ApplicationError as error:
                self.message_user(
                    request, f"{user.username}: {error.detail}", messages.WARNING
                )
            else:
                done.append(user)
        if refused:
            self.message_user(
                request, f"Not allowed to {verb}: {', '.join(refused)}.", messages.ERROR
            )
        return done

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
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                    "opts": self.model._meta,
                },
            )
        client = ClientInfo.from_request(request)
        until = timezone.now() + duration if duration else None
        replace = request.POST.get("replace") == "yes"
        placements: dict[str, BanPlacement] = {}

        def ban(actor: User, user: User) -> None:
            placements[user.username] = user_ban(
                user_id=user.pk,
                actor=actor,
                reason=reason,
                until=until,
                client=client,
                replace=replace,
            )

        self._act_on_each(request, queryset, Action.BAN, "ban", ban)
        banned = [name for name, done in placements.items() if done.placed]
        if banned:
            self.message_user(
                request, f"Banned {label}: {', '.join(banned)}.", messages.SUCCESS
            )
        for name, placement in placements.items():
            message = ban_placement_notice(name, placement, until)
            if message:
                self.message_user(
                    request,
                    message,
                    messages.INFO if placement.placed else messages.WARNING,
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

    @admin.action(description="Lift the ban", permissions=["unban"])
    def unban(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        client = ClientInfo.from_request(request)
        lifted = self._act_on_each(
            request,
            queryset,
            Action.UNBAN,
            "unban",
            lambda actor, user: user_unban(user_id=user.pk, actor=actor, client=client),
        )
        if lifted:
            names = ", ".join(user.username for user in lifted)
            self.message_user(request, f"Ban lifted: {names}.", messages.SUCCESS)

    @admin.action(
        description="Sign out everywhere (revoke all sessions)",
        permissions=["revoke_sessions"],
    )
    def revoke_all_sessions(
        self, request: HttpRequest, queryset: QuerySet[User]
    ) -> None:
        client = ClientInfo.from_request(request)
        if self._act_on_each(
            request,
            queryset,
            Action.REVOKE_SESSIONS,
            "sign out",
            lambda actor, user: sessions_revoke_by_staff(
                actor=actor, user_id=user.pk, client=client
            ),
        ):
            self.message_user(request, "Their sessions were revoked.", messages.SUCCESS)

    @admin.action(description="Resend the verification email", permissions=["change"])
    def resend_verification(
        self, request: HttpRequest, queryset: QuerySet[User]
    ) -> None:
        sent = 0
        for user in queryset:
            address = EmailAddress.objects.filter(
                user=user, verified=False, email=user.email
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
        permissions=["reset_mfa"],
    )
    def reset_mfa(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        client = ClientInfo.from_request(request)
        reset = self._act_on_each(
            request,
            queryset,
            Action.RESET_MFA,
            "reset two-factor authentication",
            lambda actor, user: mfa_reset_by_staff(
                actor=actor, user_id=user.pk, client=client
            ),
        )
        if reset:
            self.message_user(
                request,
                f"Two-factor authentication reset for {len(reset)} account(s).",
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
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                    "opts": self.model._meta,
                },
            )
        client = ClientInfo.from_request(request)
        erased = self._act_on_each(
            request,
            queryset,
            Action.ERASE,
            "delete the data of",
            lambda actor, user: user_delete(
                user_id=user.pk, actor=actor, client=client
            ),
        )
        self.message_user(
            request,
            f"Deleted the personal data of {len(erased)} account(s).",
            messages.SUCCESS,
        )
        return None


def ends(until: datetime | None) -> str:
    """``until 2026-12-09 15:00 CET`` in the staff member's time zone, or ``for good``."""
    return f"until {moment(until)}" if until else "for good"


def ban_placement_notice(
    username: str, placement: BanPlacement, until: datetime | None
) -> str:
    """What staff are told about a ban in force before theirs (``until`` is the end they
    asked for): it was kept, being as long or longer, or theirs replaced it. Empty when
    there was none."""
    ban, replaced = placement.ban, placement.replaced
    if not placement.placed:
        longer = "A longer ban" if ends_later(ban.until, until) else "A ban as long"
        return (
            f"{username}: {longer} is in force {ends(ban.until)}; kept. Tick "
            '"Replace a longer ban" to shorten it.'
        )
    if replaced is None:
        return ""
    if ends_later(replaced.until, until):
        kind = "longer ban"
    elif ends_later(until, replaced.until):
        kind = "shorter ban"
    else:
        kind = "ban"
    return f"{username}: replaces the {kind} that was in force {ends(replaced.until)}."
