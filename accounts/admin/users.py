"""Users in the admin: the list (columns, filters, actions) and a user's page.

What a staff member may change on someone's page is ``accounts.access``: the profile with
``edit_profile``, the active state with ``deactivate``, the roles with ``set_roles``; the
page is read-only when none applies. Changes are saved through the services
(``user_update_by_staff``, ``roles_set``), which assert the same rules and audit with the
staff member as actor. A staff member's own page edits their own profile (as ``PATCH me/``).
Username, email, ``is_staff``, ``is_superuser`` and per-user permissions are never edited
as fields.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeAlias

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from accounts.access import Action, may, may_take
from accounts.admin.actions import UserActions
from accounts.admin.audit import AuditEventInline
from accounts.admin.base import acting_user
from accounts.admin.email_change import EmailChangePage
from accounts.admin.sessions import SessionInline
from accounts.models import Ban, User
from accounts.roles import Role, roles_of
from accounts.selectors import (
    ProfileAnnotations,
    group_names_of,
    profile_annotations,
    sort_key,
    sorts_matches,
    user_search,
    users_with_second_factor,
)
from accounts.services.moderation import roles_set, user_update_by_staff
from accounts.services.password import password_set_by_staff
from accounts.services.profile import profile_changes_clean, user_profile_update
from accounts.timezones import moment
from config.client import ClientInfo
from config.errors import ApplicationError
from config.paginator import CappedCountAdminMixin

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class ListAnnotations(ProfileAnnotations):
    """What UserAdmin.get_queryset adds to each row, for the list's columns."""

    is_banned: bool
    banned_until: datetime | None


ListedUser: TypeAlias = "WithAnnotations[User, ListAnnotations]"


class UserCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "email")


class UserEditForm(UserChangeForm):
    """The fields of a user's page; profile fields are normalised and checked as the
    services do (phone in E.164, the display-name rule), so saving cannot fail after the
    form said yes."""

    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        profile = {
            field: cleaned[field] for field in User.PROFILE_FIELDS if field in cleaned
        }
        try:
            cleaned.update(profile_changes_clean(self.instance, profile))
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                self.add_error(field, errors)
        return cleaned


class BooleanAnnotationFilter(admin.SimpleListFilter):
    annotation: str

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[User]
    ) -> QuerySet[User]:
        if self.value() in {"yes", "no"}:
            return queryset.filter(**{self.annotation: self.value() == "yes"})
        return queryset


class VerifiedFilter(BooleanAnnotationFilter):
    """Through a CASE, which PostgreSQL checks row by row: a bare ``EXISTS`` becomes a
    join whose two-column condition (user and address) it expects to match one row, so
    it hashed every verified address for it (1.1 s at 1,000,000 accounts; 17 ms so)."""

    title = parameter_name = "verified"
    annotation = "verified_checked"

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[User]
    ) -> QuerySet[User]:
        return super().queryset(
            request,
            queryset.alias(
                verified_checked=Case(
                    When(profile_email_verified=True, then=Value(True)),
                    default=Value(False),
                    output_field=BooleanField(),
                )
            ),
        )


class BannedFilter(BooleanAnnotationFilter):
    title = parameter_name = "banned"
    annotation = "is_banned"


class MfaFilter(BooleanAnnotationFilter):
    title = "MFA"
    parameter_name = "mfa"

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[User]
    ) -> QuerySet[User]:
        # Not the column's annotation: users_with_second_factor says why.
        if self.value() == "yes":
            return queryset.filter(pk__in=users_with_second_factor())
        if self.value() == "no":
            return queryset.exclude(pk__in=users_with_second_factor())
        return queryset


class UserChangeList(ChangeList):
    def get_ordering(self, request: HttpRequest, queryset: QuerySet[User]) -> list:
        """A searched page is sorted from its matches when they are few (by the planner's
        estimate), as the API's list does: PostgreSQL would otherwise walk the username
        index past every account that sorts before them (0.9 s for ``member_99``, whose
        11,111 matches sort last among 1,000,000 accounts)."""
        ordering = super().get_ordering(request, queryset)
        # Django orders before it searches: estimate the searched list.
        if not self.query.strip() or not sorts_matches(
            user_search(queryset, self.query)
        ):
            return ordering
        return [sort_key(key) if isinstance(key, str) else key for key in ordering]


