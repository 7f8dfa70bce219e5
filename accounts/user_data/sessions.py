"""Sessions: every login still stored."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accounts.models import AuthSession, User
from accounts.user_data.registry import UserDataRegistry


class ExportSessionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    ip = serializers.IPAddressField(allow_null=True)
    user_agent = serializers.CharField()
    amr = serializers.ListField(
        child=serializers.CharField(),
        help_text='How it was signed in to (RFC 8176): `["pwd"]`, or `["pwd", "otp", '
        '"mfa"]` with a second factor; empty for sessions from before this was kept.',
    )
    auth_time = serializers.DateTimeField(help_text="When it was signed in to.")
    revoked_at = serializers.DateTimeField(allow_null=True)
    revoke_reason = serializers.CharField(
        help_text="Why the session ended (`logout`, `password_changed`...); empty while "
        "it has not."
    )


SESSION_FIELDS = (
    "id",
    "created_at",
    "last_used_at",
    "expires_at",
    "ip",
    "user_agent",
    "amr",
    "auth_time",
    "revoked_at",
    "revoke_reason",
)


def export_sessions(user: User) -> list[dict[str, Any]]:
    """Every session still stored, revoked ones included (``purge_sessions`` deletes them
    some minutes after they end). ``refresh_jti`` is never selected."""
    sessions = AuthSession.objects.filter(user_id=user.pk).order_by("-created_at")
    return list(sessions.values(*SESSION_FIELDS))


def erase_sessions(user: User) -> None:
    # user_delete revokes them first (sessions_revoke_all), which also ends their tokens.
    AuthSession.objects.filter(user_id=user.pk).delete()


def register(registry: UserDataRegistry) -> None:
    registry.register(
        model=AuthSession,
        section="sessions",
        export=export_sessions,
        schema=ExportSessionSerializer(many=True),
        erase=erase_sessions,
    )
