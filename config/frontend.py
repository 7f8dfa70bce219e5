"""``GET /api/v1/config/``: the server's real policy, for frontends to render forms from.

Everything here is read from the settings, so the endpoint is project plumbing and imports
no app.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import password_validators_help_texts
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class FrontendConfigSerializer(serializers.Serializer[dict[str, Any]]):
    class PasswordPolicySerializer(serializers.Serializer[dict[str, Any]]):
        min_length = serializers.IntegerField()
        max_length = serializers.IntegerField()
        min_strength = serializers.IntegerField(help_text="zxcvbn score, 0 to 4.")
        history_size = serializers.IntegerField(
            help_text="How many previous passwords may not be reused."
        )
        rules = serializers.ListField(child=serializers.CharField())

    class LoginSerializer(serializers.Serializer[dict[str, Any]]):
        methods = serializers.ListField(child=serializers.CharField())
        lockout_attempts = serializers.IntegerField()
        lockout_minutes = serializers.IntegerField()
        access_token_lifetime = serializers.IntegerField(help_text="Seconds.")
        refresh_token_lifetime = serializers.IntegerField(help_text="Seconds.")

    class UploadsSerializer(serializers.Serializer[dict[str, Any]]):
        max_file_bytes = serializers.IntegerField(
            help_text="The largest file `POST files/` accepts (`FILE_MAX_BYTES`)."
        )
        quota_bytes = serializers.IntegerField(
            help_text="What one user's files may hold together (`FILE_QUOTA_BYTES`)."
        )
        allowed_types = serializers.ListField(
            child=serializers.CharField(),
            help_text="Content types accepted, judged by the content, not the name.",
        )
        avatar_max_bytes = serializers.IntegerField(
            help_text="The largest image `PUT users/me/avatar/` accepts."
        )
        avatar_allowed_types = serializers.ListField(child=serializers.CharField())
        avatar_size = serializers.IntegerField(
            help_text="The side, in pixels, of the square an avatar is stored as."
        )

    class LanguageSerializer(serializers.Serializer[dict[str, Any]]):
        code = serializers.CharField()
        name = serializers.CharField()

    site_name = serializers.CharField()
    registration_open = serializers.BooleanField()
    email_verification = serializers.ChoiceField(
        choices=["mandatory", "optional", "none"]
    )
    password_policy = PasswordPolicySerializer()
    login = LoginSerializer()
    mfa_methods = serializers.ListField(child=serializers.CharField())
    social_providers = serializers.ListField(child=serializers.DictField())
    languages = LanguageSerializer(many=True)
    uploads = UploadsSerializer()


def password_policy() -> dict[str, Any]:
    """The password rules: the settings, and the help text of every validator
    ``AUTH_PASSWORD_VALIDATORS`` names (which Django loads by their dotted paths)."""
    return {
        "min_length": settings.PASSWORD_MIN_LENGTH,
        "max_length": settings.PASSWORD_MAX_LENGTH,
        "min_strength": settings.PASSWORD_MIN_STRENGTH,
        "history_size": settings.PASSWORD_HISTORY_SIZE,
        "rules": [str(rule) for rule in password_validators_help_texts()],
    }


def frontend_config() -> dict[str, Any]:
    jwt = settings.SIMPLE_JWT
    return {
        "site_name": settings.SITE_NAME,
        "registration_open": settings.REGISTRATION_OPEN,
        "email_verification": settings.ACCOUNT_EMAIL_VERIFICATION,
        "password_policy": password_policy(),
        "login": {
            "methods": ["username", "email"],
            "lockout_attempts": settings.LOGIN_LOCKOUT_ATTEMPTS,
            "lockout_minutes": settings.LOGIN_LOCKOUT_MINUTES,
            "access_token_lifetime": int(jwt["ACCESS_TOKEN_LIFETIME"].total_seconds()),
            "refresh_token_lifetime": int(
                jwt["REFRESH_TOKEN_LIFETIME"].total_seconds()
            ),
        },
        "mfa_methods": ["totp", "recovery_code"]
        + (["email"] if settings.MFA_EMAIL_ENABLED else []),
        # Filled in when social login lands.
        "social_providers": [],
        "languages": [
            {"code": code, "name": name} for code, name in settings.LANGUAGES
        ],
        "uploads": upload_limits(),
    }


# What ``files.images`` opens (Pillow) and re-encodes; SVG and anything else is refused.
AVATAR_ALLOWED_TYPES = [
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/bmp",
]


def upload_limits() -> dict[str, Any]:
    return {
        "max_file_bytes": settings.FILE_MAX_BYTES,
        "quota_bytes": settings.FILE_QUOTA_BYTES,
        "allowed_types": list(settings.FILE_ALLOWED_TYPES),
        "avatar_max_bytes": settings.AVATAR_MAX_BYTES,
        "avatar_allowed_types": AVATAR_ALLOWED_TYPES,
        "avatar_size": settings.AVATAR_SIZE,
    }


FRONTEND_CONFIG_EXAMPLE = {
    "site_name": "Gatehouse",
    "registration_open": True,
    "email_verification": "optional",
    "password_policy": {
        "min_length": 15,
        "max_length": 128,
        "min_strength": 3,
        "history_size": 5,
        "rules": [
            "Your password must contain at least 15 characters.",
            "Your password can't be a commonly used password.",
        ],
    },
    "login": {
        "methods": ["username", "email"],
        "lockout_attempts": 10,
        "lockout_minutes": 15,
        "access_token_lifetime": 300,
        "refresh_token_lifetime": 1209600,
    },
    "mfa_methods": ["totp", "recovery_code", "email"],
    "social_providers": [],
    "languages": [{"code": "en", "name": "English"}],
    "uploads": {
        "max_file_bytes": 10485760,
        "quota_bytes": 104857600,
        "allowed_types": [
            "image/png",
            "image/jpeg",
            "image/gif",
            "image/webp",
            "application/pdf",
            "text/plain",
        ],
        "avatar_max_bytes": 5242880,
        "avatar_allowed_types": AVATAR_ALLOWED_TYPES,
        "avatar_size": 512,
    },
}


class FrontendConfigApi(APIView):
    authentication_classes: list[type[BaseAuthentication]] = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="getFrontendConfig",
        tags=["operations"],
        summary="What a frontend needs to render its forms",
        responses=FrontendConfigSerializer,
        examples=[
            OpenApiExample(
                "defaults",
                value=FRONTEND_CONFIG_EXAMPLE,
                response_only=True,
            )
        ],
    )
    def get(self, request: Request) -> Response:
        return Response(FrontendConfigSerializer(frontend_config()).data)
