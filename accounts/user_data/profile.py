"""The account itself and its email addresses."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from allauth.account.models import EmailAddress
from django.utils import timezone
from rest_framework import serializers

from accounts.models import User
from accounts.selectors import profile_annotations, user_profile
from accounts.serializers import UserProfileSerializer
from accounts.user_data.registry import UserDataRegistry


class ExportProfileSerializer(UserProfileSerializer):
    """The user's account: the profile of `users/me/` and the account's state."""

    is_active = serializers.BooleanField()
    is_staff = serializers.BooleanField()
    is_superuser = serializers.BooleanField()


def export_profile(user: User) -> dict[str, Any]:
    # From the database, not the request's cached snapshot: the export is the record.
    account = User.objects.annotate(**profile_annotations()).get(pk=user.pk)
    return {
        **user_profile(account),
        "is_active": account.is_active,
        "is_staff": account.is_staff,
        "is_superuser": account.is_superuser,
    }


def erase_profile(user: User) -> None:
    """The row stays, anonymised, so that audit events keep pointing at one (now
    anonymous) account; the username and email are free again at once. Every profile
    field goes back to a new account's value, the last login is forgotten and the date
    joined is kept to its month (counts of sign-ups stay right). Roles and permissions
    go, and no password opens it."""
    user.groups.clear()
    user.user_permissions.clear()
    anonymous = uuid.uuid4().hex
    user.username = f"deleted_{anonymous[:24]}"
    user.email = f"deleted-{anonymous}@deleted.invalid"
    new_account = User()  # what a new account has: empty fields, UTC, English
    for name in ("first_name", "last_name", "bio", "phone", "timezone", "language"):
        setattr(user, name, getattr(new_account, name))
    user.display_name = "Deleted user"
    user.last_login = None
    joined = timezone.localtime(user.date_joined, datetime.UTC)
    user.date_joined = joined.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    user.is_active = user.is_staff = user.is_superuser = False
    user.set_unusable_password()
    user.save()


class ExportEmailAddressSerializer(serializers.Serializer):
    email = serializers.EmailField()
    verified = serializers.BooleanField()
    primary = serializers.BooleanField()


def export_email_addresses(user: User) -> list[dict[str, Any]]:
    return list(
        EmailAddress.objects.filter(user_id=user.pk)
        .order_by("-primary", "email")
        .values("email", "verified", "primary")
    )


def erase_email_addresses(user: User) -> None:
    EmailAddress.objects.filter(user_id=user.pk).delete()


def register(registry: UserDataRegistry) -> None:
    registry.register(
        model=User,
        section="profile",
        export=export_profile,
        schema=ExportProfileSerializer(),
        erase=erase_profile,
    )
    registry.register(
        model=EmailAddress,
        section="email_addresses",
        export=export_email_addresses,
        schema=ExportEmailAddressSerializer(many=True),
        erase=erase_email_addresses,
    )
