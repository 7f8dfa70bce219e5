"""``/api/v1/flags/``: the caller's flags (anyone), and the staff's list and changes.

A flag's name may hold ``:`` and ``/`` (an endpoint's flag: ``api:users/{user_id}/ban/``),
so ``PATCH flags/{name}/`` takes the rest of the path as the name (a ``path``
converter): ``flags/api:auth/login//`` is the flag ``api:auth/login/``. Clients encode
the name as a URI component (``encodeURIComponent``: ``api%3Aauth%2Flogin%2F``); the
server decodes it before routing, so ``%2F`` and ``/`` both work.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.access import Action
from accounts.authentication import AuthenticatedRequest
from accounts.constants import Role
from accounts.permissions import IsStaffWithMfa, MayTake
from config.client import ClientInfo
from config.openapi import problem_example, problem_response
from flags.evaluation import flags_for
from flags.models import Flag, FlagChange
from flags.selectors import flag_get, flag_list
from flags.services import NOTE_MAX_LENGTH, flag_not_found, flag_update

TAGS = ["flags"]

FLAGS_EXAMPLE = OpenApiExample(
    "flags",
    value={
        "flags": {"new_editor": True, "api:auth/login/": True, "beta_search": False}
    },
    response_only=True,
    status_codes=["200"],
)
FLAG_EXAMPLE_VALUE: dict[str, Any] = {
    "name": "new_editor",
    "everyone": None,
    "percent": 30.0,
    "roles": ["admin", "tester"],
    "users": ["0b8f1e9c-5a57-4d0c-9f0e-3b5d3f8f2a61"],
    "note": "Rolling out the new editor: 30 % of users, plus admins and testers.",
    "updated_at": "2026-11-21T10:00:00Z",
    "is_endpoint": False,
}
FLAG_EXAMPLE = OpenApiExample(
    "flag", value=FLAG_EXAMPLE_VALUE, response_only=True, status_codes=["200"]
)
CHANGE_EXAMPLE = OpenApiExample(
    "30 % plus admins and testers",
    value={"everyone": None, "percent": 30, "roles": ["admin", "tester"]},
    request_only=True,
)
SWITCH_OFF_EXAMPLE = OpenApiExample(
    "off for everyone", value={"everyone": False}, request_only=True
)
NAME_HELP = (
    "The flag's name, encoded as a URI component (`api:auth/login/` -> "
    "`api%3Aauth%2Flogin%2F`; `/` may also be sent as it is): the path after "
    "`flags/` up to its last `/` is the name."
)
ROLE_CHOICES = [role.value for role in Role]


class FlagsOutputSerializer(serializers.Serializer):
    flags = serializers.DictField(
        child=serializers.BooleanField(),
        help_text="Every flag's name -> whether it is on for the caller.",
    )


class FlagOutputSerializer(serializers.Serializer):
    """A flag's rules, as staff see and change them."""

    name = serializers.CharField()
    everyone = serializers.BooleanField(
        allow_null=True,
        help_text="true: on for all; false: off for all; null: decided by the other "
        "rules (on for a caller any of them names).",
    )
    percent = serializers.FloatField(
        allow_null=True,
        help_text="On for this share (0-100, one decimal) of signed-in users, always "
        "the same ones; never for anonymous callers.",
    )
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=ROLE_CHOICES),
        help_text="On for users with any of these roles (a superuser is `superadmin`).",
    )
    users = serializers.ListField(
        child=serializers.UUIDField(), help_text="On for these users (ids)."
    )
    note = serializers.CharField(allow_blank=True)
    updated_at = serializers.DateTimeField(
        help_text="When a person last changed a rule or the note."
    )
    is_endpoint = serializers.BooleanField(
        help_text="Read-only: the flag of an API route (`api:<path>`); off, the route "
        "answers as an unknown one. It cannot be deleted."
    )

    def to_representation(self, flag: Flag) -> dict[str, Any]:
        # From the selector's prefetched groups and users: no query per flag.
        return {
            "name": flag.name,
            "everyone": flag.everyone,
            "percent": None if flag.percent is None else float(flag.percent),
            "roles": sorted(group.name for group in flag.groups.all()),
            "users": sorted(str(user.pk) for user in flag.users.all()),
            "note": flag.note,
            "updated_at": serializers.DateTimeField().to_representation(flag.modified),
            "is_endpoint": flag.is_endpoint,
        }


class FlagListApi(GenericAPIView):
    """The caller's flags (``GET flags/``)."""

    required_scopes = {"GET": "flags:read"}
    permission_classes = [AllowAny]
    pagination_class = None

    @extend_schema(
        operation_id="listMyFlags",
        tags=TAGS,
        summary="Every flag, on or off for the caller",
        description=(
            "Each flag evaluated for the caller: signed in (a bearer token, or an API "
            "key with `flags:read`), by its user, roles and share; without "
            "credentials, as an anonymous caller (only flags on for everyone are on). "
            "Endpoint flags (`api:<path>`) are listed too. The answer depends on the "
            "credentials (`Vary: Authorization, X-API-Key`) and may change at any "
            "moment (`Cache-Control: private, no-cache`)."
        ),
        responses={
            200: FlagsOutputSerializer,
            # Public, yet credentials that are sent are checked.
            401: problem_response(
                "Credentials were sent but are invalid, expired or revoked (send "
                "none to be evaluated as an anonymous caller).",
                problem_example("token_invalid", "Token is invalid or expired"),
            ),
            403: problem_response(
                "An API key without `flags:read`, or a global key.",
                problem_example("insufficient_scope"),
            ),
        },
        examples=[FLAGS_EXAMPLE],
    )
    def get(self, request: Request) -> Response:
        response = Response({"flags": flags_for(request.user)})
        # Per caller: no shared cache keeps it; a browser asks again every time, so
        # a switched flag shows on the next request. Not no-store: the answer holds no
        # secret, and no-cache lets a browser keep it for its back button.
        response["Cache-Control"] = "private, no-cache"
        response["Vary"] = "Authorization, X-API-Key"
        return response


