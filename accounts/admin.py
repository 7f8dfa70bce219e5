from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from accounts.constants import RevokeReason
from accounts.models import AuditEvent, AuthSession, User
from accounts.selectors import profile_annotations
from accounts.services.audit import ClientInfo
from accounts.services.deletion import user_delete
from accounts.services.mfa import mfa_reset_by_staff
from accounts.services.sessions import session_revoke


class UserCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "email")


class UserEditForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    list_display = (
        "username",
        "email",
        "display_name",
        "mfa",
        "is_active",
        "is_staff",
        "date_joined",
        "last_login",
    )
    list_filter = (
        "is_active",
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
    actions = ["erase_personal_data", "reset_mfa"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).annotate(**profile_annotations())

    @admin.display(boolean=True, description="MFA", ordering="profile_mfa_enabled")
    def mfa(self, user: User) -> bool:
        return user.profile_mfa_enabled

    @admin.action(
        description="Reset two-factor authentication (for a locked-out user)",
        permissions=["change"],
    )
    def reset_mfa(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        client = ClientInfo.from_request(request)
        for user in queryset:
            mfa_reset_by_staff(user=user, actor=request.user, client=client)
        self.message_user(
            request,
            f"Two-factor authentication reset for {queryset.count()} account(s).",
            messages.SUCCESS,
        )

    @admin.action(
        description="Delete the selected accounts' personal data (data-subject request)",
        permissions=["delete"],
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
        for user in queryset.exclude(pk=request.user.pk):
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
            session_revoke(
                user=session.user,
                session_id=session.pk,
                reason=RevokeReason.REVOKED,
                client=client,
                actor=request.user,
            )
            revoked += 1
        self.message_user(request, f"Revoked {revoked} session(s).", messages.SUCCESS)
