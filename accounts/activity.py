"""A user's security timeline (``users/me/activity/``): which audit events they see and
how each one reads. The data export (``accounts.user_data``) describes events the same way."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Field, QuerySet

from accounts.constants import AuditKind, RevokeReason
from accounts.models import AuditEvent, User

# Reasons that only restate the event they come with ("Signed out", because: signed out).
RESTATING_REASONS = frozenset(
    {RevokeReason.LOGOUT, RevokeReason.LOGOUT_ALL, RevokeReason.REVOKED}
)


def user_activity(*, user: User, kind: str | None = None) -> QuerySet[AuditEvent]:
    """The events that concern ``user`` (they are the target), newest first; the id breaks
    ties so that pages never overlap."""
    events = AuditEvent.objects.filter(target_id=user.pk)
    if kind:
        events = events.filter(kind=kind)
    return events.order_by("-created_at", "-id")


def _label(kind: str) -> str:
    try:
        return AuditKind(kind).label
    except ValueError:  # a kind since removed from the catalogue: still worth showing
        return kind


def _field_names(fields: list[str]) -> str:
    names = []
    for name in fields:
        try:
            field = User._meta.get_field(name)
        except FieldDoesNotExist:
            field = None
        names.append(str(field.verbose_name) if isinstance(field, Field) else name)
    return ", ".join(names)


def _reason(value: str) -> str | None:
    try:
        reason = RevokeReason(value)
    except ValueError:
        return None
    return None if reason in RESTATING_REASONS else reason.label.lower()


def describe_event(event: AuditEvent) -> str:
    """A sentence for people: the kind's label, plus what the payload adds to it
    ("Signed out everywhere (3 sessions)", "Profile updated: bio, phone")."""
    payload: dict[str, Any] = event.payload if isinstance(event.payload, dict) else {}
    sentence = _label(event.kind)
    if event.kind == AuditKind.TOKEN_REUSE_DETECTED:
        sentence += ": that session was signed out"
    if isinstance(payload.get("fields"), list) and payload["fields"]:
        sentence += f": {_field_names(payload['fields'])}"
    if isinstance(payload.get("from"), str) and isinstance(payload.get("to"), str):
        sentence += f": {payload['from']} to {payload['to']}"
    for key in ("new_email", "email"):
        if isinstance(payload.get(key), str) and payload[key]:
            sentence += f": {payload[key]}"
            break

    details = []
    sessions = payload.get("sessions")
    if isinstance(sessions, int) and not isinstance(sessions, bool):
        details.append(f"{sessions} session{'' if sessions == 1 else 's'}")
    reason = _reason(payload["reason"]) if "reason" in payload else None
    if reason:
        details.append(reason)
    if payload.get("by_staff") is True:
        details.append("by a staff member")
    if details:
        sentence += f" ({'; '.join(details)})"
    return sentence


def shows_origin(event: AuditEvent, *, user: User) -> bool:
    """Where an event came from (IP address, user agent) is shown to ``user`` when they
    acted, or when nobody known did (a sign-in attempt against their account, a reset
    request: exactly what they need to see). When another person acted (a staff member),
    the address and browser are that person's data, not the user's."""
    return event.actor_id is None or event.actor_id == user.pk


def activity_item(event: AuditEvent, *, user: User) -> dict[str, Any]:
    """One event as ``user`` sees it (``users/me/activity/``), for a serializer to render."""
    origin_shown = shows_origin(event, user=user)
    return {
        "id": event.pk,
        "kind": event.kind,
        "description": describe_event(event),
        "ip": event.ip if origin_shown else None,
        "user_agent": event.user_agent if origin_shown else "",
        "created_at": event.created_at,
    }
