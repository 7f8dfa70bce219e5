"""Staff actions on an account: ban, unban, roles (``/api/v1/users/{id}/…``)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import Action, target_for
from accounts.api.examples import (
    BAN_EXAMPLE,
    PROFILE_EXAMPLE,
)
from accounts.authentication import AuthenticatedRequest
from accounts.permissions import IsStaffWithMfa, MayTake
from accounts.roles import Role
from accounts.selectors import user_profile
from accounts.serializers import UserProfileSerializer
from accounts.services.moderation import roles_set, user_ban, user_unban
from config.client import ClientInfo
from config.openapi import problem_example, problem_response

TAGS = ["staff"]
MAX_BAN_SECONDS = 100 * 365 * 24 * 3600


class BanOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    user = serializers.UUIDField(source="user_id")
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    until = serializers.DateTimeField(allow_null=True, help_text="null: permanent.")


class StaffApi(APIView):
    """A staff action on the account ``user_id``, by ``accounts.access``: 403 when the
    caller's role cannot take it at all, 404 when there is no such account, 403 when they
    may not act on this one. ``actions`` maps each HTTP method to its action."""

    actions: dict[str, Action]
    request: AuthenticatedRequest  # IsStaffWithMfa lets only signed-in staff through

    def get_permissions(self) -> list:
        action = self.actions.get(self.request.method or "")
        return [IsStaffWithMfa(), *([MayTake(action)] if action else [])]

    def get_object(self, user_id: uuid.UUID) -> uuid.UUID:
        action = self.actions[self.request.method or ""]
        return target_for(self.request.user, action, user_id).pk


class UserBanApi(StaffApi):
    # What an API key needs for each method (apikeys.authentication); unlisted: no key.
    required_scopes = {
        "POST": ("users:write", "admin"),
        "DELETE": ("users:write", "admin"),
    }
    revokes_sessions_on = frozenset({"POST"})  # 503 if the cache refuses
    actions = {"POST": Action.BAN, "DELETE": Action.UNBAN}

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=500)
        until = serializers.DateTimeField(required=False)
        duration = serializers.IntegerField(
            required=False, min_value=1, max_value=MAX_BAN_SECONDS, help_text="Seconds."
        )

        def validate(self, attrs: dict) -> dict:
            if "until" in attrs and "duration" in attrs:
                raise serializers.ValidationError(
                    {"duration": ["Give `until` or `duration`, not both."]}
                )
            if "duration" in attrs:
                attrs["until"] = timezone.now() + timedelta(
                    seconds=attrs.pop("duration")
                )
            return attrs

    @extend_schema(
        operation_id="banUser",
        examples=[BAN_EXAMPLE],
        tags=TAGS,
        summary="Ban a user",
        description=(
            "Until `until`, for `duration` seconds, or for good (neither). Moderators ban "
            "users and testers; admins anyone below superadmin; nobody bans themselves. "
            "The user's tokens stop working at once; they are emailed. A ban in force "
            "that ends earlier is replaced; one that ends as late or later is kept, and "
            "the answer is that ban (shorten a ban by lifting it first)."
        ),
        request=InputSerializer,
        responses={200: BanOutputSerializer},
    )
    def post(self, request: AuthenticatedRequest, user_id: uuid.UUID) -> Response:
        user_id = self.get_object(user_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        placement = user_ban(
            user_id=user_id,
            actor=request.user,
            reason=data.validated_data["reason"],
            until=data.validated_data.get("until"),
            client=ClientInfo.from_request(request),
        )
        return Response(BanOutputSerializer(placement.ban).data)

    @extend_schema(
        operation_id="unbanUser",
        tags=TAGS,
        summary="Lift a user's ban",
        responses={
            204: None,
            404: problem_response(
                "No such user, or not banned.",
                problem_example("not_found", "This account is not banned."),
            ),
        },
    )
    def delete(self, request: AuthenticatedRequest, user_id: uuid.UUID) -> Response:
        user_unban(
            user_id=self.get_object(user_id),
            actor=request.user,
            client=ClientInfo.from_request(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserRolesApi(StaffApi):
    # A superadmin may set anyone's roles, another superadmin's and their own included
    # (the service keeps the last superadmin).
    actions = {"PUT": Action.SET_ROLES}

    class InputSerializer(serializers.Serializer):
        roles = serializers.ListField(
            child=serializers.ChoiceField(choices=[role.value for role in Role]),
            allow_empty=True,
        )

    @extend_schema(
        operation_id="setUserRoles",
        examples=[
            OpenApiExample(
                "make a moderator",
                value={"roles": ["user", "moderator"]},
                request_only=True,
            ),
            PROFILE_EXAMPLE,
        ],
        tags=TAGS,
        summary="Set a user's roles (superadmin)",
        description="Nobody grants a role above their own; the last superadmin stays one.",
        request=InputSerializer,
        responses={
            200: UserProfileSerializer,
            409: problem_response(
                "The last superadmin.",
                problem_example("conflict", "This is the last superadmin."),
            ),
        },
    )
    def put(self, request: AuthenticatedRequest, user_id: uuid.UUID) -> Response:
        user_id = self.get_object(user_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = roles_set(
            user_id=user_id,
            actor=request.user,
            roles=data.validated_data["roles"],
            client=ClientInfo.from_request(request),
        )
        return Response(
            UserProfileSerializer(user_profile(user), context={"request": request}).data
        )
