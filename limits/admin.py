"""Address bans in the admin: every address ban, automatic or placed by staff, to read and
lift; a page of its own to ban an address.

Nothing here writes a ban's fields: lifting is ``address_unban`` and banning is
``address_ban``, which assert ``accounts.access`` (``Action.BAN_ADDRESS``: moderators
and up, as for account bans) and audit with the staff member as actor. Automatic bans
of accounts are in the accounts' "Bans" list (its "Automatic (rate limit abuse)"
filter), lifted as any account ban is.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from accounts.access import Action, acts_as_staff, may_take
from accounts.admin.base import acting_user
from accounts.constants import AUTO_BAN_REASON
from accounts.timezones import moment
from config.client import ClientInfo
from config.errors import ApplicationError
from limits.models import AddressBan
from limits.services import address_ban, address_unban, banned_address


class InForceFilter(admin.SimpleListFilter):
    title = "in force"
    parameter_name = "in_force"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("yes", "In force"), ("no", "Over or lifted")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[AddressBan]
    ) -> QuerySet[AddressBan]:
        in_force = Q(lifted_at__isnull=True, until__gt=timezone.now())
        if self.value() == "yes":
            return queryset.filter(in_force)
        if self.value() == "no":
            return queryset.exclude(in_force)
        return queryset


class AutomaticFilter(admin.SimpleListFilter):
    title = "placed"
    parameter_name = "automatic"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("yes", "Automatic (rate limit abuse)"), ("no", "By staff")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[AddressBan]
    ) -> QuerySet[AddressBan]:
        automatic = Q(created_by__isnull=True, reason=AUTO_BAN_REASON)
        if self.value() == "yes":
            return queryset.filter(automatic)
        if self.value() == "no":
            return queryset.exclude(automatic)
        return queryset


class AddressBanForm(forms.Form):
    """What staff fill in; ``address_ban`` checks the values (an address, a reason, an
    end in the future) and its refusals are shown on the form's fields."""

    address = forms.CharField(
        max_length=64,
        help_text="An IPv4 or IPv6 address; an IPv6 address bans its whole /64, as the "
        "rate limits count it.",
    )
    reason = forms.CharField(max_length=500)
    until = forms.DateTimeField(
        label="Until",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="In your time zone. Address bans always end.",
    )


@admin.register(AddressBan)
class AddressBanAdmin(admin.ModelAdmin):
    list_display = (
        "address",
        "reason",
        "automatic",
        "created_at",
        "ends",
        "in_force",
        "lifted",
    )
    list_filter = (InForceFilter, AutomaticFilter, "created_at")
    list_select_related = ("created_by", "lifted_by")
    search_fields = ("address",)
    search_help_text = "An address (an IPv6 one finds its /64's bans), or its start."
    fields = (
        "address",
        "reason",
        "created_at",
        "created_by",
        "until",
        "lifted_at",
        "lifted_by",
    )
    readonly_fields = fields
    actions = ["lift_bans"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    # --- read-only: written by the services alone ---------------------------------

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # ban_address_view, through address_ban

    def has_change_permission(
        self, request: HttpRequest, obj: AddressBan | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: AddressBan | None = None
    ) -> bool:
        return False  # lifted bans stay, with who lifted them and when

    def has_view_permission(
        self, request: HttpRequest, obj: AddressBan | None = None
    ) -> bool:
        """Staff whose powers are in force (``accounts.access``), as for account bans."""
        return acts_as_staff(acting_user(request))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_ban_address_permission(self, request: HttpRequest) -> bool:
        return may_take(acting_user(request), Action.BAN_ADDRESS)

    # --- the list -----------------------------------------------------------------

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[AddressBan], search_term: str
    ) -> tuple[QuerySet[AddressBan], bool]:
        """A whole address finds the bans that bar it (an IPv6 one: its /64's); any
        other text, the addresses that begin with it."""
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            ipaddress.ip_address(term)
        except ValueError:
            return queryset.filter(address__istartswith=term), False
        return queryset.filter(address=banned_address(term)), False

    @admin.display(description="automatic", boolean=True)
    def automatic(self, ban: AddressBan) -> bool:
        return ban.is_automatic

    @admin.display(description="until", ordering="until")
    def ends(self, ban: AddressBan) -> str:
        return moment(ban.until)

    @admin.display(description="in force", boolean=True)
    def in_force(self, ban: AddressBan) -> bool:
        return ban.is_in_force

    @admin.display(description="lifted", ordering="lifted_at")
    def lifted(self, ban: AddressBan) -> str:
        if ban.lifted_at is None:
            return "—"
        by = ban.lifted_by.username if ban.lifted_by else "the system"
        return f"{moment(ban.lifted_at)} by {by}"

    # --- lift ---------------------------------------------------------------------

    @admin.action(
        description="Lift the selected bans (the addresses are served again)",
        permissions=["ban_address"],
    )
    def lift_bans(self, request: HttpRequest, queryset: QuerySet[AddressBan]) -> None:
        """Each address through ``address_unban``, which lifts every ban in force on
        it; bans no longer in force are skipped."""
        actor = acting_user(request)
        client = ClientInfo.from_request(request)
        lifted: list[str] = []
        now = timezone.now()
        for ban in queryset.filter(lifted_at__isnull=True, until__gt=now):
            if ban.address in lifted:
                continue
            try:
                address_unban(ban_id=ban.pk, actor=actor, client=client)
            except ApplicationError as error:
                self.message_user(
                    request, f"{ban.address}: {error.detail}", messages.WARNING
                )
            else:
                lifted.append(ban.address)
        if lifted:
            self.message_user(
                request, f"Ban lifted: {', '.join(lifted)}.", messages.SUCCESS
            )
        else:
            self.message_user(
                request, "No ban in force was selected.", messages.WARNING
            )

    # --- ban an address -----------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "ban/",
                self.admin_site.admin_view(self.ban_address_view),
                name="limits_addressban_ban",
            ),
            *super().get_urls(),
        ]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return super().changelist_view(
            request,
            {
                **(extra_context or {}),
                "may_ban_address": self.has_ban_address_permission(request),
            },
        )

    def ban_address_view(self, request: HttpRequest) -> HttpResponse:
        """The form (address, reason, end); once valid, ``address_ban``, and back to
        the list."""
        if not self.has_ban_address_permission(request):
            raise PermissionDenied
        form = AddressBanForm(request.POST if request.method == "POST" else None)
        changelist_url = reverse("admin:limits_addressban_changelist")
        if form.is_valid():
            try:
                ban = address_ban(
                    actor=acting_user(request),
                    address=form.cleaned_data["address"],
                    reason=form.cleaned_data["reason"],
                    until=form.cleaned_data["until"],
                    client=ClientInfo.from_request(request),
                )
            except ValidationError as error:
                form.add_error(None, error)  # each message under its field
            except ApplicationError as error:
                form.add_error(None, str(error.detail))
            else:
                self.message_user(
                    request,
                    f"{ban.address} banned until {moment(ban.until)}.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(changelist_url)
        return TemplateResponse(
            request,
            "admin/limits/addressban/ban_address.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "changelist_url": changelist_url,
                "title": "Ban an address",
                "form": form,
            },
        )
