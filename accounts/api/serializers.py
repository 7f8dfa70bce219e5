"""Serializers shared by several account endpoints (each view nests its own otherwise)."""

from __future__ import annotations

from rest_framework import serializers

from accounts.serializers import UserProfileSerializer
from config.openapi import ConstantField


class UserEnvelopeSerializer(serializers.Serializer):
    user = UserProfileSerializer()


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField(help_text="Access token (JWT), sent as `Bearer`.")
    refresh = serializers.CharField(help_text="Refresh token: single use, rotated.")


class LoginResponseSerializer(TokenPairSerializer):
    """Signed in: the tokens and the profile."""

    # The login answer is this or the MFA challenge; clients tell them by this member.
    mfa_required = ConstantField(False, help_text="Always `false` beside the tokens.")
    user = UserProfileSerializer()


class AcceptedSerializer(serializers.Serializer):
    detail = serializers.CharField()


class PasswordConfirmationSerializer(serializers.Serializer):
    """The current password, confirming a sensitive action."""

    password = serializers.CharField(max_length=4096, trim_whitespace=False)
