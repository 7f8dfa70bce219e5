"""Sign-up and email verification."""

from __future__ import annotations

from drf_spectacular.utils import (
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.auth.common import (
    TAGS,
    VERIFICATION_LINK_ANSWER,
    EmailedLinkApi,
    PublicApi,
    accepted,
)
from accounts.api.examples import (
    USER_ENVELOPE_EXAMPLE,
)
from accounts.api.serializers import (
    CanonicalEmailField,
    UserEnvelopeSerializer,
)
from accounts.selectors import user_profile
from accounts.services.registration import (
    email_verify,
    user_register,
)
from accounts.tasks import send_verification_again
from config.api import NoStoreMixin
from config.client import ClientInfo
from config.openapi import problem_example, problem_response
from config.ratelimits import enforce_rate_limit


class RegisterApi(NoStoreMixin, PublicApi):
    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=64)
        email = CanonicalEmailField(max_length=254)
        password = serializers.CharField(max_length=4096, trim_whitespace=False)
        display_name = serializers.CharField(
            max_length=64, required=False, allow_blank=True, default=""
        )

    @extend_schema(
        operation_id="register",
        examples=[USER_ENVELOPE_EXAMPLE],
        tags=TAGS,
        summary="Create an account",
        description=(
            "Creates the account and emails a verification link. An email address that "
            "already has an account gets the same answer, but no account is created and "
            "the address's owner is told by email."
        ),
        request=InputSerializer,
        responses={
            201: UserEnvelopeSerializer,
            403: problem_response(
                "Registration is closed.",
                problem_example("registration_closed", "Registration is closed."),
            ),
        },
    )
    def post(self, request: Request) -> Response:
        enforce_rate_limit(request, "register_per_ip", key="ip")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_register(
            client=ClientInfo.from_request(request), **data.validated_data
        )
        answer = UserEnvelopeSerializer(
            {"user": user_profile(user)}, context={"request": request}
        ).data
        return Response(answer, status=status.HTTP_201_CREATED)


class EmailVerifyApi(NoStoreMixin, PublicApi):
    class InputSerializer(serializers.Serializer):
        key = serializers.CharField(max_length=512)

    @extend_schema(
        operation_id="verifyEmail",
        examples=[USER_ENVELOPE_EXAMPLE],
        tags=TAGS,
        summary="Verify an email address",
        request=InputSerializer,
        responses={
            200: UserEnvelopeSerializer,
            400: problem_response(
                "The key is wrong, used or expired (`invalid_key`), or missing.",
                problem_example(
                    "invalid_key",
                    "This verification link is invalid, expired or already used.",
                ),
            ),
            409: problem_response(
                "The address was verified by another account meanwhile.",
                problem_example(
                    "conflict", "This address now belongs to another account."
                ),
            ),
        },
    )
    def post(self, request: Request) -> Response:
        enforce_rate_limit(request, "email_per_ip", key="ip")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = email_verify(
            key=data.validated_data["key"], client=ClientInfo.from_request(request)
        )
        return Response(
            UserEnvelopeSerializer(
                {"user": user_profile(user)}, context={"request": request}
            ).data
        )


@extend_schema_view(
    post=extend_schema(
        operation_id="resendVerification",
        tags=TAGS,
        summary="Send the verification email again",
        request=EmailedLinkApi.InputSerializer,
        responses={202: accepted(VERIFICATION_LINK_ANSWER)},
    )
)
class EmailResendApi(EmailedLinkApi):
    link_kind = "verify"
    answer = VERIFICATION_LINK_ANSWER

    def queue_link(self, *, email: str, client: ClientInfo) -> None:
        send_verification_again.delay(email=email)
