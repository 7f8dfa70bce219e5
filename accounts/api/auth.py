"""``/api/v1/auth/``: registration, verification, login, tokens, sessions, passwords."""

from __future__ import annotations

import uuid

from django.conf import settings
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import (
    DetailSerializer,
    LoginResponseSerializer,
    TokenPairSerializer,
    UserEnvelopeSerializer,
)
from accounts.constants import RevokeReason
from accounts.selectors import iso_timestamp, sessions_live, user_profile
from accounts.services.audit import ClientInfo
from accounts.services.login import user_login
from accounts.services.password import (
    password_change,
    password_reset_confirm,
    password_reset_request,
)
from accounts.services.registration import (
    email_verification_resend,
    email_verify,
    user_register,
)
from accounts.services.sessions import (
    session_logout,
    session_refresh,
    session_revoke,
    sessions_revoke_all,
)
from accounts.tokens import SESSION_CLAIM
from config.api import NoStoreMixin
from config.openapi import problem_example, problem_response
from config.ratelimits import RateLimitHeadersMixin, enforce_rate_limit

TAGS = ["auth"]
INVALID_CREDENTIALS = problem_example(
    401, "Unauthorized", "invalid_credentials", "The login or password is incorrect."
)
TOKEN_INVALID = problem_example(
    401,
    "Unauthorized",
    "token_invalid",
    "The refresh token is invalid, expired or revoked.",
)
ACCEPTED = OpenApiResponse(
    DetailSerializer,
    description="Accepted. The same answer whether or not the address has an account.",
)


class PublicApi(RateLimitHeadersMixin, APIView):
    """An endpoint anyone may call; rate limited."""

    authentication_classes: list = []
    permission_classes = [AllowAny]


class RegisterApi(NoStoreMixin, PublicApi):
    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=64)
        email = serializers.EmailField(max_length=254)
        password = serializers.CharField(max_length=4096, trim_whitespace=False)
        display_name = serializers.CharField(
            max_length=64, required=False, allow_blank=True, default=""
        )

    @extend_schema(
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
                problem_example(
                    403, "Forbidden", "registration_closed", "Registration is closed."
                ),
            ),
        },
    )
    def post(self, request: Request) -> Response:
        enforce_rate_limit(request, "register_per_ip", key="ip")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_register(request=request, **data.validated_data)
        return Response({"user": user_profile(user)}, status=status.HTTP_201_CREATED)


class EmailVerifyApi(NoStoreMixin, PublicApi):
    class InputSerializer(serializers.Serializer):
        key = serializers.CharField(max_length=512)

    @extend_schema(
        tags=TAGS,
        summary="Verify an email address",
        request=InputSerializer,
        responses={
            200: UserEnvelopeSerializer,
            400: problem_response(
                "The key is wrong, used or expired (`invalid_key`), or missing.",
                problem_example(
                    400,
                    "Bad Request",
                    "invalid_key",
                    "This verification link is invalid, expired or already used.",
                ),
            ),
        },
    )
    def post(self, request: Request) -> Response:
        enforce_rate_limit(request, "email_per_ip", key="ip")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = email_verify(request=request, key=data.validated_data["key"])
        return Response({"user": user_profile(user)})


class EmailedLinkApi(PublicApi):
    """Takes an address and answers 202 whatever it is, so the answer tells nothing about
    which addresses have accounts; limited per address and per client."""

    link_kind: str
    answer: str

    class InputSerializer(serializers.Serializer):
        email = serializers.EmailField(max_length=254)

    def send_link(self, request: Request, email: str) -> None:
        raise NotImplementedError

    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        email = data.validated_data["email"].lower()
        enforce_rate_limit(request, "email_per_ip", key="ip")
        enforce_rate_limit(
            request, "email_per_address", key=f"{self.link_kind}:{email}"
        )
        self.send_link(request, email)
        return Response({"detail": self.answer}, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    post=extend_schema(
        tags=TAGS,
        summary="Send the verification email again",
        request=EmailedLinkApi.InputSerializer,
        responses={202: ACCEPTED},
    )
)
class EmailResendApi(EmailedLinkApi):
    link_kind = "verify"
    answer = "If this address awaits verification, a new link is on its way."

    def send_link(self, request: Request, email: str) -> None:
        email_verification_resend(request=request, email=email)


def _login_response(result) -> dict:
    return {
        "access": result.tokens.access,
        "refresh": result.tokens.refresh,
        "user": user_profile(result.user),
    }


