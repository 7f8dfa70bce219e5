"""The security timeline: audit events about the user or by them."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from rest_framework import serializers

from accounts.activity import activity_item
from accounts.models import AuditEvent, User
from accounts.user_data.registry import UserDataRegistry


class ExportSecurityEventSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.CharField(help_text="The audit event kind, e.g. `login.failed`.")
    description = serializers.CharField()
    ip = serializers.IPAddressField(
        allow_null=True, help_text="Empty when someone else (staff) acted."
    )
    user_agent = serializers.CharField()
    created_at = serializers.DateTimeField()
    payload = serializers.DictField(help_text="The event's details, as recorded.")


def _events_of(user: User) -> Q:
    return Q(target_id=user.pk) | Q(actor_id=user.pk)


def export_security_events(user: User) -> list[dict[str, Any]]:
    """Audit events about the user (target) or by them (actor), newest first."""
    events = AuditEvent.objects.filter(_events_of(user)).order_by("-created_at", "-id")
    return [
        {**activity_item(event, user=user), "payload": event.payload}
        for event in events
    ]


def erase_security_events(user: User) -> None:
    # The timeline keeps its events, but not where they came from or what they named.
    AuditEvent.objects.filter(_events_of(user)).update(
        ip=None, user_agent="", payload={}
    )


def register(registry: UserDataRegistry) -> None:
    registry.register(
        model=AuditEvent,
        section="security_events",
        export=export_security_events,
        schema=ExportSecurityEventSerializer(many=True),
        erase=erase_security_events,
    )
