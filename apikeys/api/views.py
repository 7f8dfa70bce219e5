"""``/api/v1/api-keys/``: the caller's keys. A request made with an API key is refused
here (none of these views states ``required_scopes``): a stolen key cannot make more
keys, list them or revoke its owner's."""

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
from apikeys.services import NAME_MAX_LENGTH, api_key_create, api_key_revoke
from config.api import NoStoreMixin
from config.client import ClientInfo

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
    },
    request_only=True,
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
        "The owner is told by email.",
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
        )
        output = ApiKeyCreatedSerializer(key, context={"full_key": full_key})
        return Response(output.data, status=status.HTTP_201_CREATED)


class ApiKeyDetailApi(APIView):
    revokes_sessions_on = frozenset(
        {"DELETE"}
    )  # 503 if the cache refuses the tombstone
    permission_classes = [IsAuthenticated]

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
