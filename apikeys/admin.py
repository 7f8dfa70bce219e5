"""API keys in the admin: every key in one list, to read and revoke; global service keys
created on a page of their own, whose answer shows the full key once.

Nothing here writes a key's fields: the list and the key's page are read-only, revoking
is ``api_key_revoke``, creating is ``api_key_create`` and a key's quota page (admins:
any value, ``accounts.access.may_set_any_api_key_quota``) calls ``api_key_quota_set``,
which assert
``accounts.access`` on the row they touch and audit with the staff member as actor.
Which staff member is offered what is asked of the same rules
(``has_<action>_permission``). Keys of users are created by their owners (``POST
api-keys/``) and ``manage.py apikey create``, not here: staff act as themselves, never
as another account.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from accounts.access import (
    Action,
    acts_as_staff,
    may_set_any_api_key_quota,
    may_take,
)
from accounts.admin.base import acting_user
from accounts.timezones import moment
from apikeys.keys import KEY_MARKER
from apikeys.models import ApiKey
from apikeys.scopes import Scope
from apikeys.selectors import api_keys_all
from apikeys.services import (
    QUOTA_FIELDS,
    api_key_create,
    api_key_quota_set,
    api_key_revoke,
)
from config.client import ClientInfo
from config.errors import ApplicationError
from config.paginator import CappedCountAdminMixin

# How every key begins (``gth_``).
KEY_START = f"{KEY_MARKER}_"


def shown_prefix(key: ApiKey) -> str:
    """How the key's visible part reads: ``gth_AbC123xyz0_…``, the way the key begins."""
    return f"{KEY_START}{key.prefix}_…"


def expiry(key: ApiKey) -> str:
    """``never``, ``2026-12-09 15:00 CET``, or ``expired 2026-12-01 09:00 CET``, in the
    staff member's time zone."""
    if key.expires_at is None:
        return "never"
    return (
        f"expired {moment(key.expires_at)}"
        if key.is_expired
        else moment(key.expires_at)
    )


class StateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("live", "Live"), ("expired", "Expired"), ("revoked", "Revoked")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[ApiKey]
    ) -> QuerySet[ApiKey]:
        now = timezone.now()
        if self.value() == "live":
            return queryset.filter(revoked_at__isnull=True).filter(
                Q(expires_at__isnull=True) | Q(expires_at__gt=now)
            )
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


class OwnerFilter(admin.SimpleListFilter):
    title = "owner"
    parameter_name = "owner"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("global", "Global (service) keys"), ("user", "Users' keys")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[ApiKey]
    ) -> QuerySet[ApiKey]:
        if self.value() in {"global", "user"}:
            return queryset.filter(user__isnull=self.value() == "global")
        return queryset


def quota(key: ApiKey) -> str:
    """``500/h, role's/d``: the key's own quota, or its owner's role's limits."""
    hourly = key.quota_per_hour if key.quota_per_hour is not None else "role's"
    daily = key.quota_per_day if key.quota_per_day is not None else "role's"
    return f"{hourly}/h, {daily}/d"


QUOTA_HELP = (
    "Requests per {what} in the default endpoint group, counted for this key alone. "
    "Empty: the owner's role's limit (a global key's: the service tier's)."
)


class QuotaForm(forms.Form):
    """A key's own quota; ``api_key_quota_set`` checks the values and its refusals are
    shown on the form's fields."""

    quota_per_hour = forms.IntegerField(
        label="Requests per hour",
        required=False,
        min_value=1,
        help_text=QUOTA_HELP.format(what="hour"),
    )
    quota_per_day = forms.IntegerField(
        label="Requests per day",
        required=False,
        min_value=1,
        help_text=QUOTA_HELP.format(what="day"),
    )


class GlobalKeyForm(QuotaForm):
    """What staff fill in; ``api_key_create`` checks the values (a name, known scopes,
    an expiry in the future, the quota) and its refusals are shown on the form's
    fields."""

    field_order = ["name", "scopes", "expires_at", *QUOTA_FIELDS]

    name = forms.CharField(
        max_length=100, help_text="What the key is for: the service that will use it."
    )
    scopes = forms.MultipleChoiceField(
        choices=[(scope.value, scope.value) for scope in Scope],
        widget=forms.CheckboxSelectMultiple,
        help_text="A global key acts as no user: give it only what the service needs.",
    )
    expires_at = forms.DateTimeField(
        label="Expires",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="In your time zone; leave empty for a key that does not expire.",
    )


