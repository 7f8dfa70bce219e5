"""Reads of API keys."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User
from apikeys.models import ApiKey


def api_keys_of(user: User) -> QuerySet[ApiKey]:
    """``user``'s own keys, newest first, revoked ones included (they show as revoked)."""
    return ApiKey.objects.filter(user_id=user.pk).order_by("-created_at", "-id")


def api_key_by_prefix(prefix: str) -> ApiKey | None:
    """The key whose visible prefix is ``prefix`` (one indexed query), with its owner."""
    return ApiKey.objects.select_related("user").filter(prefix=prefix).first()


def api_keys_all() -> QuerySet[ApiKey]:
    """Every key, global ones included, for staff lists (the admin, ``manage.py``)."""
    return ApiKey.objects.select_related("user", "created_by", "revoked_by").order_by(
        "-created_at", "-id"
    )
