from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from allauth.core.context import request_context
from django.http import HttpRequest
from rest_framework.request import Request

from accounts.constants import AuditKind
from accounts.models import AuditEvent, User
from config.client import ClientInfo
from config.requests import django_request


def allauth_context(request: HttpRequest | Request) -> AbstractContextManager:
    """allauth reads the current request from a context variable its middleware sets; DRF
    views run inside it already, this makes it explicit for services called elsewhere."""
    return request_context(django_request(request))


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
