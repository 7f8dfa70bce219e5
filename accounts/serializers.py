"""The shapes of a user's data, shared by the API and the data export."""

from __future__ import annotations

from rest_framework import serializers

from accounts.roles import Role


# Renders what accounts.selectors.user_profile returns. GET me/ skips it for speed, and
# tests/config/test_response_shapes.py holds that answer to this shape too.
class UserProfileSerializer(serializers.Serializer):
    """The full profile: the caller's own, or any account's for staff."""

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
