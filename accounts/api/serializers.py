"""Serializers shared by several account endpoints (each view nests its own otherwise)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accounts.models import InvalidEmailAddress, canonical_email
from accounts.serializers import UserProfileSerializer
from config.openapi import ConstantField


class CanonicalEmailField(serializers.EmailField):
    """An address as the account stores it (``accounts.models.canonical_email``):
    ``ABC@Bücher.example`` is ``abc@xn--bcher-kva.example``. The validators
    (format, length) check that canonical form; an address without one is invalid."""

    def to_internal_value(self, data: Any) -> str:
        try:
            return canonical_email(super().to_internal_value(data))
        except InvalidEmailAddress:
            self.fail("invalid")


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
    device_token = serializers.CharField(
        help_text=(
            "Keep it and send it with later logins from this device: a device that has "
            "signed in before is not locked out by others' failures."
        )
    )


class AcceptedSerializer(serializers.Serializer):
    detail = serializers.CharField()


class PasswordConfirmationSerializer(serializers.Serializer):
    """The current password, confirming a sensitive action."""

    password = serializers.CharField(max_length=4096, trim_whitespace=False)
