"""``/api/v1/users/``: the caller's own profile."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import UserProfileSerializer
from accounts.selectors import user_profile
from accounts.services.audit import ClientInfo
from accounts.services.profile import PROFILE_FIELDS, user_profile_update
from config.api import NoStoreMixin


class MeApi(NoStoreMixin, APIView):
    permission_classes = [IsAuthenticated]

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
        tags=["users"],
        summary="The caller's full profile",
        responses=UserProfileSerializer,
    )
    def get(self, request: Request) -> Response:
        return Response(user_profile(request.user))

    @extend_schema(
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
    def patch(self, request: Request) -> Response:
        data = self.UpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_profile_update(
            user_id=request.user.pk,
            changes=data.validated_data,
            client=ClientInfo.from_request(request),
        )
        return Response(user_profile(user))
