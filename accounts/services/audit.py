"""Security events: every security-relevant write records one, through :func:`audit_record`."""

from __future__ import annotations

from typing import Any

from accounts.constants import AuditKind
from accounts.models import AuditEvent, User
from config.client import ClientInfo


def audit_record(
    *,
    kind: AuditKind,
    client: ClientInfo,
    actor: User | None = None,
    target: User | None = None,
    payload: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record a security event. Call it inside the transaction of the change it records."""
    return AuditEvent.objects.create(
        kind=kind,
        actor=actor if actor is None or actor.pk else None,
        target=target if target is None or target.pk else None,
        ip=client.ip,
        user_agent=client.user_agent,
        payload=payload or {},
    )
