"""What the admin's modules share."""

from __future__ import annotations

from django.http import HttpRequest


class ReadOnlyAdminMixin:
    """Rows written only by services (through the audit function, the login flow)."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
