"""Login, the OAuth2 password grant, token refresh and logout."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.auth.common import (
    ACCOUNT_BANNED,
    ACCOUNT_INACTIVE,
    EMAIL_NOT_VERIFIED,
    INVALID_CREDENTIALS,
    TAGS,
    TOKEN_INVALID,
    PublicApi,
)
from accounts.api.examples import (
    MFA_CHALLENGE_EXAMPLE,
    OAUTH2_TOKEN_EXAMPLE,
    SIGNED_IN_EXAMPLE,
    TOKEN_PAIR_EXAMPLE,
)
from accounts.api.serializers import (
    LoginResponseSerializer,
    TokenPairSerializer,
)
from accounts.authentication import AuthenticatedRequest
from accounts.constants import MfaMethod, RevokeReason
from accounts.devices import device_lockout_key, device_token_issue
from accounts.selectors import user_by_login, user_profile
from accounts.services.login import (
    InvalidCredentials,
    LoginResult,
    MfaChallenge,
    lockout_key,
    login_failure_record,
    user_login,
)
from accounts.services.sessions import (
    session_logout,
    session_refresh,
    sessions_revoke_all,
)
from config.api import NoStoreMixin
from config.client import ClientInfo
from config.errors import ApplicationError
from config.openapi import ConstantField, problem_example, problem_response
from config.parsers import JSONParser
from config.ratelimits import (
    LoginFailures,
    enforce_rate_limit,
    enforce_sliding_limit,
    reset_login_failures,
)


def password_login(
    request: Request, *, login: str, password: str, device_token: str | None = None
) -> LoginResult | MfaChallenge:
    """``user_login`` inside the lockout: the counters are read, and the attempt counted,
    before the password is checked (``429`` at the limit, whatever the password); a
    failure stays counted, and is audited, whether or not the name matched an account.

    With the account's device token, the device's own counter stands in for the
    account's (``accounts.devices``); the client's counters apply either way. A right
    password is counted too, per account and per client (``logins_per_*``): past those
    limits the session it opened is rolled back and the answer is ``429``. A login that
    ends here (no second factor) resets the failure counts of the account and device."""
    client = ClientInfo.from_request(request)
    user = user_by_login(login)
    key = lockout_key(login, user)
    device_key = device_lockout_key(device_token, user)
    failures = LoginFailures(request, device_key or key)
    failures.begin()
    try:
        with transaction.atomic():
            result = user_login(user=user, password=password, client=client)
            enforce_sliding_limit(request, "logins_per_account", key=key)
            enforce_sliding_limit(request, "logins_per_ip", key="ip")
    except InvalidCredentials:
        login_failure_record(
            user=user,
            client=client,
            locked_after=failures.failed(),
            from_device=device_key is not None,
        )
        raise
    except ApplicationError:  # the right password, for an account that may not sign in
        failures.succeeded()
        raise
    failures.succeeded()
    if isinstance(result, LoginResult):
        reset_login_failures(request, key, device_key)
    return result


def login_response(
    result: LoginResult | MfaChallenge, request: Request
) -> dict[str, Any]:
    """The tokens, the profile and a new device token, or, for an account with a second
    factor, the challenge."""
    if isinstance(result, MfaChallenge):
        return MfaChallengeSerializer(
            {
                "mfa_required": True,
                "mfa_token": result.mfa_token,
                "methods": result.methods,
            }
        ).data
    return LoginResponseSerializer(
        {
            "access": result.tokens.access,
            "refresh": result.tokens.refresh,
            "user": user_profile(result.user),
            "device_token": device_token_issue(result.user),
        },
        context={"request": request},
    ).data


class MfaChallengeSerializer(serializers.Serializer):
    """The account has a second factor: finish with ``login/mfa/``."""

    mfa_required = ConstantField(True, help_text="Always `true` in the challenge.")
    mfa_token = serializers.CharField(
        help_text="Good only for `login/mfa/`, for 5 minutes and 5 wrong codes."
    )
    methods = serializers.ListField(
        child=serializers.ChoiceField(choices=MfaMethod.choices)
    )


class LoginApi(NoStoreMixin, PublicApi):
    revokes_sessions_on = frozenset({"POST"})  # 503 if the cache refuses

    class InputSerializer(serializers.Serializer):
        login = serializers.CharField(max_length=254, help_text="Username or email.")
        password = serializers.CharField(max_length=4096, trim_whitespace=False)
        device_token = serializers.CharField(
            max_length=1024,
            required=False,
            help_text=(
                "The `device_token` of an earlier login on this device: its failures "
                "are counted apart, so others' failures do not lock it out. An invalid "
                "or expired one is ignored."
            ),
        )

    @extend_schema(
        operation_id="login",
        examples=[SIGNED_IN_EXAMPLE, MFA_CHALLENGE_EXAMPLE],
        tags=TAGS,
        summary="Sign in with a username or email and a password",
        description=(
            "Answers the tokens and the profile (`mfa_required: false`) or, for an "
            "account with a second factor, a challenge (`mfa_required: true`) to finish "
            "with `login/mfa/`. Repeated failures lock the account and the client out "
            "for a while (`429` with `Retry-After`), whatever the password, except on "
            "a device that presents its `device_token`, which is locked out only by "
            "its own failures."
        ),
        request=InputSerializer,
        responses={
            200: PolymorphicProxySerializer(
                component_name="LoginOutcome",
                serializers=[LoginResponseSerializer, MfaChallengeSerializer],
                resource_type_field_name=None,
            ),
            401: problem_response("Wrong login or password.", INVALID_CREDENTIALS),
            403: problem_response(
                "Right password, but the account may not sign in.",
                ACCOUNT_BANNED,
                ACCOUNT_INACTIVE,
                EMAIL_NOT_VERIFIED,
            ),
        },
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = password_login(request, **data.validated_data)
        return Response(login_response(result, request))


class OAuth2TokenApi(NoStoreMixin, PublicApi):
    """The OAuth2 password grant, so Swagger UI's Authorize button can sign in."""

    revokes_sessions_on = frozenset({"POST"})  # 503 if the cache refuses

    parser_classes = [FormParser, JSONParser]

    class InputSerializer(serializers.Serializer):
        grant_type = serializers.ChoiceField(choices=["password"], required=False)
        username = serializers.CharField(max_length=254, help_text="Username or email.")
        password = serializers.CharField(max_length=4096, trim_whitespace=False)

    class OutputSerializer(serializers.Serializer):
        access_token = serializers.CharField()
        token_type = ConstantField("bearer")
        refresh_token = serializers.CharField()
        expires_in = serializers.IntegerField(
            help_text="Seconds the access token lives."
        )

    @extend_schema(
        operation_id="oauth2Token",
        examples=[OAUTH2_TOKEN_EXAMPLE],
        tags=TAGS,
        summary="OAuth2 password grant (for Swagger UI)",
        request={"application/x-www-form-urlencoded": InputSerializer},
        responses={
            200: OutputSerializer,
            401: problem_response("Wrong login or password.", INVALID_CREDENTIALS),
            403: problem_response(
                "The account has a second factor (`mfa_required`: sign in with "
                "`auth/login/`), or may not sign in (`account_banned`, "
                "`account_inactive`, `email_not_verified`).",
                problem_example(
                    "mfa_required",
                    "This account has two-factor authentication: sign in with "
                    "auth/login/.",
                ),
                ACCOUNT_BANNED,
                ACCOUNT_INACTIVE,
                EMAIL_NOT_VERIFIED,
            ),
        },
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = password_login(
            request,
            login=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if isinstance(result, MfaChallenge):
            raise ApplicationError(
                "mfa_required",
                "This account has two-factor authentication: sign in with auth/login/.",
            )
        lifetime = settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"]
        answer = {
            "access_token": result.tokens.access,
            "token_type": "bearer",
            "refresh_token": result.tokens.refresh,
            "expires_in": int(lifetime.total_seconds()),
        }
        return Response(self.OutputSerializer(answer).data)


class RefreshInputSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=4096)


class TokenRefreshApi(NoStoreMixin, PublicApi):
    revokes_sessions_on = frozenset({"POST"})  # 503 if the cache refuses
    rate_limit_group = "refresh"  # many users may share one address (limits.policy)

    @extend_schema(
        operation_id="refreshToken",
        examples=[TOKEN_PAIR_EXAMPLE],
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
        return Response(TokenPairSerializer(tokens).data)


class LogoutApi(APIView):
    """Reads no access token (it may have expired, or its session already ended): the
    refresh token is the credential, and whoever holds it controls that session anyway."""

    rate_limit_group = "auth"  # limits.policy

    revokes_sessions_on = frozenset({"POST"})  # 503 if the cache refuses

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="logout",
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
    revokes_sessions_on = frozenset({"POST"})  # 503 if the cache refuses
    permission_classes = [IsAuthenticated]
    rate_limit_group = "auth"  # limits.policy

    @extend_schema(
        operation_id="logoutAll",
        tags=TAGS,
        summary="Sign out every session",
        request=None,
        responses={204: None},
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        sessions_revoke_all(
            user=request.user,
            reason=RevokeReason.LOGOUT_ALL,
            client=ClientInfo.from_request(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