class StaffFlagApi(GenericAPIView):
    """Staff who may change flags (``accounts.access``: moderator and up, in a session
    that passed a second factor): checked before anything is looked up."""

    request: AuthenticatedRequest

    def get_permissions(self) -> list[BasePermission]:
        return [IsStaffWithMfa(), MayTake(Action.CHANGE_FLAGS)]


class FlagAllApi(StaffFlagApi):
    required_scopes = {
        "GET": ("flags:read", "admin"),
        "PATCH": ("flags:write", "admin"),
    }
    serializer_class = FlagOutputSerializer

    class FilterSerializer(serializers.Serializer):
        search = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=100,
            help_text="Any part of the name, case-insensitive.",
        )

    @extend_schema(
        operation_id="listFlags",
        tags=TAGS,
        summary="Every flag's rules (staff)",
        description="Ordered by name; `search` matches any part of the name.",
        parameters=[FilterSerializer],
        responses={
            200: FlagOutputSerializer(many=True),
            400: problem_response("A bad `search` or `page_size`."),
        },
        examples=[FLAG_EXAMPLE],
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        flags = flag_list(
            actor=request.user, search=filters.validated_data.get("search", "")
        )
        page = self.paginate_queryset(flags)
        return self.get_paginated_response(FlagOutputSerializer(page, many=True).data)

    @extend_schema(exclude=True)
    def patch(self, request: AuthenticatedRequest) -> Response:
        """``PATCH flags/all/`` is the flag named ``all`` (this route shadows it)."""
        return FlagDetailApi.change(request, name="all")


class FlagDetailApi(StaffFlagApi):
    required_scopes = {"PATCH": ("flags:write", "admin")}

    class InputSerializer(serializers.Serializer):
        # Any other key is refused (400): additionalProperties false in the schema.
        closed = True

        everyone = serializers.BooleanField(
            required=False,
            allow_null=True,
            help_text="true: on for all; false: off for all; null: the other rules.",
        )
        percent = serializers.DecimalField(
            required=False,
            allow_null=True,
            max_digits=4,
            decimal_places=1,
            min_value=0,
            max_value=100,
            coerce_to_string=False,
            help_text="0-100, one decimal; null: no share.",
        )
        roles = serializers.ListField(
            required=False,
            child=serializers.ChoiceField(choices=ROLE_CHOICES),
            help_text="Replaces the list.",
        )
        users = serializers.ListField(
            required=False,
            child=serializers.UUIDField(),
            help_text="User ids; replaces the list.",
        )
        note = serializers.CharField(
            required=False, allow_blank=True, max_length=NOTE_MAX_LENGTH
        )

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            unknown = sorted(set(self.initial_data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {field: ["Not a rule of a flag."] for field in unknown}
                )
            return attrs

    @extend_schema(
        operation_id="updateFlag",
        tags=TAGS,
        summary="Change a flag's rules (staff)",
        description=(
            "Any of `everyone`, `percent`, `roles`, `users` (lists replace the old "
            "ones) and `note`; the answer is the flag. Takes effect for every worker "
            "within a second. Recorded in the flag's history and the audit log.\n\n"
            "The name: " + NAME_HELP
        ),
        parameters=[
            OpenApiParameter("name", str, OpenApiParameter.PATH, description=NAME_HELP)
        ],
        request=InputSerializer,
        responses={
            200: FlagOutputSerializer,
            404: problem_response(
                "No such flag.", problem_example("not_found", "No such flag.")
            ),
            503: problem_response(
                "The cache refused the change's new version, which every worker "
                "reads: nothing changed, try again.",
                problem_example(
                    "service_unavailable",
                    "Flags cannot be changed right now: nothing changed, try again "
                    "shortly.",
                    request_id="a1b2c3d4e5f6",
                ),
            ),
        },
        examples=[CHANGE_EXAMPLE, SWITCH_OFF_EXAMPLE, FLAG_EXAMPLE],
    )
    def patch(self, request: AuthenticatedRequest, name: str) -> Response:
        return self.change(request, name=name)

    @classmethod
    def change(cls, request: AuthenticatedRequest, *, name: str) -> Response:
        data = cls.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if "\x00" in name:
            # No flag has one, and PostgreSQL refuses it in a query (a 500).
            raise flag_not_found()
        flag_update(
            name=name,
            changes=data.validated_data,
            actor=request.user,
            client=ClientInfo.from_request(request),
            source=FlagChange.Source.API,
        )
        return Response(
            FlagOutputSerializer(flag_get(actor=request.user, name=name)).data
        )
