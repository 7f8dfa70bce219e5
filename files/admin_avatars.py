"""Uploaded avatars in the admin: to find and remove an offensive picture.

Staff with their powers in force see every upload (a thumbnail from the public avatar
route: no other URL serves the bytes); removing one, alone or in bulk, goes through
``files.avatars.avatar_remove``, which asserts ``Action.REMOVE_AVATAR`` (moderation
reach) on the owner and audits with the staff member as actor. An avatar they may not
remove is named in a message and left alone. Nothing here adds or changes an avatar:
only its owner uploads one.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from accounts.access import Action, acts_as_staff, may, may_take
from accounts.admin.base import acting_user
from config.client import ClientInfo
from config.error_codes import ApplicationError
from files.avatars import avatar_remove
from files.models import Avatar


@admin.register(Avatar)
class AvatarAdmin(admin.ModelAdmin):
    list_display = ("thumbnail", "user", "updated_at")
    list_display_links = None
    list_select_related = ("user",)
    search_fields = ("user__username", "user__display_name", "=user__email")
    search_help_text = "The owner's username, display name or exact email."
    ordering = ("-updated_at",)
    actions = ["delete_selected"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return acts_as_staff(acting_user(request))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return acts_as_staff(acting_user(request))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        actor = acting_user(request)
        if obj is None:
            return may_take(actor, Action.REMOVE_AVATAR)
        return may(actor, Action.REMOVE_AVATAR, obj.user)

    @admin.display(description="Avatar")
    def thumbnail(self, avatar: Avatar) -> str:
        url = reverse("avatars:avatar", kwargs={"user_id": avatar.user_id})
        return format_html(
            '<img src="{}?v={}" alt="" width="48" height="48">', url, avatar.etag[:8]
        )

    def get_deleted_objects(
        self, objs: Any, request: HttpRequest
    ) -> tuple[list[str], dict[str, int], set[str], list[str]]:
        """The confirmation page lists the avatars; one the staff member may not
        remove does not refuse the whole batch (``delete_queryset`` names it)."""
        avatars = list(objs)
        return [str(avatar) for avatar in avatars], {"avatars": len(avatars)}, set(), []

    def delete_model(self, request: HttpRequest, obj: Avatar) -> None:
        avatar_remove(
            user=obj.user,
            actor=acting_user(request),
            client=ClientInfo.from_request(request),
        )

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Avatar]) -> None:
        actor = acting_user(request)
        client = ClientInfo.from_request(request)
        for avatar in queryset.select_related("user"):
            try:
                avatar_remove(user=avatar.user, actor=actor, client=client)
            except ApplicationError as refused:
                self.message_user(
                    request,
                    f"{avatar.user}'s avatar was not removed: {refused.detail}",
                    messages.ERROR,
                )
