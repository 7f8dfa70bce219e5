"""Serializers shared by several account endpoints (each view nests its own otherwise)."""

from __future__ import annotations

from rest_framework import serializers

from accounts.serializers import UserProfileSerializer


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
