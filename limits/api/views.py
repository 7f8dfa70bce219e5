"""``GET /api/v1/users/me/quota/``: the caller's usage and limits per endpoint group."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import NoStoreMixin
from config.openapi import problem_example, problem_response
from limits.callers import caller_of
from limits.policy import TIERS
from limits.selectors import quota_usage

QUOTA_EXAMPLE: dict[str, Any] = {
    "tier": "user",
    "groups": [
        {
            "name": "default",
            "unlimited": False,
            "windows": [
                {
                    "window": "1m",
                    "seconds": 60,
                    "limit": 100,
                    "used": 3,
                    "remaining": 97,
                    "reset": 42,
                },
                {
                    "window": "1h",
                    "seconds": 3600,
                    "limit": 1000,
                    "used": 12,
                    "remaining": 988,
                    "reset": 1834,
                },
                {
                    "window": "1d",
                    "seconds": 86400,
                    "limit": 10000,
                    "used": 140,
                    "remaining": 9860,
                    "reset": 52234,
                },
            ],
        },
        {
            "name": "auth",
            "unlimited": False,
            "windows": [
                {
                    "window": "1m",
                    "seconds": 60,
                    "limit": 30,
                    "used": 0,
                    "remaining": 30,
                    "reset": 42,
                },
                {
                    "window": "1h",
                    "seconds": 3600,
                    "limit": 300,
                    "used": 2,
                    "remaining": 298,
                    "reset": 1834,
                },
            ],
        },
        {"name": "refresh", "unlimited": True, "windows": []},
    ],
}


class MeQuotaApi(NoStoreMixin, APIView):
    # What an API key needs for each method (apikeys.authentication); a global key too:
    # it sees its own usage, at the service tier.
    required_scopes = {"GET": "users:read"}
    accepts_global_api_keys = True
    permission_classes = [IsAuthenticated]

    class WindowSerializer(serializers.Serializer):
        window = serializers.CharField(
            help_text='The window as the rates write it: "1m", "1h", "1d".'
        )
        seconds = serializers.IntegerField(help_text="The window's length in seconds.")
        limit = serializers.IntegerField(
            help_text="Requests allowed in any such window."
        )
        used = serializers.IntegerField(
            help_text="Requests counted in the sliding window ending now (this one "
            "included when it counts in this group; refused ones too)."
        )
        remaining = serializers.IntegerField(
            help_text="`limit` minus `used`, never below 0."
        )
        reset = serializers.IntegerField(
            help_text="Seconds until the window's next edge (as `RateLimit-Reset`), "
            "the same for every caller."
        )

    class GroupSerializer(serializers.Serializer):
        name = serializers.CharField(
            help_text="The endpoint group (`default`, `auth`, `refresh`, `uploads`...)."
        )
        unlimited = serializers.BooleanField(
            help_text="No limit applies to the caller in this group (`windows` empty)."
        )

        def get_fields(self) -> dict[str, serializers.Field]:
            # A nested class cannot name its sibling in its body.
            fields = super().get_fields()
            fields["windows"] = MeQuotaApi.WindowSerializer(
                many=True,
                help_text="Each limit of the caller in this group, shortest first.",
            )
            return fields

    class OutputSerializer(serializers.Serializer):
        tier = serializers.ChoiceField(
            choices=[(tier, tier) for tier in TIERS],
            help_text="Whose limits apply: the caller's highest role, or `service` "
            "(a global API key).",
        )

        def get_fields(self) -> dict[str, serializers.Field]:
            # A nested class cannot name its sibling in its body.
            fields = super().get_fields()
            fields["groups"] = MeQuotaApi.GroupSerializer(
                many=True, help_text="Every configured endpoint group."
            )
            return fields

    @extend_schema(
        operation_id="getMyQuota",
        tags=["users"],
        summary="The caller's usage and limits per endpoint group",
        description=(
            "For each endpoint group, the caller's limits and how much of each is used, "
            "read without counting. Signed in, the user's, at their highest role "
            "(staff are unlimited by default); with an API key, that key's own: a key "
            "counts on its own and may carry its own hourly and daily quota in "
            "`default`. This request counts in `default` itself, like any route (so "
            "`used` includes it). With rate limits switched off every group is "
            "`unlimited`."
        ),
        responses={
            200: OutputSerializer,
            503: problem_response(
                "The counters cannot be read right now (the cache is unreachable).",
                problem_example(
                    "service_unavailable",
                    "Usage cannot be read right now: try again shortly.",
                ),
            ),
        },
        examples=[
            OpenApiExample("a user", value=QUOTA_EXAMPLE, response_only=True),
        ],
    )
    def get(self, request: Request) -> Response:
        return Response(asdict(quota_usage(caller_of(request))))
