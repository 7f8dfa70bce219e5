"""``/api/v1/users/``: the caller's own profile."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.confirmation import wrong_passwords_limited
from accounts.api.examples import (
    PROFILE_EXAMPLE,
    accepted_example,
)
from accounts.api.serializers import (
    AcceptedSerializer,
    CanonicalEmailField,
    PasswordConfirmationSerializer,
    UserProfileSerializer,
)
from accounts.authentication import AuthenticatedRequest
from accounts.selectors import user_profile
from accounts.services.deletion import user_delete_own
from accounts.services.profile import (
    PROFILE_FIELDS,
    email_change_request,
    user_profile_update,
)
from config.api import NoStoreMixin
from config.client import ClientInfo
from config.openapi import WRONG_PASSWORD
from config.ratelimits import enforce_rate_limit

EMAIL_CHANGE_ANSWER = "Follow the link sent to the new address to confirm the change."


class MeApi(NoStoreMixin, APIView):
    # What an API key needs for each method (apikeys.authentication); unlisted: no key.
    required_scopes = {"GET": "users:read", "PATCH": "users:write"}
    revokes_sessions_on = frozenset({"DELETE"})  # 503 if the cache refuses
    permission_classes = [IsAuthenticated]
    delete_takes_body = True  # the password confirming the deletion

    class UpdateSerializer(serializers.Serializer):
        """Profile fields; any other field in the body is refused with a field error."""

        display_name = serializers.CharField(max_length=64, required=False)
        first_name = serializers.CharField(
            max_length=150, required=False, allow_blank=True
        )
        last_name = serializers.CharField(
            max_length=150, required=False, allow_blank=True
        )
        bio = serializers.CharField(max_length=500, required=False, allow_blank=True)
        phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
        timezone = serializers.CharField(max_length=64, required=False)
        language = serializers.CharField(max_length=16, required=False)

        def validate(self, attrs: dict) -> dict:
            refused = sorted(set(self.initial_data) - PROFILE_FIELDS)
            if refused:
                raise serializers.ValidationError(
                    {field: ["This field cannot be changed here."] for field in refused}
                )
            return attrs

    @extend_schema(
        operation_id="getMe",
        examples=[PROFILE_EXAMPLE],
        tags=["users"],
        summary="The caller's full profile",
        responses=UserProfileSerializer,
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        # The hottest authenticated path: the selector's values go to the JSON renderer
        # as they are (UUID, datetimes), which renders them as UserProfileSerializer
        # would; tests/config/test_response_shapes.py holds the answer to the schema.
        profile = user_profile(request.user)
        if profile["avatar_url"] is not None:
            profile["avatar_url"] = request.build_absolute_uri(profile["avatar_url"])
        return Response(profile)

    @extend_schema(
        operation_id="updateMe",
        examples=[PROFILE_EXAMPLE],
        tags=["users"],
        summary="Change profile fields",
        description=(
            "Writable: `display_name`, `first_name`, `last_name`, `bio`, `phone`, `timezone`, "
            "`language`. `username`, `email`, `roles` and every other field are refused with a "
            "field error (the email changes through `me/email/`)."
        ),
        request=UpdateSerializer,
        responses=UserProfileSerializer,
    )
    def patch(self, request: AuthenticatedRequest) -> Response:
        data = self.UpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_profile_update(
            user_id=request.user.pk,
            changes=data.validated_data,
            client=ClientInfo.from_request(request),
        )
        return Response(
            UserProfileSerializer(user_profile(user), context={"request": request}).data
        )

    @extend_schema(
        operation_id="deleteMe",
        tags=["users"],
        summary="Delete the account",
        description=(
            "Needs the current password. Personal data is erased (the account stays as an "
            "anonymous row for the audit log), every session ends at once, the username and "
            "email are free again, and the owner is told by email."
        ),
        request=PasswordConfirmationSerializer,
        responses={204: None},
        examples=[WRONG_PASSWORD],
    )
    def delete(self, request: AuthenticatedRequest) -> Response:
        enforce_rate_limit(
            request, "account_deletion_per_user", key=f"user:{request.user.pk}"
        )
        data = PasswordConfirmationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with wrong_passwords_limited(request):
            user_delete_own(
                actor=request.user,
                password=data.validated_data["password"],
                client=ClientInfo.from_request(request),
            )
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeEmailChangeApi(APIView):
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        new_email = CanonicalEmailField(max_length=254)
        password = serializers.CharField(max_length=4096, trim_whitespace=False)

    @extend_schema(
        operation_id="changeEmail",
        tags=["users"],
        summary="Change the email address",
        description=(
            "Needs the current password. A verification link goes to the new address; the "
            "account's email changes only when it is followed (`auth/email/verify/`), and the "
            "old address is then told, with a way to report it. The answer is 202 whether or "
            "not the new address is free (if another account has it, its owner is told)."
        ),
        request=InputSerializer,
        responses={202: AcceptedSerializer},
        examples=[accepted_example(EMAIL_CHANGE_ANSWER), WRONG_PASSWORD],
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        enforce_rate_limit(
            request, "email_change_per_user", key=f"user:{request.user.pk}"
        )
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with wrong_passwords_limited(request):
            email_change_request(
                actor=request.user,
                client=ClientInfo.from_request(request),
                **data.validated_data,
            )
        answer = {"detail": EMAIL_CHANGE_ANSWER}
        return Response(
            AcceptedSerializer(answer).data, status=status.HTTP_202_ACCEPTED
        )
