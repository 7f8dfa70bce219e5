"""Users in the admin: the list (columns, filters, actions) and a user's page."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.http import HttpRequest

from accounts.admin.actions import UserActions
from accounts.admin.audit import AuditEventInline
from accounts.admin.sessions import SessionInline
from accounts.models import Ban, User
from accounts.roles import RANK, Role, may_manage, rank_of, roles_of
from accounts.selectors import group_names_of, profile_annotations
from accounts.services.moderation import roles_set
from config.client import ClientInfo
from config.errors import ApplicationError


class UserCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "email")


class UserEditForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"


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
    title = parameter_name = "verified"
    annotation = "profile_email_verified"


class BannedFilter(BooleanAnnotationFilter):
    title = parameter_name = "banned"
    annotation = "is_banned"


class MfaFilter(BooleanAnnotationFilter):
    title = "MFA"
    parameter_name = "mfa"
    annotation = "profile_mfa_enabled"


class BanInline(admin.TabularInline):
    """The account's ban history, newest first."""

    model = Ban
    fk_name = "user"
    extra = 0
    can_delete = False
    fields = ("created_at", "reason", "until", "created_by", "lifted_at", "lifted_by")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(UserActions, DjangoUserAdmin):
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

    def get_inlines(self, request: HttpRequest, obj: User | None) -> list:
        return self.inlines if obj is not None else []  # nothing to show on "add"

    list_filter = (
        "is_active",
        BannedFilter,
        VerifiedFilter,
        MfaFilter,
        "is_staff",
        "is_superuser",
        "groups",
        "language",
        "date_joined",
        "last_login",
    )
    search_fields = ("username", "email", "display_name", "first_name", "last_name")
    ordering = ("username",)
    date_hierarchy = "date_joined"
    readonly_fields = ("id", "date_joined", "last_login")
    show_full_result_count = (
        False  # a COUNT(*) over every user on each page view costs at scale
    )
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

    @admin.display(boolean=True, description="MFA", ordering="profile_mfa_enabled")
    def mfa(self, user: User) -> bool:
        return user.profile_mfa_enabled

    @admin.display(
        boolean=True, description="verified", ordering="profile_email_verified"
    )
    def verified(self, user: User) -> bool:
        return user.profile_email_verified

    @admin.display(description="roles")
    def role_list(self, user: User) -> str:
        return ", ".join(
            roles_of(
                group_names_of(user.profile_group_names), is_superuser=user.is_superuser
            )
        )

    @admin.display(description="banned", ordering="is_banned")
    def banned(self, user: User) -> str:
        if not user.is_banned:
            return "—"
        return (
            f"until {user.banned_until:%Y-%m-%d %H:%M}"
            if user.banned_until
            else "permanently"
        )

    # --- What staff may edit: the same rules as the API ------------------------------
    # Role and permission fields are never edited as raw fields: roles go through
    # ``roles_set`` (superadmins only, never above their own rank, the last superadmin
    # kept, audited) from the "Roles" field below, and ``is_staff`` follows the roles.
    ALWAYS_READ_ONLY = ("is_staff", "is_superuser", "user_permissions")
    ROLE_NAMES = frozenset(role.value for role in Role)

    def get_readonly_fields(
        self, request: HttpRequest, obj: User | None = None
    ) -> tuple:
        fields = (*self.readonly_fields, *self.ALWAYS_READ_ONLY)
        if obj is not None and rank_of(request.user) < RANK[Role.SUPERADMIN]:
            fields = (*fields, "groups")
        return fields

    def has_change_permission(
        self, request: HttpRequest, obj: User | None = None
    ) -> bool:
        """Staff change their own account and those ``roles.may_manage`` allows; the
        others' pages are read-only."""
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or obj.pk == request.user.pk or may_manage(request.user, obj)

    def has_delete_permission(
        self, request: HttpRequest, obj: User | None = None
    ) -> bool:
        # A hard delete would take the account's audit history with it; "delete personal
        # data" (an action) anonymises the account and keeps the history, as DELETE me/ does.
        return False

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
                actor=User.objects.get(pk=request.user.pk),
                roles=[group.name for group in wanted if group.name in self.ROLE_NAMES],
                client=ClientInfo.from_request(request),
            )
        except ApplicationError as error:
            # The rest of the form is saved; the roles are not.
            self.message_user(
                request, f"Roles unchanged: {error.detail}", messages.ERROR
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
