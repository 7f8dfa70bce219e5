"""Roles in the admin, to read only. A role is a Django group whose permissions
``roles_sync`` sets from ``accounts.roles`` and ``accounts.access`` after every
migration; who has a role is set on the user's page (``roles_set``). An edit page for
groups would let staff create, rename or re-permission a role outside both, and the next
migration would silently undo it."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.models import Group

from accounts.admin.base import ReadOnlyAdminMixin

admin.site.unregister(Group)  # registered by its app, which comes first


@admin.register(Group)
class RoleAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("name",)
    fields = ("name", "permissions")
    search_fields = ("name",)
