"""The shapes of a user's data, shared by the API and the data export."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accounts.roles import Role


class AvatarUrlField(serializers.URLField):
    """The avatar's path (``accounts.selectors.avatar_path``) made absolute on the host
    that answered (the serializer's ``context["request"]``, as DRF's hyperlinked fields
    do). Without a request in the context it stays a path."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault(
            "help_text",
            "The avatar image (`GET users/{id}/avatar/`): the upload, or initials "
            "drawn on a colour. Always set for an account; the URL stays the same when "
            "the avatar changes (revalidate with `If-None-Match`).",
        )
        super().__init__(**kwargs)

    def to_representation(self, value: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(value) if request is not None else value


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
    avatar_url = AvatarUrlField()
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=[r.value for r in Role])
    )
    mfa_enabled = serializers.BooleanField()
    date_joined = serializers.DateTimeField()
    last_login = serializers.DateTimeField(allow_null=True)