class LanguageFilter(admin.SimpleListFilter):
    """The languages accounts may choose (``LANGUAGES``). Django's own filter for the
    field lists the values in use, a ``SELECT DISTINCT`` over every account (150 ms at
    1,000,000) on each page view."""

    title = "language"
    parameter_name = "language"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return list(settings.LANGUAGES)

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[User]
    ) -> QuerySet[User]:
        return queryset.filter(language=self.value()) if self.value() else queryset


class BanInline(admin.TabularInline):
    """The account's ban history, newest first: a ban that a later one replaced names
    it (``replaced by``)."""

    model = Ban
    fk_name = "user"
    extra = 0
    can_delete = False
    fields = (
        "created_at",
        "reason",
        "until",
        "created_by",
        "lifted_at",
        "lifted_by",
        "replaced_by",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Ban]:
        return (
            super()
            .get_queryset(request)
            .select_related("user", "created_by", "lifted_by", "replaced_by__user")
        )


@admin.register(User)
class UserAdmin(CappedCountAdminMixin, UserActions, EmailChangePage, DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    list_display = (
        "username",
        "email",
        "display_name",
        "role_list",
        "verified",
        "mfa",
        "is_active",
        "banned",
        "date_joined",
        "last_login",
    )
    inlines = [BanInline, SessionInline, AuditEventInline]
    list_filter = (
        "is_active",
        BannedFilter,
        VerifiedFilter,
        MfaFilter,
        "is_staff",
        "is_superuser",
        "groups",
        LanguageFilter,
        "date_joined",
        "last_login",
    )
    # The API's search (accounts.selectors.user_search): get_search_results.
    search_fields = ("username", "email", "display_name")
    search_help_text = (
        "The start of a username or email address, or any part of a display name."
    )
    ordering = ("username",)
    # Built for 1,000,000 accounts: no page counts them all (CappedCountAdminMixin), and
    # no date hierarchy, whose year/month links need a SELECT
    # DISTINCT over every matching account (0.2-1.4 s); the date_joined filter's ranges
    # remain.
    readonly_fields = ("id", "date_joined", "last_login")
    fieldsets = (
        (None, {"fields": ("id", "username", "email", "password")}),
        ("Profile", {"fields": User.PROFILE_FIELDS}),
        (
            "Permissions",
            {
                "fields": (
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                )
            },
        ),
        ("Dates", {"fields": ("date_joined", "last_login")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "email",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )

    def get_inlines(self, request: HttpRequest, obj: User | None) -> list:
        return self.inlines if obj is not None else []  # nothing to show on "add"

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return UserChangeList

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[User], search_term: str
    ) -> tuple[QuerySet[User], bool]:
        """The API's search: prefix of username or email (their pattern indexes), any
        part of the display name (its trigram index). Django's own would look for the
        term inside every field, which no index serves: a scan of every account."""
        return user_search(queryset, search_term), False

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        bans = (
            Ban.objects.filter(user=OuterRef("pk")).in_force().order_by("-created_at")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                **profile_annotations(),
                is_banned=Exists(bans),
                banned_until=Subquery(bans.values("until")[:1]),
            )
        )

    # The computed columns do not sort: sorting by a subquery computes it for every
    # account first (1,000,000 at the scale this list is built for). Their filters remain.
    @admin.display(boolean=True, description="MFA")
    def mfa(self, user: ListedUser) -> bool:
        return user.profile_mfa_enabled

    @admin.display(boolean=True, description="verified")
    def verified(self, user: ListedUser) -> bool:
        return user.profile_email_verified

    @admin.display(description="roles")
    def role_list(self, user: ListedUser) -> str:
        return ", ".join(
            roles_of(
                group_names_of(user.profile_group_names), is_superuser=user.is_superuser
            )
        )

    @admin.display(description="banned")
    def banned(self, user: ListedUser) -> str:
        if not user.is_banned:
            return "—"
        return (
            f"until {moment(user.banned_until)}" if user.banned_until else "permanently"
        )

    # --- What staff may change on a page: accounts.access ----------------------------
    ALWAYS_READ_ONLY = ("is_staff", "is_superuser", "user_permissions")
    # Written by their own flows (registration, the verified email change, which staff
    # start with "Change email address…": accounts.admin.email_change), never here.
    READ_ONLY_ONCE_CREATED = ("username", "email")
    PAGE_ACTIONS = (Action.EDIT_PROFILE, Action.DEACTIVATE, Action.SET_ROLES)
    ROLE_NAMES = frozenset(role.value for role in Role)

    def get_readonly_fields(
        self, request: HttpRequest, obj: User | None = None
    ) -> tuple[str, ...]:
        fields: tuple[str, ...] = (*self.readonly_fields, *self.ALWAYS_READ_ONLY)
        if obj is None:
            return fields
        actor = acting_user(request)
        own = obj.pk == actor.pk
        fields = (*fields, *self.READ_ONLY_ONCE_CREATED)
        if not (own or may(actor, Action.EDIT_PROFILE, obj)):
            fields = (*fields, *User.PROFILE_FIELDS)
        if not may(actor, Action.DEACTIVATE, obj):  # never one's own account
            fields = (*fields, "is_active")
        if not may(actor, Action.SET_ROLES, obj):
            fields = (*fields, "groups")
        return fields

    def has_change_permission(
        self, request: HttpRequest, obj: User | None = None
    ) -> bool:
        """Staff change their own profile, and on others' pages what ``accounts.access``
        allows them; the other pages are read-only."""
        actor = acting_user(request)
        if obj is None:
            return any(may_take(actor, action) for action in self.PAGE_ACTIONS)
        return obj.pk == actor.pk or any(
            may(actor, action, obj) for action in self.PAGE_ACTIONS
        )

    def has_delete_permission(
        self, request: HttpRequest, obj: User | None = None
    ) -> bool:
        # A hard delete would take the account's audit history with it; "delete personal
        # data" (an action) anonymises the account and keeps the history, as DELETE me/ does.
        return False

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        """Django's password page, for one's own account or by ``set_password``, saved
        through ``password_set_by_staff`` (policy, history, sessions ended, audit, email)
        instead of the form's raw ``save()``. Django's view renders the page and its
        errors; a valid submission never reaches it."""
        user = self.get_object(request, unquote(id))
        actor = acting_user(request)
        refused = (
            user is not None
            and user.pk != actor.pk
            and not may(actor, Action.SET_PASSWORD, user)
        )
        if refused:
            raise PermissionDenied
        if user is None or request.method != "POST":
            return super().user_change_password(request, id, form_url)
        form = self.change_password_form(user, request.POST)
        if not form.is_valid() or not (
            form.cleaned_data["set_usable_password"] or "unset-password" in request.POST
        ):
            return super().user_change_password(request, id, form_url)
        usable = form.cleaned_data["set_usable_password"]
        try:
            user = password_set_by_staff(
                actor=actor,
                user_id=user.pk,
                new_password=form.cleaned_data["password1"] if usable else None,
                client=ClientInfo.from_request(request),
            )
        except ApplicationError as error:
            self.message_user(request, error.detail, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        self.log_change(request, user, self.construct_change_message(request, form, ()))
        self.message_user(
            request,
            "Password changed successfully."
            if usable
            else "Password-based authentication was disabled.",
            messages.SUCCESS,
        )
        if user.pk == actor.pk:
            update_session_auth_hash(request, user)  # keep this admin session
        return HttpResponseRedirect(
            reverse("admin:accounts_user_change", args=(user.pk,))
        )

    def save_model(
        self, request: HttpRequest, obj: User, form: Any, change: bool
    ) -> None:
        if not change:
            super().save_model(request, obj, form, change)
            return
        changes = {
            field: form.cleaned_data[field]
            for field in form.changed_data
            if field in {*User.PROFILE_FIELDS, "is_active"}
        }
        if not changes:
            return
        actor = acting_user(request)
        client = ClientInfo.from_request(request)
        try:
            if obj.pk == actor.pk:
                user_profile_update(user_id=obj.pk, changes=changes, client=client)
            else:
                user_update_by_staff(
                    actor=actor, user_id=obj.pk, changes=changes, client=client
                )
        except ApplicationError as error:
            self.message_user(
                request, f"Account unchanged: {error.detail}", messages.ERROR
            )

    def save_related(
        self, request: HttpRequest, form: Any, formsets: Any, change: bool
    ) -> None:
        wanted = form.cleaned_data.pop("groups", None) if change else None
        super().save_related(request, form, formsets, change)
        if wanted is None or "groups" not in form.changed_data:
            return
        try:
            roles_set(
                user_id=form.instance.pk,
                actor=acting_user(request),
                roles=[group.name for group in wanted if group.name in self.ROLE_NAMES],
                client=ClientInfo.from_request(request),
            )
        except ApplicationError as error:
            # The rest of the form is saved; the roles are not.
            self.message_user(
                request, f"Roles unchanged: {error.detail}", messages.ERROR
            )
