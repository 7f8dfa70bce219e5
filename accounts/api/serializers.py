"""Serializers shared by several account endpoints (each view nests its own otherwise)."""

from __future__ import annotations

from rest_framework import serializers

from accounts.roles import Role


class UserProfileSerializer(serializers.Serializer):
    """The full own profile (``me/``). Rendered from ``accounts.selectors.user_profile``;
    this class documents it in the schema, and a test keeps the two equal."""

    id = serializers.UUIDField()
    username = serializers.CharField()
    email = serializers.EmailField()
    email_verified = serializers.BooleanField()
    display_name = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    bio = serializers.CharField()
    phone = serializers.CharField()
    timezone = serializers.CharField(help_text="IANA time zone name.")
    language = serializers.CharField()
    avatar_url = serializers.URLField(allow_null=True)
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=[r.value for r in Role])
    )
    mfa_enabled = serializers.BooleanField()
    date_joined = serializers.DateTimeField()
    last_login = serializers.DateTimeField(allow_null=True)


class UserEnvelopeSerializer(serializers.Serializer):
    user = UserProfileSerializer()


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField(help_text="Access token (JWT), sent as `Bearer`.")
    refresh = serializers.CharField(help_text="Refresh token: single use, rotated.")


class LoginResponseSerializer(TokenPairSerializer):
    user = UserProfileSerializer()


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


class PasswordConfirmationSerializer(serializers.Serializer):
    """The current password, confirming a sensitive action."""

    password = serializers.CharField(max_length=4096, trim_whitespace=False)
