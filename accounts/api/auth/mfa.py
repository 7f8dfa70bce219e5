"""Two-factor authentication: enrolment (``mfa/…``) and the second step of login."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.auth.common import (
    ACCOUNT_BANNED,
    MFA_TOKEN_INVALID,
    TAGS,
    PublicApi,
)
from accounts.api.auth.login import login_response
from accounts.api.confirmation import wrong_passwords_limited
from accounts.api.examples import (
    MFA_STATUS_EXAMPLE,
    SIGNED_IN_EXAMPLE,
    TOTP_SETUP_EXAMPLE,
)
from accounts.api.serializers import (
    LoginResponseSerializer,
    PasswordConfirmationSerializer,
)
from accounts.authentication import AuthenticatedRequest, session_id_of
from accounts.constants import MfaMethod
from accounts.selectors import mfa_status
from accounts.services.login import account_lockout_key
from accounts.services.mfa import (
    email_codes_enable,
    factor_disable,
    mfa_login,
    mfa_login_email_code,
    recovery_codes_regenerate,
    totp_confirm,
    totp_setup,
)
from accounts.services.reauthentication import PASSWORD_AGAIN
from config.api import NoStoreMixin
from config.client import ClientInfo
from config.error_codes import ApplicationError
from config.openapi import WRONG_PASSWORD, problem_example, problem_response
from config.ratelimits import (
    LoginFailures,
    enforce_rate_limit,
    reset_login_failures,
)


class RecoveryCodeListSerializer(serializers.Serializer):
    recovery_codes = serializers.ListField(
        child=serializers.CharField(),
        help_text="Shown this once; each works once. Stored only as digests.",
    )


RECOVERY_CODES_EXAMPLE = OpenApiExample(
    "codes",
    value={"recovery_codes": ["k7d3m-q9xw2", "…"]},
    response_only=True,
)


PASSWORD_AGAIN_EXAMPLE = OpenApiExample(
    "password needed again",
    value=problem_example(
        "validation_error", PASSWORD_AGAIN, errors={"password": [PASSWORD_AGAIN]}
    ).value,
    response_only=True,
    status_codes=["400"],
)


class MfaApi(NoStoreMixin, APIView):
    permission_classes = [IsAuthenticated]
    rate_limit_group = "auth"  # limits.policy

    def confirmed_password(self, request: AuthenticatedRequest) -> str:
        """The password a change is confirmed with (validated), counting the change."""
        enforce_rate_limit(
            request, "mfa_change_per_user", key=f"user:{request.user.pk}"
        )
        data = PasswordConfirmationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return data.validated_data["password"]

    def disable(self, request: AuthenticatedRequest, method: str) -> Response:
        password = self.confirmed_password(request)
        with wrong_passwords_limited(request):
            factor_disable(
                actor=request.user,
                method=method,
                password=password,
                client=ClientInfo.from_request(request),
                current_session_id=session_id_of(request),
            )
        return Response(status=status.HTTP_204_NO_CONTENT)


class MfaStatusApi(MfaApi):
    class OutputSerializer(serializers.Serializer):
        totp = serializers.BooleanField()
        email = serializers.BooleanField()
        recovery_codes_remaining = serializers.IntegerField()

    @extend_schema(
        operation_id="getMfaStatus",
        examples=[MFA_STATUS_EXAMPLE],
        tags=TAGS,
        summary="Which second factors are on",
        responses=OutputSerializer,
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        return Response(self.OutputSerializer(mfa_status(request.user)).data)


class TotpSetupApi(MfaApi):
    class OutputSerializer(serializers.Serializer):
        secret = serializers.CharField(help_text="Base32, for typing into an app.")
        otpauth_uri = serializers.CharField()
        qr_code = serializers.CharField(help_text="The URI as an SVG data URI.")

    @extend_schema(
        operation_id="setupTotp",
        examples=[TOTP_SETUP_EXAMPLE],
        tags=TAGS,
        summary="Start setting up an authenticator app",
        description="Nothing is required at login until `mfa/totp/confirm/` gets a code.",
        request=None,
        responses={
            200: OutputSerializer,
            409: problem_response(
                "An app is already set up.",
                problem_example(
                    "conflict",
                    "An authenticator app is already set up.",
                ),
            ),
        },
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        return Response(self.OutputSerializer(totp_setup(actor=request.user)).data)


class TotpConfirmApi(MfaApi):
    class InputSerializer(serializers.Serializer):
        code = serializers.CharField(max_length=16)
        password = serializers.CharField(
            max_length=4096,
            trim_whitespace=False,
            required=False,
            help_text=(
                "The current password: needed unless this session signed in within "
                "`REAUTH_WINDOW_SECONDS` (its access token's `auth_time`)."
            ),
        )

    @extend_schema(
        operation_id="confirmTotp",
        tags=TAGS,
        summary="Turn the authenticator app on with a code it shows",
        description=(
            "Re-authentication: a session that signed in more than "
            "`REAUTH_WINDOW_SECONDS` ago (default 300) must send `password` too; "
            "without it the answer is 400 under `password`."
        ),
        request=InputSerializer,
        responses={200: RecoveryCodeListSerializer},
        examples=[RECOVERY_CODES_EXAMPLE, PASSWORD_AGAIN_EXAMPLE, WRONG_PASSWORD],
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        enforce_rate_limit(
            request, "mfa_change_per_user", key=f"user:{request.user.pk}"
        )
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with wrong_passwords_limited(request):
            codes = totp_confirm(
                actor=request.user,
                code=data.validated_data["code"],
                password=data.validated_data.get("password"),
                client=ClientInfo.from_request(request),
            )
        return Response(RecoveryCodeListSerializer({"recovery_codes": codes}).data)


class TotpApi(MfaApi):
    revokes_sessions_on = frozenset({"DELETE"})  # 503 if the cache refuses
    delete_takes_body = True

    @extend_schema(
        operation_id="disableTotp",
        tags=TAGS,
        summary="Turn the authenticator app off",
        description="Needs the password. With no factor left, the other sessions end.",
        request=PasswordConfirmationSerializer,
        responses={204: None},
        examples=[WRONG_PASSWORD],
    )
    def delete(self, request: AuthenticatedRequest) -> Response:
        return self.disable(request, "totp")


class EmailCodesApi(MfaApi):
    revokes_sessions_on = frozenset({"DELETE"})  # 503 if the cache refuses
    delete_takes_body = True

    @extend_schema(
        operation_id="enableEmailMfa",
        tags=TAGS,
        summary="Turn emailed sign-in codes on",
        description=(
            "The weaker factor (email is not an authenticator at NIST 800-63B's and OWASP "
            "ASVS's higher levels); the server may switch it off (`MFA_EMAIL_ENABLED`)."
        ),
        request=PasswordConfirmationSerializer,
        responses={204: None},
        examples=[WRONG_PASSWORD],
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        password = self.confirmed_password(request)
        with wrong_passwords_limited(request):
            email_codes_enable(
                actor=request.user,
                password=password,
                client=ClientInfo.from_request(request),
            )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="disableEmailMfa",
        tags=TAGS,
        summary="Turn emailed sign-in codes off",
        request=PasswordConfirmationSerializer,
        responses={204: None},
        examples=[WRONG_PASSWORD],
    )
    def delete(self, request: AuthenticatedRequest) -> Response:
        return self.disable(request, "email")


class RecoveryCodesApi(MfaApi):
    @extend_schema(
        operation_id="regenerateRecoveryCodes",
        tags=TAGS,
        summary="New recovery codes (the old ones stop working)",
        request=PasswordConfirmationSerializer,
        responses={200: RecoveryCodeListSerializer},
        examples=[RECOVERY_CODES_EXAMPLE, WRONG_PASSWORD],
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        password = self.confirmed_password(request)
        with wrong_passwords_limited(request):
            codes = recovery_codes_regenerate(
                actor=request.user,
                password=password,
                client=ClientInfo.from_request(request),
            )
        return Response(RecoveryCodeListSerializer({"recovery_codes": codes}).data)


MFA_INVALID = problem_example("mfa_invalid", "This code is wrong or expired.")
MFA_THROTTLED = problem_example(
    "rate_limited", "Too many wrong codes. Try again in 4 seconds.", retry_after=4
)
MFA_EMAIL_COOLDOWN = problem_example(
    "rate_limited",
    "A code was emailed moments ago. Try again in 42 seconds.",
    retry_after=42,
)
# What counts toward the client's limit at login/mfa/: a wrong code, and a spent, expired
# or forged mfa_token (a ban found at the second step is no guess, and a throttled code
# was not checked).
MFA_FAILURES = {"mfa_invalid", "token_invalid"}


class LoginMfaApi(NoStoreMixin, PublicApi):
    revokes_sessions_on = frozenset({"POST"})  # 503 if the cache refuses

    class InputSerializer(serializers.Serializer):
        mfa_token = serializers.CharField(max_length=2048)
        code = serializers.CharField(max_length=32)
        method = serializers.ChoiceField(choices=MfaMethod.choices, required=False)

    @extend_schema(
        operation_id="loginMfa",
        examples=[SIGNED_IN_EXAMPLE],
        tags=TAGS,
        summary="Finish signing in with a second factor",
        description=(
            "A code from the authenticator app, an emailed code or a recovery code (each "
            "recovery code works once; an app's code is never accepted twice). Wrong "
            "codes are limited per client (`429` with `Retry-After`); right ones are not "
            "counted."
        ),
        request=InputSerializer,
        responses={
            200: LoginResponseSerializer,
            400: problem_response(
                "A wrong or expired code (`mfa_invalid`).", MFA_INVALID
            ),
            401: problem_response(
                "The `mfa_token` expired, was used, or met 5 wrong codes.",
                MFA_TOKEN_INVALID,
            ),
            403: problem_response(
                "The account was banned since the first step.", ACCOUNT_BANNED
            ),
            429: problem_response(
                "Codes are throttled after wrong ones (django-otp's growing delay per "
                "device), or this client failed too often: wait `Retry-After` seconds. "
                "No code was checked and no try of the `mfa_token` was used; a right "
                "code is never reported as wrong.",
                MFA_THROTTLED,
            ),
        },
    )
    def post(self, request: Request) -> Response:
        """Only failures count, on a per-client limit of their own; a success ends the
        login, and so resets the account's failure count."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        failures = LoginFailures(request, "", ip_limit="login_mfa_failures_per_ip")
        failures.begin()
        try:
            result = mfa_login(
                mfa_token=data.validated_data["mfa_token"],
                code=data.validated_data["code"],
                method=data.validated_data.get("method"),
                client=ClientInfo.from_request(request),
            )
        except ApplicationError as error:
            if error.code in MFA_FAILURES:
                failures.failed()
            else:
                failures.succeeded()
            raise
        failures.succeeded()
        reset_login_failures(request, account_lockout_key(result.user))
        return Response(login_response(result, request))


