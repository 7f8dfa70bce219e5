"""Blocks: one user hiding their profile from another, as a django-guardian object
permission on the profile."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from guardian.models import UserObjectPermissionBase

from accounts.models.users import User

# The codename of a block (see ProfilePermission), an object permission on a User.
BLOCKED_FROM_PROFILE = "blocked_from_profile"


class ProfilePermission(UserObjectPermissionBase):
    """django-guardian's object permissions on a profile: ``user`` holds ``permission`` on
    ``content_object``'s profile.

    A direct-foreign-key table (guardian's "performance" layout) rather than its generic one:
    a real FK on both sides, so a lookup is one indexed query and rows go when either account
    is deleted. The permission in use is ``accounts.blocked_from_profile`` -- a block:
    ``content_object`` blocked ``user`` (``accounts/services/blocking.py``).
    """

    content_object = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="profile_permissions_given"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta(UserObjectPermissionBase.Meta):
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(user=models.F("content_object")),
                name="accounts_profile_permission_not_self",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.permission_id} on {self.content_object_id}"
