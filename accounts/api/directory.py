"""Other people's accounts: the staff list, a user's profile, blocking."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import cast

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import Action, acts_as_staff, target_for
from accounts.api.examples import (
    PROFILE_EXAMPLE,
    PUBLIC_PROFILE_EXAMPLE,
    STAFF_USER_EXAMPLE,
)
from accounts.authentication import AuthenticatedRequest
from accounts.models import User
from accounts.permissions import CanSeeProfile, IsStaffWithMfa, MayTake
from accounts.roles import Role
from accounts.selectors import (
    STAFF_ORDERINGS,
    StaffListedUser,
    user_profile,
    user_with_profile,
    users_for_staff,
)
from accounts.serializers import AvatarUrlField, UserProfileSerializer
from accounts.services.blocking import user_block, user_unblock
from accounts.services.deletion import user_delete
from accounts.services.moderation import (
    STAFF_CHANGES,
    staff_update_actions,
    user_update_by_staff,
)
from config.client import ClientInfo
from config.openapi import problem_example, problem_response
from config.pagination import CappedCountPagination
from config.paginator import COUNT_CAP


class StaffUserSerializer(UserProfileSerializer):
    """An account in the staff list: its full profile and its state."""

    is_active = serializers.BooleanField()
    is_banned = serializers.BooleanField()


class UserListApi(GenericAPIView):
    # What an API key needs for each method (apikeys.authentication); unlisted: no key.
    required_scopes = {"GET": ("users:read", "admin")}
    permission_classes = [IsStaffWithMfa]
    serializer_class = StaffUserSerializer
    # Millions of accounts: counted up to a cap, which the page says (count_capped).
    pagination_class = CappedCountPagination

    class FilterSerializer(serializers.Serializer):
        search = serializers.CharField(required=False, allow_blank=True, max_length=254)
        role = serializers.ChoiceField(
            choices=[role.value for role in Role], required=False
        )
        is_active = serializers.BooleanField(
            required=False, allow_null=True, default=None
        )
        is_banned = serializers.BooleanField(
            required=False, allow_null=True, default=None
        )
        ordering = serializers.ChoiceField(
            choices=[*STAFF_ORDERINGS, *(f"-{name}" for name in STAFF_ORDERINGS)],
            required=False,
            default="username",
        )

    @extend_schema(
        operation_id="listUsers",
        examples=[STAFF_USER_EXAMPLE],
        tags=["staff"],
        summary="Every account (staff)",
        description=(
            "`search` matches the start of the username or email, or any part of the display "
            "name; `role`, `is_active`, `is_banned` filter; `ordering` is one of "
            + ", ".join(f"`{name}`" for name in STAFF_ORDERINGS)
            + " (prefix `-` for descending). `count` is exact up to "
            + f"{COUNT_CAP:,} accounts; past that it stops there and `count_capped` is "
            "true."
        ),
        parameters=[FilterSerializer],
        responses={
            200: StaffUserSerializer(many=True),
            400: problem_response("A bad filter or `page_size`."),
        },
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        users = users_for_staff(**filters.validated_data)
        # The paginator takes any object with count_up_to() and slicing, as StaffUserList.
        page: list[StaffListedUser] | None = self.paginate_queryset(users)  # type: ignore[arg-type]
        rows = [
            {
                **user_profile(user),
                "is_active": user.is_active,
                "is_banned": user.banned,
            }
            for user in page or []
        ]
        return self.get_paginated_response(
            StaffUserSerializer(rows, many=True, context={"request": request}).data
        )


class PublicProfileSerializer(serializers.Serializer):
    """What anyone signed in sees of another account's profile."""

    # Renders a part of the full profile. No other key (additionalProperties: false,
    # config.openapi.AutoSchema), so that a client tells it from the full profile.
    closed = True

    id = serializers.UUIDField()
    username = serializers.CharField()
    display_name = serializers.CharField()
    avatar_url = AvatarUrlField()
    bio = serializers.CharField()


NOT_FOUND = problem_response(
    "No such user, or they blocked you.",
    problem_example("not_found", "No such user."),
)