class LoginMfaEmailApi(PublicApi):
    class InputSerializer(serializers.Serializer):
        mfa_token = serializers.CharField(max_length=2048)

    @extend_schema(
        operation_id="sendLoginMfaEmailCode",
        tags=TAGS,
        summary="Email a sign-in code (during a two-step login)",
        description=(
            "The code works once, and only with this `mfa_token`; it is in the body of "
            "the email, not its subject. A new code replaces the last, at most one per "
            "`MFA_EMAIL_RESEND_SECONDS`."
        ),
        request=InputSerializer,
        responses={
            202: None,
            401: problem_response(
                "The `mfa_token` is no longer good.", MFA_TOKEN_INVALID
            ),
            403: problem_response(
                "Emailed codes are not on for this account, or are switched off.",
                problem_example(
                    "mfa_method_disabled",
                    "Emailed codes are not turned on for this account.",
                ),
            ),
            429: problem_response(
                "A code was emailed less than `MFA_EMAIL_RESEND_SECONDS` ago (nothing "
                "is sent), or this client asked too often: wait `Retry-After` seconds.",
                MFA_EMAIL_COOLDOWN,
            ),
        },
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        enforce_rate_limit(request, "email_per_ip", key="ip")
        mfa_login_email_code(mfa_token=data.validated_data["mfa_token"])
        return Response(status=status.HTTP_202_ACCEPTED)
