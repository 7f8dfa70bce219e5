"""The ``api_keys`` section of the export, and the keys' erasure."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accounts.models import User
from accounts.user_data.registry import UserDataRegistry
from apikeys.models import ApiKey
from apikeys.services import api_keys_erase

KEY_FIELDS = (
    "id",
    "name",
    "prefix",
    "scopes",
    "created_at",
    "expires_at",
    "revoked_at",
    "last_used_at",
    "last_used_ip",
    "quota_per_hour",
    "quota_per_day",
)


class ExportApiKeySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="The visible part of the key.")
    scopes = serializers.ListField(child=serializers.CharField())
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)
    last_used_at = serializers.DateTimeField(allow_null=True)
    last_used_ip = serializers.IPAddressField(allow_null=True)
    quota_per_hour = serializers.IntegerField(
        allow_null=True, help_text="The key's own requests per hour; null: the role's."
    )
    quota_per_day = serializers.IntegerField(
        allow_null=True, help_text="The key's own requests per day; null: the role's."
    )


def export_api_keys(user: User) -> list[dict[str, Any]]:
    """The user's keys' metadata, revoked ones included; ``secret_hash`` never selected."""
    keys = ApiKey.objects.filter(user_id=user.pk).order_by("-created_at")
    return list(keys.values(*KEY_FIELDS))


def erase_api_keys(user: User) -> None:
    api_keys_erase(user=user)


def register(registry: UserDataRegistry) -> None:
    registry.register(
        model=ApiKey,
        section="api_keys",
        export=export_api_keys,
        schema=ExportApiKeySerializer(many=True),
        erase=erase_api_keys,
    )
