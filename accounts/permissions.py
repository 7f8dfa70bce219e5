"""DRF permission classes of the accounts app."""

from __future__ import annotations

from django.conf import settings
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from accounts.roles import is_staff_member
from accounts.selectors import user_profile
from config.errors import ApplicationError


class IsStaffWithMfa(BasePermission):
    """Staff only; with ``MFA_REQUIRED_FOR_STAFF`` on, staff without a second factor are
    refused with ``403 mfa_setup_required`` until they set one up (``auth/mfa/…``)."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not (user and user.is_authenticated and is_staff_member(user)):
            return False
        if settings.MFA_REQUIRED_FOR_STAFF and not user_profile(user)["mfa_enabled"]:
            raise ApplicationError(
                "mfa_setup_required",
                "Set up two-factor authentication to use staff features.",
                status=403,
            )
        return True