@admin.register(ApiKey)
class ApiKeyAdmin(CappedCountAdminMixin, admin.ModelAdmin):
    list_display = (
        "key",
        "owner",
        "name",
        "scope_list",
        "key_quota",
        "created_at",
        "expires",
        "last_use",
        "revoked",
    )
    list_filter = (StateFilter, OwnerFilter, "created_at")
    list_select_related = ("user",)
    search_fields = ("prefix", "name", "user__username")
    search_help_text = (
        "The key's prefix (the characters after gth_), its name, or the start of its "
        "owner's username."
    )
    # Everything but the digest of the secret, which tells staff nothing.
    fields = (
        "id",
        "user",
        "name",
        "prefix",
        "scopes",
        "created_at",
        "created_by",
        "expires_at",
        "last_used_at",
        "last_used_ip",
        "revoked_at",
        "revoked_by",
        "quota_per_hour",
        "quota_per_day",
    )
    readonly_fields = fields
    actions = ["revoke_keys"]
    # Never a count of every key (CappedCountAdminMixin, as the user list), nor one per
    # filter choice (facets).
    show_facets = admin.ShowFacets.NEVER

    # --- read-only: written by the services alone ---------------------------------

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # global keys: create_global_key; users' keys: their owners

    def has_change_permission(
        self, request: HttpRequest, obj: ApiKey | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: ApiKey | None = None
    ) -> bool:
        return False  # revoked keys stay, with who revoked them and when

    def has_view_permission(
        self, request: HttpRequest, obj: ApiKey | None = None
    ) -> bool:
        """Staff whose powers are in force see every key (``accounts.access``, as the
        API's rule ``may_see_api_keys_of``), not by Django's model permissions, which
        no role is given for keys."""
        return acts_as_staff(acting_user(request))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return may_take(acting_user(request), Action.REVOKE_API_KEY)

    def has_create_global_permission(self, request: HttpRequest) -> bool:
        return may_take(acting_user(request), Action.CREATE_GLOBAL_API_KEY)

    def has_quota_permission(self, request: HttpRequest, key: ApiKey) -> bool:
        """Admins set a live key's quota to anything: a global key's, their own, and
        those of users they administer (``may_set_any_api_key_quota``); owners set
        theirs within their role's limits through the API."""
        return key.revoked_at is None and may_set_any_api_key_quota(
            acting_user(request), key.user
        )

    # --- the list -----------------------------------------------------------------

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[ApiKey], search_term: str
    ) -> tuple[QuerySet[ApiKey], bool]:
        """A prefix as staff copy it from a key or a list (``gth_AbC123xyz0_…`` or
        without ``gth_``), exactly; a name; or the start of an owner's username."""
        term = search_term.strip()
        if not term:
            return queryset, False
        prefix = term.removeprefix(KEY_START).split("_", 1)[0].rstrip("…")
        return (
            queryset.filter(
                Q(prefix=prefix)
                | Q(name__icontains=term)
                | Q(user__username__istartswith=term)
            ),
            False,
        )

    @admin.display(description="key", ordering="prefix")
    def key(self, key: ApiKey) -> str:
        return shown_prefix(key)

    @admin.display(description="owner", ordering="user__username")
    def owner(self, key: ApiKey) -> str:
        return "(global)" if key.user is None else key.user.username

    @admin.display(description="scopes")
    def scope_list(self, key: ApiKey) -> str:
        return ", ".join(key.scopes)

    @admin.display(description="quota")
    def key_quota(self, key: ApiKey) -> str:
        return quota(key)

    @admin.display(description="expires", ordering="expires_at")
    def expires(self, key: ApiKey) -> str:
        return expiry(key)

    @admin.display(description="revoked", ordering="revoked_at")
    def revoked(self, key: ApiKey) -> str:
        return moment(key.revoked_at) if key.revoked_at else "—"

    @admin.display(description="last use", ordering="last_used_at")
    def last_use(self, key: ApiKey) -> str:
        if key.last_used_at is None:
            return "never"
        used = moment(key.last_used_at)
        return f"{used} from {key.last_used_ip}" if key.last_used_ip else used

    # --- revoke -------------------------------------------------------------------

    @admin.action(
        description="Revoke the selected keys (they stop working at once)",
        permissions=["revoke"],
    )
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        """Each key through ``api_key_revoke``, which asserts ``accounts.access`` on it:
        a key the staff member may not revoke is named in an error message and left
        alone; keys already revoked are skipped."""
        actor = acting_user(request)
        client = ClientInfo.from_request(request)
        revoked, refused = [], []
        for key in queryset.filter(revoked_at__isnull=True).select_related("user"):
            try:
                api_key_revoke(actor=actor, key_id=key.pk, client=client)
            except ApplicationError:
                refused.append(shown_prefix(key))
            else:
                revoked.append(shown_prefix(key))
        if revoked:
            self.message_user(
                request, f"Revoked: {', '.join(revoked)}.", messages.SUCCESS
            )
        else:
            self.message_user(request, "No key was revoked.", messages.WARNING)
        if refused:
            self.message_user(
                request, f"Not allowed to revoke: {', '.join(refused)}.", messages.ERROR
            )

    # --- create a global key ------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "create-global/",
                self.admin_site.admin_view(self.create_global_key),
                name="apikeys_apikey_create_global",
            ),
            path(
                "<uuid:key_id>/quota/",
                self.admin_site.admin_view(self.set_quota),
                name="apikeys_apikey_quota",
            ),
            *super().get_urls(),
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        key = self.get_object(request, object_id)
        may_set_quota = key is not None and self.has_quota_permission(request, key)
        return super().change_view(
            request,
            object_id,
            form_url,
            {**(extra_context or {}), "may_set_quota": may_set_quota},
        )

    # --- a key's quota ------------------------------------------------------------

    def set_quota(self, request: HttpRequest, key_id: uuid.UUID) -> HttpResponse:
        """The key's quota form; once valid, ``api_key_quota_set`` (in force from the
        key's next request), and back to the key's page."""
        key = api_keys_all().filter(pk=key_id).first()
        if key is None:
            raise Http404
        if not self.has_quota_permission(request, key):
            raise PermissionDenied
        initial = {
            "quota_per_hour": key.quota_per_hour,
            "quota_per_day": key.quota_per_day,
        }
        form = QuotaForm(
            request.POST if request.method == "POST" else None, initial=initial
        )
        change_url = reverse("admin:apikeys_apikey_change", args=[key.pk])
        if form.is_valid():
            try:
                api_key_quota_set(
                    actor=acting_user(request),
                    key_id=key.pk,
                    changes=form.cleaned_data,
                    client=ClientInfo.from_request(request),
                )
            except ValidationError as error:
                form.add_error(None, error)  # each message under its field
            except ApplicationError as error:
                form.add_error(None, error.detail)
            else:
                self.message_user(
                    request,
                    f"The quota of {shown_prefix(key)} is now "
                    f"{quota(api_keys_all().get(pk=key.pk))}.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(change_url)
        return TemplateResponse(
            request,
            "admin/apikeys/apikey/quota.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "changelist_url": reverse("admin:apikeys_apikey_changelist"),
                "change_url": change_url,
                "title": f"Quota of {key}",
                "key": key,
                "form": form,
            },
        )

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return super().changelist_view(
            request,
            {
                **(extra_context or {}),
                "may_create_global": self.has_create_global_permission(request),
            },
        )

    def create_global_key(self, request: HttpRequest) -> HttpResponse:
        """The form (name, scopes, optional expiry); once valid, ``api_key_create``
        with no owner, and a page that shows the full key: the only time it is shown.
        The answer is never cached (``admin_view``) and the key is kept nowhere."""
        if not self.has_create_global_permission(request):
            raise PermissionDenied
        form = GlobalKeyForm(request.POST if request.method == "POST" else None)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "changelist_url": reverse("admin:apikeys_apikey_changelist"),
        }
        if form.is_valid():
            try:
                key, raw = api_key_create(
                    actor=acting_user(request),
                    owner_id=None,
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                    expires_at=form.cleaned_data["expires_at"],
                    client=ClientInfo.from_request(request),
                    quota_per_hour=form.cleaned_data["quota_per_hour"],
                    quota_per_day=form.cleaned_data["quota_per_day"],
                )
            except ValidationError as error:
                form.add_error(None, error)  # each message under its field
            else:
                return TemplateResponse(
                    request,
                    "admin/apikeys/apikey/global_key_created.html",
                    {
                        **context,
                        "title": "Global API key created",
                        "key": key,
                        "raw": raw,
                    },
                )
        return TemplateResponse(
            request,
            "admin/apikeys/apikey/create_global.html",
            {**context, "title": "Create a global API key", "form": form},
        )
