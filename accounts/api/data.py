"""``/api/v1/users/me/export/`` and ``me/activity/``: the caller's own data and security
timeline."""

from __future__ import annotations

import copy
from functools import cache

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.activity import activity_item, user_activity
from accounts.api.examples import PROFILE
from accounts.authentication import AuthenticatedRequest
from accounts.constants import AuditKind
from accounts.user_data import UserData, user_data_registry, user_export
from config.api import NoStoreMixin
from config.openapi import problem_example, problem_response
from config.ratelimits import enforce_rate_limit

TAGS = ["users"]

EXPORT_EXAMPLE = {
    "exported_at": "2026-11-21T10:00:00Z",
    "profile": {**PROFILE, "is_active": True, "is_staff": False, "is_superuser": False},
    "email_addresses": [
        {"email": "ada@example.com", "verified": True, "primary": True}
    ],
    "sessions": [
        {
            "id": "5e0c8a4e-51b4-4c2f-a0c4-6f3c1e9b2d77",
            "created_at": "2026-11-21T09:58:12Z",
            "last_used_at": "2026-11-21T09:58:12Z",
            "expires_at": "2026-12-05T09:58:12Z",
            "ip": "203.0.113.5",
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
            "amr": ["pwd", "otp", "mfa"],
            "auth_time": "2026-11-21T09:58:12Z",
            "revoked_at": None,
            "revoke_reason": "",
        }
    ],
    "security_events": [
        {
            "id": "c7b6a1f2-3e4d-4f5a-8b9c-0d1e2f3a4b5c",
            "kind": "login.succeeded",
            "description": "Signed in",
            "ip": "203.0.113.5",
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
            "created_at": "2026-11-21T09:58:12Z",
            "payload": {"session": "5e0c8a4e-51b4-4c2f-a0c4-6f3c1e9b2d77"},
        }
    ],
    "password_history": {"count": 1, "set_at": ["2026-01-05T09:30:00Z"]},
}


@cache
def _document_serializer(
    registered: tuple[UserData, ...],
) -> type[serializers.Serializer]:
    """The export's response serializer, one field per registered section, so the schema
    shows the sections of the apps installed; built once per registry content (two
    classes of one name would be two conflicting schema components)."""
    fields = {
        "exported_at": serializers.DateTimeField(),
        **{exporter.section: copy.deepcopy(exporter.schema) for exporter in registered},
    }
    serializer = type("OutputSerializer", (serializers.Serializer,), fields)
    serializer.__qualname__ = "MeExportApi.OutputSerializer"  # component MeExportOutput
    serializer.__module__ = __name__
    return serializer


class MeExportApi(NoStoreMixin, GenericAPIView):
    # What an API key needs for each method (apikeys.authentication); unlisted: no key.
    required_scopes = {"GET": "users:read"}
    permission_classes = [IsAuthenticated]
    serves_attachment = True  # the schema declares its Content-Disposition header

    def get_serializer_class(self) -> type[serializers.Serializer]:
        # Only the schema asks: accounts.user_data renders each section with the
        # serializer that documents it, and this one is made of those.
        return _document_serializer(tuple(user_data_registry))

    @extend_schema(
        operation_id="exportMe",
        tags=TAGS,
        summary="Download every datum held about the caller",
        description=(
            "One JSON document, served as an attachment "
            '(`Content-Disposition: attachment; filename="gatehouse-export-'
            '<username>-<YYYY-MM-DD>.json"`): the profile and account state, email '
            "addresses, every stored session (revoked ones included), the security "
            "events the caller is the subject or the author of, the dates of the "
            "remembered passwords, and the changes staff made to the account or its "
            "rows in the admin (what changed, not who). Other apps add a section per "
            "kind of data they store (API keys, files, notifications, bans...) once "
            "they store it; until then the section is absent, and once it exists it is "
            "always present, empty or not. No secret (password hash, token, key) is "
            "ever part of it."
        ),
        examples=[
            OpenApiExample("export", value=EXPORT_EXAMPLE, response_only=True),
        ],
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        enforce_rate_limit(request, "export_per_user", key=f"user:{request.user.pk}")
        document = user_export(user=request.user, context={"request": request})
        response = Response(document)
        date = document["exported_at"][:10]
        filename = f"gatehouse-export-{request.user.username}-{date}.json"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class MeActivityApi(NoStoreMixin, GenericAPIView):
    # What an API key needs for each method (apikeys.authentication); unlisted: no key.
    required_scopes = {"GET": "users:read"}
    permission_classes = [IsAuthenticated]

    class FilterSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(
            choices=AuditKind.choices,
            required=False,
            help_text="Only events of this kind.",
        )

    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        kind = serializers.ChoiceField(
            choices=AuditKind.choices,
            help_text="The event kind, e.g. `login.succeeded`, `login.failed`.",
        )
        description = serializers.CharField(help_text="A sentence to show people.")
        ip = serializers.IPAddressField(
            allow_null=True,
            help_text="Where the event came from; empty when someone else (staff) acted.",
        )
        user_agent = serializers.CharField()
        created_at = serializers.DateTimeField()

    serializer_class = OutputSerializer

    @extend_schema(
        operation_id="listMyActivity",
        tags=TAGS,
        summary="The caller's security events, newest first",
        description=(
            "Sign-ins and failed attempts, sign-outs, password, email and profile "
            "changes: every audit event about the caller's account."
        ),
        parameters=[FilterSerializer],
        responses={
            200: OutputSerializer(many=True),
            400: problem_response(
                "An unknown `kind`, or a `page_size` that is not a positive whole number.",
                problem_example(
                    "validation_error",
                    '"login.nope" is not a valid choice.',
                    errors={"kind": ['"login.nope" is not a valid choice.']},
                ),
            ),
        },
        examples=[
            # One item each: drf-spectacular wraps them in a page.
            OpenApiExample(
                "signed out everywhere",
                value={
                    "id": "9f1d2c3b-4a5e-4f60-8172-93a4b5c6d7e8",
                    "kind": "session.revoked_all",
                    "description": "Signed out everywhere (3 sessions)",
                    "ip": "203.0.113.5",
                    "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
                    "created_at": "2026-11-21T10:00:00Z",
                },
                response_only=True,
            ),
            OpenApiExample(
                "failed attempt",
                value={
                    "id": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
                    "kind": "login.failed",
                    "description": "Failed sign-in attempt",
                    "ip": "198.51.100.23",
                    "user_agent": "python-requests/2.32",
                    "created_at": "2026-11-21T09:41:07Z",
                },
                response_only=True,
            ),
        ],
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        events = user_activity(
            user=request.user, kind=filters.validated_data.get("kind")
        )
        page = self.paginate_queryset(events)
        items = [activity_item(event, user=request.user) for event in page or []]
        return self.get_paginated_response(self.OutputSerializer(items, many=True).data)
