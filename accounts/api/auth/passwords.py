"""Password change and reset."""

from __future__ import annotations

from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.auth.common import (
    RESET_LINK_ANSWER,
    TAGS,
    EmailedLinkApi,
    PublicApi,
    accepted,
)
from accounts.api.confirmation import wrong_passwords_limited
from accounts.authentication import AuthenticatedRequest, session_id_of
from accounts.services.password import (
    password_change,
    password_reset_confirm,
)
from accounts.tasks import client_payload, send_password_reset
from config.client import ClientInfo
from config.openapi import problem_example, problem_response
from config.ratelimits import enforce_rate_limit


class PasswordChangeApi(APIView):
    revokes_sessions_on = frozenset({"POST"})  # 503 if the cache refuses
    permission_classes = [IsAuthenticated]
    rate_limit_group = "auth"  # limits.policy

    class InputSerializer(serializers.Serializer):
        current_password = serializers.CharField(max_length=4096, trim_whitespace=False)
        new_password = serializers.CharField(max_length=4096, trim_whitespace=False)

    @extend_schema(
        operation_id="changePassword",
        tags=TAGS,
        summary="Change the password",
        description="Every other session is signed out; a notification email is sent.",
        request=InputSerializer,
        responses={204: None},
        examples=[
            OpenApiExample(
                "wrong current password",
                value={
                    "type": "about:blank",
                    "title": "Bad Request",
                    "status": 400,
                    "code": "validation_error",
                    "detail": "The current password is incorrect.",
                    "errors": {
                        "current_password": ["The current password is incorrect."]
                    },
                },
                response_only=True,
                status_codes=["400"],
            )
        ],
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        enforce_rate_limit(
            request, "password_change_per_user", key=f"user:{request.user.pk}"
        )
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with wrong_passwords_limited(request):
            password_change(
                actor=request.user,
                current_session_id=session_id_of(request),
                client=ClientInfo.from_request(request),
                **data.validated_data,
            )
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    post=extend_schema(
        operation_id="requestPasswordReset",
        tags=TAGS,
        summary="Email a password reset link",
        request=EmailedLinkApi.InputSerializer,
        responses={202: accepted(RESET_LINK_ANSWER)},
    )
)
class PasswordResetApi(EmailedLinkApi):
    link_kind = "reset"
    answer = RESET_LINK_ANSWER

    def queue_link(self, *, email: str, client: ClientInfo) -> None:
        send_password_reset.delay(email=email, client=client_payload(client))


class PasswordResetConfirmApi(PublicApi):
    revokes_sessions_on = frozenset({"POST"})  # 503 if the cache refuses

    class InputSerializer(serializers.Serializer):
        token = serializers.CharField(max_length=512)
        new_password = serializers.CharField(max_length=4096, trim_whitespace=False)

    @extend_schema(
        operation_id="confirmPasswordReset",
        tags=TAGS,
        summary="Set a new password from a reset link",
        description="Every session of the account is signed out.",
        request=InputSerializer,
        responses={
            204: None,
            400: problem_response(
                "The token is invalid, expired or used (`invalid_token`), or the new "
                "password breaks a rule (`validation_error`).",
                problem_example(
                    "invalid_token",
                    "This password reset link is invalid, expired or already used.",
                ),
            ),
        },
    )
    def post(self, request: Request) -> Response:
        enforce_rate_limit(request, "email_per_ip", key="ip")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        password_reset_confirm(
            client=ClientInfo.from_request(request), **data.validated_data
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
