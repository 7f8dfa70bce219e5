"""The accounts app's scheduled jobs (``CELERY_BEAT_SCHEDULE``): entry points, like views
and ``manage.py`` commands, that call a service.

Email has its own task, beside the code that queues it (``accounts.emails.tasks``).
"""

from __future__ import annotations

from celery import shared_task

from accounts.services.sessions import sessions_purge


@shared_task(ignore_result=True)
def purge_sessions() -> int:
    """Delete dead sessions; scheduled by ``CELERY_BEAT_SCHEDULE`` (hourly)."""
    return sessions_purge()
