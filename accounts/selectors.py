"""Reads of the accounts app."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import (
    AuthSession,
    SessionUser,
    User,
    normalize_email,
    normalize_username,
)
from accounts.roles import roles_of
from accounts.session_state import iso_timestamp


def user_by_login(login: str) -> User | None:
    """The account a login name designates: an email if it has an ``@`` (usernames never
    do), else a username; case never matters."""
    login = login.strip()
    if "@" in login:
        return User.objects.filter(email__iexact=normalize_email(login)).first()
    return User.objects.filter(username=normalize_username(login)).first()


def user_by_email(email: str) -> User | None:
    return User.objects.filter(email__iexact=normalize_email(email)).first()


def sessions_live(*, user: User) -> QuerySet[AuthSession]:
    return AuthSession.objects.filter(
        user=user, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).order_by("-last_used_at", "-created_at")


def user_profile(user: User) -> dict[str, Any]:
    """The full own profile of ``me/``: from the request's cached snapshot when there is one
    (no query), else from the database."""
    if isinstance(user, SessionUser):
        snapshot = user.snapshot
        email_verified = snapshot["email_verified"]
        roles = user.roles
        date_joined, last_login = snapshot["date_joined"], snapshot["last_login"]
    else:
        email_verified = EmailAddress.objects.filter(
            user=user, email__iexact=user.email, verified=True
        ).exists()
        group_names = user.groups.values_list("name", flat=True) if user.pk else []
        roles = roles_of(group_names, is_superuser=user.is_superuser)
        date_joined = iso_timestamp(user.date_joined)
        last_login = iso_timestamp(user.last_login)
    return {
        "id": str(user.pk),
        "username": user.username,
        "email": user.email,
        "email_verified": email_verified,
        "display_name": user.display_name,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "bio": user.bio,
        "phone": user.phone,
        "timezone": user.timezone,
        "language": user.language,
        "avatar_url": None,
        "roles": roles,
        "mfa_enabled": False,
        "date_joined": date_joined,
        "last_login": last_login,
    }
