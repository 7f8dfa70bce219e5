"""What the admin's modules share."""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest

from accounts.models import User


def acting_user(request: HttpRequest) -> User:
    """The staff member behind an admin request: the admin lets only signed-in staff in,
    and Django's session authentication loads them once per request."""
    return cast(User, request.user)


class ReadOnlyAdminMixin:
    """Rows written only by services (through the audit function, the login flow)."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
