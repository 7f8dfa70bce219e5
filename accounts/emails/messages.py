"""Gatehouse's own account emails (login locked, MFA changed, account deleted...)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress
from allauth.core import context as allauth_context
from django.utils import timezone

if TYPE_CHECKING:
    from accounts.models import User

# As allauth's notifications do: a user agent is whatever the client sent.
USER_AGENT_MAX_LENGTH = 200

# Context: ``attempts`` (failures that caused the lock) and ``minutes`` (how long it lasts).
LOGIN_LOCKED_EMAIL = "account/email/login_locked"


def send_account_email(
    *, template_prefix: str, user: User, context: dict[str, Any] | None = None
) -> None:
    """Queue one of Gatehouse's own emails to the user's primary address.

    ``template_prefix`` names the templates, e.g. ``LOGIN_LOCKED_EMAIL``. The templates
    receive ``user``, ``timestamp``, and the ``ip`` and ``user_agent`` of the request in
    allauth's context (empty without one; the adapter turns the header into a device
    description, ``devices.device_description``), then ``context``. Like every account email, it
    is sent when the current transaction commits.
    """
    email = EmailAddress.objects.get_primary_email(user)
    if not email:
        return
    adapter = get_adapter()
    request = allauth_context.request
    ctx: dict[str, Any] = {
        "user": user,
        "timestamp": timezone.now(),
        "ip": adapter.get_client_ip(request),
        "user_agent": adapter.get_http_user_agent(request)[:USER_AGENT_MAX_LENGTH],
    }
    ctx.update(context or {})
    adapter.send_mail(template_prefix, email, ctx)
