"""DRF permission classes of the accounts app: who may call an endpoint (role checks) and
what they may do to one account (object rules).

Role rules come from ``accounts/roles.py`` (one table); the rule about one profile -- a block
-- is a django-guardian object permission (``accounts.models.ProfilePermission``). The
services check the same rules again, so the admin and ``manage.py`` cannot bypass them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from accounts.roles import RANK, Role, is_staff_member, may_ban, rank_of
from accounts.selectors import is_blocked_by, user_profile
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
            )
        return True


class HasRole(BasePermission):
    """The caller holds ``minimum`` or a higher role: ``HasRole(Role.SUPERADMIN)``."""

    def __init__(self, minimum: Role) -> None:
        self.minimum = minimum

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user and request.user.is_authenticated) and (
            rank_of(request.user) >= RANK[self.minimum]
        )


class MayModerate(BasePermission):
    """Object rule for staff actions on an account: the caller holds ``minimum`` and
    outranks the account as the ban rules say (moderators act on users and testers, admins
    on anyone below superadmin, nobody on themselves)."""

    def __init__(self, minimum: Role = Role.MODERATOR) -> None:
        self.minimum = minimum

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        actor = request.user
        return rank_of(actor) >= RANK[self.minimum] and may_ban(actor, obj)


class CanSeeProfile(BasePermission):
    """Object rule for reading a profile: yourself and staff see every profile; anyone
    else sees an active account's profile unless its owner blocked them (they hold
    guardian's ``accounts.blocked_from_profile`` on it). A refusal is the same 404 as an
    unknown id: reading a profile does not tell a block from a missing account."""

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        viewer = request.user
        if obj.pk == viewer.pk or is_staff_member(viewer):
            return True
        if obj.is_active and not is_blocked_by(viewer, obj):
            return True
        raise ApplicationError("not_found", "No such user.")
