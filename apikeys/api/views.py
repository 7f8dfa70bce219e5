"""``/api/v1/api-keys/``: the caller's keys. A request made with an API key is refused
here (none of these views states ``required_scopes``): a stolen key cannot make more
keys, list them, raise their quotas or revoke its owner's."""

from __future__ import annotations

import uuid
from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import AuthenticatedRequest
from apikeys.keys import checksum
from apikeys.models import ApiKey
from apikeys.scopes import DEFAULT_SCOPES, SCOPE_CHOICES, Scope
from apikeys.selectors import api_keys_of
from apikeys.services import (
    NAME_MAX_LENGTH,
    QUOTA_MAX,
    api_key_create,
    api_key_quota_set,
    api_key_revoke,
)
from config.api import NoStoreMixin
from config.client import ClientInfo
from config.openapi import problem_example, problem_response

TAGS = ["api-keys"]

# A well-formed key (its checksum is right), for the schema's examples.
_EXAMPLE_BODY = "gth_Xr4Tq9LmB2_h8Kd0QxV3nZp6Ws1Jc9Ty4Ra7Lm2Fb5G"
EXAMPLE_KEY = _EXAMPLE_BODY + checksum(_EXAMPLE_BODY)
KEY_EXAMPLE_VALUE: dict[str, Any] = {
    "id": "0b8f1e9c-5a57-4d0c-9f0e-3b5d3f8f2a61",
    "name": "CI deploys",
    "prefix": "Xr4Tq9LmB2",
    "scopes": ["users:read", "files:read"],
    "global": False,
    "created_at": "2026-11-21T10:00:00Z",
    "expires_at": "2027-02-19T10:00:00Z",
    "last_used_at": "2026-11-22T08:15:03Z",
    "last_used_ip": "203.0.113.5",
    "revoked": False,
    "quota_per_hour": 200,
    "quota_per_day": None,
}
KEY_EXAMPLE = OpenApiExample(
    "key", value=KEY_EXAMPLE_VALUE, response_only=True, status_codes=["200"]
)
CREATED_EXAMPLE = OpenApiExample(
    "new key",
    value={
        **KEY_EXAMPLE_VALUE,
        "last_used_at": None,
        "last_used_ip": None,
        "key": EXAMPLE_KEY,
    },
    response_only=True,
    status_codes=["201"],
)
CREATE_EXAMPLE = OpenApiExample(
    "read-only key for a script",
    value={
        "name": "CI deploys",
        "scopes": ["users:read", "files:read"],
        "expires_at": "2027-02-19T10:00:00Z",
        "quota_per_hour": 200,
    },
    request_only=True,
)
QUOTA_EXAMPLE = OpenApiExample(
    "a lower hourly quota, the role's daily limit",
    value={"quota_per_hour": 200, "quota_per_day": None},
    request_only=True,
)
QUOTA_HELP = (
    "The key's own {what} in the `default` endpoint group, counted for this key "
    "alone; null: the owner's role's limit{note}. An owner may set at most their "
    "role's limit; admins any."
)


def quota_field(what: str, note: str = "", **options: Any) -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=1,
        max_value=QUOTA_MAX,
        allow_null=True,
        help_text=QUOTA_HELP.format(what=what, note=note),
        **options,
    )


SCOPE_HELP = ", ".join(f"`{scope}`" for scope in Scope)


class ApiKeyOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    prefix = serializers.CharField(
        help_text="The visible part of the key (`gth_<prefix>_…`): tells keys apart."
    )
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=SCOPE_CHOICES))
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    last_used_at = serializers.DateTimeField(
        allow_null=True,
        help_text="Updated at most once a minute; null until the key is first used.",
    )
    last_used_ip = serializers.IPAddressField(
        allow_null=True, help_text="The address of that last use."
    )
    revoked = serializers.SerializerMethodField()
    quota_per_hour = quota_field("requests per hour")
    quota_per_day = quota_field("requests per day")

    def get_fields(self) -> dict[str, serializers.Field]:
        # "global" is a Python keyword, so it cannot be declared in the class body.
        fields = super().get_fields()
        fields["global"] = serializers.BooleanField(
            source="is_global", help_text="A service key bound to no user (staff only)."
        )
        return fields

    def get_revoked(self, key: ApiKey) -> bool:
        return key.revoked_at is not None


class ApiKeyCreatedSerializer(ApiKeyOutputSerializer):
    key = serializers.SerializerMethodField(
        help_text="The full key: shown this once, never again. Send it as "
        "`Authorization: Api-Key <key>` or `X-API-Key: <key>`."
    )

    def get_key(self, key: ApiKey) -> str:
        return self.context["full_key"]


class ApiKeyCreateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=NAME_MAX_LENGTH)
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=SCOPE_CHOICES),
        required=False,
        help_text=f"Any of {SCOPE_HELP}. Without it: every scope but `admin` "
        "(staff only) and `tokens:introspect` (global keys only). A key never "
        "does more than its owner may.",
    )
    expires_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Never expires when absent."
    )
    quota_per_hour = quota_field(
        "requests per hour", " (so too when absent)", required=False
    )
    quota_per_day = quota_field(
        "requests per day", " (so too when absent)", required=False
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        # "global" is a Python keyword, so it cannot be declared in the class body.
        fields = super().get_fields()
        fields["global"] = serializers.BooleanField(
            required=False,
            default=False,
            help_text="Staff (admin and up): a service key bound to no user, with "
            "explicit `scopes`.",
        )
        return fields


class ApiKeyListApi(NoStoreMixin, GenericAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = ApiKeyOutputSerializer

    @extend_schema(
        operation_id="listApiKeys",
        tags=TAGS,
        summary="The caller's API keys",
        description="Revoked and expired keys included; never a secret.",
        examples=[KEY_EXAMPLE],
        responses=ApiKeyOutputSerializer(many=True),
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        page = self.paginate_queryset(api_keys_of(request.user))
        return self.get_paginated_response(ApiKeyOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="createApiKey",
        tags=TAGS,
        summary="Make an API key",
        description="The answer holds the full key (`key`): the only time it is shown. "
        f"Default scopes: {', '.join(f'`{scope}`' for scope in DEFAULT_SCOPES)}. "
        "A key may carry its own quota (`quota_per_hour`, `quota_per_day`), at most "
        "the owner's role's limits (`400 validation_error` naming the field above "
        "them); admins may give any. The owner is told by email.",
        request=ApiKeyCreateInputSerializer,
        examples=[CREATE_EXAMPLE, CREATED_EXAMPLE],
        responses={201: ApiKeyCreatedSerializer},
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        serializer = ApiKeyCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        key, full_key = api_key_create(
            actor=request.user,
            owner_id=None if data["global"] else request.user.pk,
            name=data["name"],
            scopes=data.get("scopes"),
            expires_at=data.get("expires_at"),
            client=ClientInfo.from_request(request),
            quota_per_hour=data.get("quota_per_hour"),
            quota_per_day=data.get("quota_per_day"),
        )
        output = ApiKeyCreatedSerializer(key, context={"full_key": full_key})
        return Response(output.data, status=status.HTTP_201_CREATED)


class ApiKeyQuotaInputSerializer(serializers.Serializer):
    quota_per_hour = quota_field(
        "requests per hour", "; absent: unchanged", required=False
    )
    quota_per_day = quota_field(
        "requests per day", "; absent: unchanged", required=False
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        refused = sorted(set(self.initial_data) - set(self.fields))
        if refused:
            raise serializers.ValidationError(
                {field: ["This field cannot be changed here."] for field in refused}
            )
        return attrs


class ApiKeyDetailApi(APIView):
    # 503 if the cache refuses the tombstone (DELETE) or the key's new entry (PATCH).
    revokes_sessions_on = frozenset({"DELETE", "PATCH"})
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="updateApiKey",
        tags=TAGS,
        summary="Change an API key's quota",
        description="`quota_per_hour` and `quota_per_day`, each optional: a whole "
        "number, or null for the owner's role's limit. In force from the next request "
        "made with the key. The owner's keys, at most their role's limits (above: "
        "`400 validation_error` naming the field); admins any key's, with any value "
        "(other staff: `403`); 404 for a key the caller may not see; 409 for a "
        "revoked key.",
        request=ApiKeyQuotaInputSerializer,
        examples=[QUOTA_EXAMPLE, KEY_EXAMPLE],
        responses={
            200: ApiKeyOutputSerializer,
            409: problem_response(
                "The key is revoked.",
                problem_example("conflict", "This key is revoked: it has no quota."),
            ),
        },
    )
    def patch(self, request: AuthenticatedRequest, key_id: uuid.UUID) -> Response:
        serializer = ApiKeyQuotaInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key = api_key_quota_set(
            actor=request.user,
            key_id=key_id,
            changes=serializer.validated_data,
            client=ClientInfo.from_request(request),
        )
        return Response(ApiKeyOutputSerializer(key).data)

    @extend_schema(
        operation_id="revokeApiKey",
        tags=TAGS,
        summary="Revoke an API key",
        description="The key stops working at once. The owner's keys, or (staff) "
        "another user's or a global key; 404 for a key the caller may not see. "
        "Revoking a revoked key answers 204 again.",
        responses={204: None},
    )
    def delete(self, request: AuthenticatedRequest, key_id: uuid.UUID) -> Response:
        api_key_revoke(
            actor=request.user, key_id=key_id, client=ClientInfo.from_request(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
