from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone

from accounts.constants import RevokeReason
from accounts.models import AuditEvent, AuthSession, Ban, User
from accounts.roles import RANK, Role, may_manage, rank_of, roles_of
from accounts.selectors import group_names_of, profile_annotations
from accounts.services.deletion import user_delete
from accounts.services.mfa import mfa_reset_by_staff
from accounts.services.moderation import roles_set, user_ban, user_unban
from accounts.services.sessions import session_revoke, sessions_revoke_all
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


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
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

    def has_ban_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("accounts.ban_user")

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


class ReadOnlyAdminMixin:
    """Rows written only by services (through the audit function, the login flow)."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "kind", "actor", "target", "ip", "user_agent")
    list_filter = ("kind", "created_at")
    search_fields = ("target__username", "target__email", "actor__username", "ip")
    date_hierarchy = "created_at"
    list_select_related = ("actor", "target")
    show_full_result_count = False


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