class StaffUserUpdateSerializer(serializers.Serializer):
    """Profile fields and ``is_active``; any other field is refused."""

    display_name = serializers.CharField(max_length=64, required=False)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    bio = serializers.CharField(max_length=500, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    timezone = serializers.CharField(max_length=64, required=False)
    language = serializers.CharField(max_length=16, required=False)
    is_active = serializers.BooleanField(required=False)

    def validate(self, attrs: dict) -> dict:
        refused = sorted(set(self.initial_data) - STAFF_CHANGES)
        if refused:
            raise serializers.ValidationError(
                {field: ["This field cannot be changed here."] for field in refused}
            )
        return attrs


class UserDetailApi(APIView):
    # What an API key needs for each method (apikeys.authentication); unlisted: no key.
    required_scopes = {
        "GET": "users:read",
        "PATCH": ("users:write", "admin"),
        "DELETE": ("users:write", "admin"),
    }
    revokes_sessions_on = frozenset({"PATCH", "DELETE"})  # 503 if the cache refuses

    def get_permissions(self) -> list:
        if self.request.method == "PATCH":
            return [IsStaffWithMfa(), MayTake(Action.EDIT_PROFILE)]
        if self.request.method == "DELETE":
            return [IsStaffWithMfa(), MayTake(Action.ERASE)]
        return [IsAuthenticated(), CanSeeProfile()]

    def get_object(self, user_id: uuid.UUID) -> User:
        # A sign-up's stand-in (its address had an account) answers as the new account
        # would, or its id would tell; staff see only accounts that exist.
        user = user_with_profile(
            user_id,
            stand_ins=not acts_as_staff(cast(User, self.request.user)),
        )
        self.check_object_permissions(self.request, user)
        return user

    @extend_schema(
        operation_id="getUser",
        examples=[PROFILE_EXAMPLE, PUBLIC_PROFILE_EXAMPLE],
        tags=["users"],
        summary="A user's profile",
        description=(
            "Yourself or staff: the full profile. Anyone else: the public profile (`id`, "
            "`username`, `display_name`, `avatar_url`, `bio`); 404 when they blocked you. "
            "Staff signed in without their second factor see what anyone else sees."
        ),
        responses={
            200: PolymorphicProxySerializer(
                component_name="Profile",
                serializers=[UserProfileSerializer, PublicProfileSerializer],
                resource_type_field_name=None,
            ),
            404: NOT_FOUND,
        },
    )
    def get(self, request: AuthenticatedRequest, user_id: uuid.UUID) -> Response:
        user = self.get_object(user_id)
        # Staff in a session without a second factor see the public profile: their
        # powers are not in force (accounts.access.acts_as_staff).
        if user.pk == request.user.pk or acts_as_staff(request.user):
            return Response(
                UserProfileSerializer(
                    user_profile(user), context={"request": request}
                ).data
            )
        return Response(
            PublicProfileSerializer(
                user_profile(user), context={"request": request}
            ).data
        )

    @extend_schema(
        operation_id="updateUser",
        examples=[PROFILE_EXAMPLE],
        tags=["staff"],
        summary="Change an account's profile or active state (staff)",
        description=(
            "Deactivating ends every session at once. Who may change which account: "
            "the access table (README, Roles and bans)."
        ),
        request=StaffUserUpdateSerializer,
        responses={200: UserProfileSerializer, 404: NOT_FOUND},
    )
    def patch(self, request: AuthenticatedRequest, user_id: uuid.UUID) -> Response:
        fields = request.data.keys() if isinstance(request.data, Mapping) else ()
        target_for(request.user, staff_update_actions(fields), user_id)
        data = StaffUserUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_update_by_staff(
            actor=request.user,
            user_id=user_id,
            changes=dict(data.validated_data),
            client=ClientInfo.from_request(request),
        )
        return Response(
            UserProfileSerializer(user_profile(user), context={"request": request}).data
        )

    @extend_schema(
        operation_id="deleteUser",
        tags=["staff"],
        summary="Delete an account's personal data (staff: admin and up)",
        responses={204: None, 404: NOT_FOUND},
    )
    def delete(self, request: AuthenticatedRequest, user_id: uuid.UUID) -> Response:
        target_for(request.user, Action.ERASE, user_id)
        user_delete(
            user_id=user_id, actor=request.user, client=ClientInfo.from_request(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserBlockApi(APIView):
    # What an API key needs for each method (apikeys.authentication); unlisted: no key.
    required_scopes = {"POST": "users:write", "DELETE": "users:write"}
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="blockUser",
        tags=["users"],
        summary="Block a user",
        description=(
            "They can no longer see your profile or your avatar's metadata (404). Staff "
            "are never blocked. Blocking twice is fine, and so is blocking someone who "
            "blocked you; blocking yourself is a 400."
        ),
        request=None,
        responses={
            204: None,
            400: problem_response(
                "Yourself.",
                problem_example("validation_error", "You cannot block yourself."),
            ),
            404: problem_response(
                "No such user, or a deactivated one.",
                problem_example("not_found", "No such user."),
            ),
        },
    )
    def post(self, request: AuthenticatedRequest, user_id: uuid.UUID) -> Response:
        user_block(blocker=request.user, blocked=user_with_profile(user_id))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="unblockUser",
        tags=["users"],
        summary="Unblock a user",
        description="Idempotent: 204 whether or not they were blocked.",
        responses={204: None},
    )
    def delete(self, request: AuthenticatedRequest, user_id: uuid.UUID) -> Response:
        user_unblock(blocker=request.user, blocked_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
