"""DRF permission classes of the accounts app: who may call an endpoint, and who may read
a profile.

What staff may do to an account is ``accounts.access`` (one table): ``MayTake`` refuses a
caller whose role cannot take the view's action at all, before any lookup; the view then
loads the account with ``access.target_for`` (404 or 403), and the service asserts the
same rule again on the row it locks. The rule about one profile -- a block -- is a
django-guardian object permission (``accounts.models.ProfilePermission``).
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from accounts.access import (
    Action,
    acts_as_staff,
    may_take,
    powers_in_force,
    second_factor_required,
)
from accounts.roles import is_staff_member
from accounts.selectors import is_blocked_by
from config.errors import ApplicationError


class IsStaffWithMfa(BasePermission):
    """Staff only; with ``MFA_REQUIRED_FOR_STAFF`` on, only in a session that passed a
    second factor (``accounts.access.powers_in_force``): otherwise ``403
    mfa_setup_required``, until they set a factor up (``auth/mfa/…``) and sign in again
    with it. Having a factor is not enough: the session must have used it."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not (user and user.is_authenticated and is_staff_member(user)):
            return False
        if not powers_in_force(user):
            raise second_factor_required()
        return True


class MayTake(BasePermission):
    """The caller's role takes ``action`` on some account (``accounts.access``); on whom
    is decided once the account is loaded (``access.target_for``)."""

    def __init__(self, action: Action) -> None:
        self.action = action

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return user.is_authenticated and may_take(user, self.action)


class CanSeeProfile(BasePermission):
    """Object rule for reading a profile: yourself and staff (``acts_as_staff``: in a
    session with a second factor) see every profile; anyone
    else sees an active account's profile unless its owner blocked them (they hold
    guardian's ``accounts.blocked_from_profile`` on it). A refusal is the same 404 as an
    unknown id: reading a profile does not tell a block from a missing account."""

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        viewer = request.user
        if not viewer.is_authenticated:  # IsAuthenticated runs first
            return False
        if obj.pk == viewer.pk or acts_as_staff(viewer):
            return True
        if obj.is_active and not is_blocked_by(viewer, obj):
            return True
        raise ApplicationError("not_found", "No such user.")