class LoginApi(NoStoreMixin, PublicApi):
    class InputSerializer(serializers.Serializer):
        login = serializers.CharField(max_length=254, help_text="Username or email.")
        password = serializers.CharField(max_length=4096, trim_whitespace=False)

    @extend_schema(
        tags=TAGS,
        summary="Sign in with a username or email and a password",
        request=InputSerializer,
        responses={
            200: LoginResponseSerializer,
            401: problem_response("Wrong login or password.", INVALID_CREDENTIALS),
            403: problem_response(
                "Right password, but the account may not sign in.",
                problem_example(
                    403, "Forbidden", "account_inactive", "This account is deactivated."
                ),
                problem_example(
                    403,
                    "Forbidden",
                    "email_not_verified",
                    "Verify your email address first: follow the link we sent you.",
                ),
            ),
        },
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = user_login(request=request, **data.validated_data)
        return Response(_login_response(result))


class OAuth2TokenApi(NoStoreMixin, PublicApi):
    """The OAuth2 password grant, so Swagger UI's Authorize button can sign in."""

    parser_classes = [FormParser, JSONParser]

    class InputSerializer(serializers.Serializer):
        grant_type = serializers.ChoiceField(choices=["password"], required=False)
        username = serializers.CharField(max_length=254, help_text="Username or email.")
        password = serializers.CharField(max_length=4096, trim_whitespace=False)

    class OutputSerializer(serializers.Serializer):
        access_token = serializers.CharField()
        token_type = serializers.CharField(default="bearer")
        refresh_token = serializers.CharField()
        expires_in = serializers.IntegerField(
            help_text="Seconds the access token lives."
        )

    @extend_schema(
        tags=TAGS,
        summary="OAuth2 password grant (for Swagger UI)",
        request={"application/x-www-form-urlencoded": InputSerializer},
        responses={
            200: OutputSerializer,
            401: problem_response("Wrong login or password.", INVALID_CREDENTIALS),
        },
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = user_login(
            request=request,
            login=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        lifetime = settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"]
        return Response(
            {
                "access_token": result.tokens.access,
                "token_type": "bearer",
                "refresh_token": result.tokens.refresh,
                "expires_in": int(lifetime.total_seconds()),
            }
        )


class RefreshInputSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=4096)


class TokenRefreshApi(NoStoreMixin, PublicApi):
    @extend_schema(
        tags=TAGS,
        summary="Exchange a refresh token for a new pair",
        description=(
            "The refresh token is spent: the answer holds its successor. Presenting a spent "
            "refresh token again revokes its whole session."
        ),
        request=RefreshInputSerializer,
        responses={
            200: TokenPairSerializer,
            401: problem_response("Invalid, expired, spent or revoked.", TOKEN_INVALID),
        },
    )
    def post(self, request: Request) -> Response:
        enforce_rate_limit(request, "refresh_per_ip", key="ip")
        data = RefreshInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tokens = session_refresh(
            refresh_token=data.validated_data["refresh"],
            client=ClientInfo.from_request(request),
        )
        return Response({"access": tokens.access, "refresh": tokens.refresh})


class LogoutApi(APIView):
    """Reads no access token (it may have expired, or its session already ended): the
    refresh token is the credential, and whoever holds it controls that session anyway."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=TAGS,
        summary="Sign out this session",
        request=RefreshInputSerializer,
        responses={
            204: None,
            401: problem_response("The refresh token is invalid.", TOKEN_INVALID),
        },
    )
    def post(self, request: Request) -> Response:
        data = RefreshInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session_logout(
            refresh_token=data.validated_data["refresh"],
            client=ClientInfo.from_request(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=TAGS, summary="Sign out every session", request=None, responses={204: None}
    )
    def post(self, request: Request) -> Response:
        sessions_revoke_all(
            user=request.user,
            reason=RevokeReason.LOGOUT_ALL,
            client=ClientInfo.from_request(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeApi(RateLimitHeadersMixin, APIView):
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        current_password = serializers.CharField(max_length=4096, trim_whitespace=False)
        new_password = serializers.CharField(max_length=4096, trim_whitespace=False)

    @extend_schema(
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
    def post(self, request: Request) -> Response:
        enforce_rate_limit(
            request, "password_change_per_user", key=f"user:{request.user.pk}"
        )
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        password_change(
            request=request,
            user_id=request.user.pk,
            current_session_id=request.auth[SESSION_CLAIM],
            **data.validated_data,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    post=extend_schema(
        tags=TAGS,
        summary="Email a password reset link",
        request=EmailedLinkApi.InputSerializer,
        responses={202: ACCEPTED},
    )
)
class PasswordResetApi(EmailedLinkApi):
    link_kind = "reset"
    answer = "If this address has an account, a reset link is on its way."

    def send_link(self, request: Request, email: str) -> None:
        password_reset_request(request=request, email=email)


class PasswordResetConfirmApi(PublicApi):
    class InputSerializer(serializers.Serializer):
        token = serializers.CharField(max_length=512)
        new_password = serializers.CharField(max_length=4096, trim_whitespace=False)

    @extend_schema(
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
                    400,
                    "Bad Request",
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
        password_reset_confirm(request=request, **data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SessionOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(
        help_text="Updated when the session's tokens are refreshed."
    )
    ip = serializers.IPAddressField(allow_null=True)
    user_agent = serializers.CharField()
    current = serializers.BooleanField(
        help_text="This is the session making the request."
    )


class SessionListApi(NoStoreMixin, GenericAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = SessionOutputSerializer

    @extend_schema(
        tags=TAGS,
        summary="The caller's live sessions",
        responses=SessionOutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(sessions_live(user=request.user))
        current = str(request.auth[SESSION_CLAIM])
        return self.get_paginated_response(
            [
                {
                    "id": str(session.pk),
                    "created_at": iso_timestamp(session.created_at),
                    "last_used_at": iso_timestamp(session.last_used_at),
                    "ip": session.ip,
                    "user_agent": session.user_agent,
                    "current": str(session.pk) == current,
                }
                for session in page
            ]
        )


class SessionDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=TAGS,
        summary="Revoke one of the caller's sessions",
        description="Its access and refresh tokens stop working at once.",
        responses={204: None},
    )
    def delete(self, request: Request, session_id: uuid.UUID) -> Response:
        session_revoke(
            user=request.user,
            session_id=session_id,
            reason=RevokeReason.REVOKED,
            client=ClientInfo.from_request(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
