"""The flags' model admin: the list with its one-click toggles, the form, the history."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, Count, IntegerField, QuerySet, When
from django.db.models.fields.related import ManyToManyField
from django.forms import ModelMultipleChoiceField
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from waffle import get_waffle_flag_model
from waffle.admin import SampleAdmin, SwitchAdmin
from waffle.models import Sample, Switch

from accounts.access import Action, may_take
from accounts.admin.base import acting_user
from accounts.constants import ROLE_ORDER
from accounts.timezones import moment
from config.client import ClientInfo
from config.errors import ApplicationError
from flags.admin.filters import TOGGLES, KindFilter, StaleFilter, StateFilter
from flags.admin.forms import FlagForm, rules_from
from flags.endpoints import path_of_endpoint_flag
from flags.history import (
    flag_history,
    rules_text,
    short_note,
)
from flags.models import Flag, FlagChange
from flags.services import flag_create, flag_delete, flag_update

# The changes a flag's page lists; its "History" page lists them all.
HISTORY_ON_PAGE = 20


def error_text(error: ApplicationError | ValidationError) -> str:
    if isinstance(error, ApplicationError):
        return str(error.detail)
    return " ".join(error.messages)


class FlagAdmin(admin.ModelAdmin):
    form = FlagForm
    change_list_template = "admin/flags/flag/change_list.html"
    change_form_template = "admin/flags/flag/change_form.html"
    object_history_template = "admin/flags/flag/object_history.html"
    list_display = ("name", "rules", "note_start", "updated", "kind", "toggles")
    list_display_links = ("name",)
    list_filter = (KindFilter, StateFilter, StaleFilter)
    search_fields = ("name", "note")
    search_help_text = "A flag's name or words of its note."
    # Feature flags first: staff switch them most; endpoint flags (api:...) follow.
    ordering = ("is_endpoint", "name")
    list_per_page = 100
    autocomplete_fields = ("users",)
    # A few hundred flags at most: counted as Django counts (no CappedCountAdminMixin).

    # --- who may do what ------------------------------------------------------------

    def may_change_flags(self, request: HttpRequest) -> bool:
        return may_take(acting_user(request), Action.CHANGE_FLAGS)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """``flags.view_flag`` (moderators and up, ``accounts.roles``), or anyone who
        may change flags."""
        return super().has_view_permission(request, obj) or self.may_change_flags(
            request
        )

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.may_change_flags(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.may_change_flags(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Never an endpoint's flag (``flag_delete`` refuses it: ``migrate`` would make
        it again)."""
        if obj is not None and obj.is_endpoint:
            return False
        return self.may_change_flags(request)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # Django's bulk delete would delete the rows itself: a flag is deleted on its
        # own page, through flag_delete.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    # --- the list ---------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[Flag]:
        return (
            super()
            .get_queryset(request)
            .prefetch_related("groups")
            .annotate(user_count=Count("users", distinct=True))
        )

    def get_list_display(self, request: HttpRequest) -> Any:
        if self.may_change_flags(request):
            return self.list_display
        return tuple(column for column in self.list_display if column != "toggles")

    @admin.display(description="rules")
    def rules(self, flag: Flag) -> str:
        return rules_text(
            everyone=flag.everyone,
            percent=flag.percent,
            roles=[group.name for group in flag.groups.all()],
            user_count=getattr(flag, "user_count", 0),
        )

    @admin.display(description="note")
    def note_start(self, flag: Flag) -> str:
        return short_note(flag.note)

    @admin.display(description="updated", ordering="modified")
    def updated(self, flag: Flag) -> str:
        return moment(flag.modified)

    @admin.display(description="kind", ordering="is_endpoint")
    def kind(self, flag: Flag) -> str:
        return "Endpoint" if flag.is_endpoint else "Feature"

    @admin.display(description="switch")
    def toggles(self, flag: Flag) -> str:
        """Three buttons of the ``flag-toggles`` form (outside the list's own form): the
        one of the flag's state is disabled; switching an endpoint off asks first."""
        url = reverse("admin:flags_flag_everyone", args=[flag.pk])
        buttons = []
        for value, (everyone, label) in TOGGLES.items():
            asks = flag.is_endpoint and everyone is False
            buttons.append(
                (
                    url,
                    value,
                    f"toggle-{flag.pk}-{value}",
                    "disabled" if flag.everyone is everyone else "",
                    f"{label}…" if asks else label,
                )
            )
        return format_html(
            '<span class="flag-toggles">{}</span>',
            format_html_join(
                " ",
                '<button type="submit" form="flag-toggles" formaction="{}" '
                'name="everyone" value="{}" id="{}" class="button" {}>{}</button>',
                buttons,
            ),
        )

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return super().changelist_view(
            request,
            {
                **(extra_context or {}),
                "changelist_query": request.GET.urlencode(),
                "may_change_flags": self.may_change_flags(request),
            },
        )

    # --- the quick toggles ------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<path:object_id>/everyone/",
                self.admin_site.admin_view(self.everyone_view),
                name="flags_flag_everyone",
            ),
            *super().get_urls(),
        ]

    def everyone_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """``everyone`` = ``on``, ``off`` or ``rules`` for one flag, through
        ``flag_update``: POST only (the admin checks its CSRF token). Switching an
        endpoint's flag off for everyone first answers a page that names the route and
        what happens to it; it acts once that page is confirmed."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.may_change_flags(request):
            raise PermissionDenied
        changelist = self.changelist_url(request.POST.get("changelist_query", ""))
        flag = self.get_object(request, unquote(object_id))
        if flag is None:
            self.message_user(request, "No such flag.", messages.ERROR)
            return HttpResponseRedirect(changelist)
        toggle = TOGGLES.get(request.POST.get("everyone", ""))
        if toggle is None:
            self.message_user(request, "Choose on, off or by rules.", messages.ERROR)
            return HttpResponseRedirect(changelist)
        everyone, label = toggle
        if (
            flag.is_endpoint
            and everyone is False
            and flag.everyone is not False
            and request.POST.get("confirmed") != "yes"
        ):
            return self.confirm_endpoint_off(request, flag)
        try:
            flag_update(
                name=flag.name,
                changes={"everyone": everyone},
                actor=acting_user(request),
                client=ClientInfo.from_request(request),
                source=FlagChange.Source.ADMIN,
            )
        except (ApplicationError, ValidationError) as error:
            self.message_user(
                request,
                f"Flag {flag.name} unchanged: {error_text(error)}",
                messages.ERROR,
            )
        else:
            if flag.everyone is everyone:
                message = f"Flag {flag.name}: already {label.lower()}."
            else:
                message = f"Flag {flag.name}: now {label.lower()}."
            self.message_user(request, message, messages.SUCCESS)
        return HttpResponseRedirect(changelist)

    def confirm_endpoint_off(self, request: HttpRequest, flag: Flag) -> HttpResponse:
        status = settings.FLAGS_DISABLED_ENDPOINT_STATUS
        return TemplateResponse(
            request,
            "admin/flags/flag/confirm_endpoint_off.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Switch {path_of_endpoint_flag(flag.name)} off for everyone?",
                "opts": self.opts,
                "flag": flag,
                "route": path_of_endpoint_flag(flag.name),
                "status": f"{status} {'Not found' if status == 404 else 'Forbidden'}",
                "action_url": reverse("admin:flags_flag_everyone", args=[flag.pk]),
                "changelist_query": request.POST.get("changelist_query", ""),
                "changelist_url": self.changelist_url(
                    request.POST.get("changelist_query", "")
                ),
            },
        )

    def changelist_url(self, query: str) -> str:
        url = reverse("admin:flags_flag_changelist")
        return f"{url}?{query}" if query else url

    # --- the flag's page: saved, created and deleted by the services -------------------

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("name", "everyone", "percent", "groups", "users", "note")
        return (
            "name",
            "kind",
            "everyone",
            *(("confirm_endpoint_off",) if obj.is_endpoint else ()),
            "percent",
            "groups",
            "users",
            "note",
            "updated",
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ()
        return ("name", "kind", "updated")

    def formfield_for_manytomany(
        self, db_field: ManyToManyField, request: HttpRequest, **kwargs: Any
    ) -> ModelMultipleChoiceField | None:
        if db_field.name == "groups":
            # The role groups only, lowest first, as checkboxes.
            names = [role.value for role in ROLE_ORDER]
            kwargs["queryset"] = Group.objects.filter(name__in=names).order_by(
                Case(
                    *(When(name=name, then=rank) for rank, name in enumerate(names)),
                    output_field=IntegerField(),
                )
            )
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(
        self, request: HttpRequest, obj: Flag, form: forms.ModelForm, change: bool
    ) -> None:
        """``flag_update`` with the rules the form changed, or ``flag_create``; the
        form never saves the row (nor, in ``save_related``, its roles and users)."""
        actor = acting_user(request)
        client = ClientInfo.from_request(request)
        rules = rules_from(form)
        if change:
            flag = flag_update(
                name=obj.name,
                changes=rules,
                actor=actor,
                client=client,
                source=FlagChange.Source.ADMIN,
            )
        else:
            flag = flag_create(
                name=form.cleaned_data["name"],
                rules=rules or None,
                actor=actor,
                client=client,
                source=FlagChange.Source.ADMIN,
            )
        # The admin's answer (its message, the log entry, the redirect) reads obj.
        obj.pk = flag.pk
        obj.name = flag.name
        obj._state.adding = False
        obj._state.db = flag._state.db

    def save_related(
        self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool
    ) -> None:
        """Nothing: ``save_model``'s service wrote the roles and users."""

    def delete_model(self, request: HttpRequest, obj: Flag) -> None:
        flag_delete(
            name=obj.name,
            actor=acting_user(request),
            client=ClientInfo.from_request(request),
            source=FlagChange.Source.ADMIN,
        )

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Flag]) -> None:
        for flag in queryset:
            self.delete_model(request, flag)

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """A refusal of the service (403, 409, 503) is an error message on the page it
        came from, the change rolled back."""
        context = dict(extra_context or {})
        if object_id is not None:
            flag = self.get_object(request, unquote(object_id))
            if flag is not None:
                context["history"] = flag_history(flag, limit=HISTORY_ON_PAGE)
                context["route"] = (
                    path_of_endpoint_flag(flag.name) if flag.is_endpoint else None
                )
                context["history_limit"] = HISTORY_ON_PAGE
        try:
            return super().changeform_view(request, object_id, form_url, context)
        except (ApplicationError, ValidationError) as error:
            self.message_user(request, error_text(error), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(
        self,
        request: HttpRequest,
        object_id: str,
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except ApplicationError as error:
            self.message_user(request, error_text(error), messages.ERROR)
            return HttpResponseRedirect(
                reverse("admin:flags_flag_change", args=[object_id])
            )

    def history_view(
        self,
        request: HttpRequest,
        object_id: str,
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """The flag's whole history (who changed which rule, when, from what to what,
        through which way in), instead of Django's log of admin saves."""
        flag = self.get_object(request, unquote(object_id))
        if flag is None or not self.has_view_permission(request, flag):
            return super().history_view(request, object_id, extra_context)
        return TemplateResponse(
            request,
            self.object_history_template,
            {
                **self.admin_site.each_context(request),
                "title": f"History of {flag.name}",
                "subtitle": None,
                "opts": self.opts,
                "object": flag,
                "original": flag,
                "history": flag_history(flag),
                **(extra_context or {}),
            },
        )


def register(site: admin.AdminSite) -> None:
    """Ours instead of waffle's flag admin (waffle's ``admin.py``, imported first,
    registers its own unless its flag model is swapped out, as here); waffle's switches
    and samples stay as waffle registers them, for ops: Django's model permissions,
    which no role is given (``accounts.roles``), so superusers only."""
    model = get_waffle_flag_model()
    if site.is_registered(model):
        site.unregister(model)
    site.register(model, FlagAdmin)
    for each, model_admin in ((Switch, SwitchAdmin), (Sample, SampleAdmin)):
        if not site.is_registered(each):  # WAFFLE_ENABLE_ADMIN_PAGES off
            site.register(each, model_admin)
