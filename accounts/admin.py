from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from accounts.models import User


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
        (
            "Profile",
            {
                "fields": (
                    "display_name",
                    "first_name",
                    "last_name",
                    "bio",
                    "phone",
                    "timezone",
                    "language",
                )
            },
        ),
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
