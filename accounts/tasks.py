"""The accounts app's tasks: entry points, like views and ``manage.py`` commands, that call
a service.

- Scheduled jobs (``CELERY_BEAT_SCHEDULE``): ``purge_sessions``.
- The second half of requests whose answer must not depend on the work: the emailed-link
  endpoints (password reset, verification resend) answer ``202`` at once and queue one of
  these for every request, known address or not, after the response is sent
  (``config.after_response``). With a broker a worker does the work; without one (the
  embedded default) it runs inline, still after the response.

Email has its own task, beside the code that queues it (``accounts.emails.tasks``).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from celery import shared_task

from accounts.services.password import password_reset_request
from accounts.services.registration import email_verification_resend
from accounts.services.sessions import sessions_purge
from config.client import ClientInfo


@shared_task(ignore_result=True)
def purge_sessions() -> int:
    """Delete dead sessions; scheduled by ``CELERY_BEAT_SCHEDULE`` (hourly)."""
    return sessions_purge()


def client_payload(client: ClientInfo) -> dict[str, Any]:
    """A ``ClientInfo`` as a task's JSON argument."""
    return asdict(client)


@shared_task(ignore_result=True)
def send_password_reset(*, email: str, client: dict[str, Any]) -> None:
    """``auth/password/reset/``'s work: the lookup, the token, the audit and the mail."""
    password_reset_request(email=email, client=ClientInfo(**client))


@shared_task(ignore_result=True)
def send_verification_again(*, email: str) -> None:
    """``auth/email/resend/``'s work: the lookup, a new key and the mail."""
    email_verification_resend(email=email)
