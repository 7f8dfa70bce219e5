"""The limits app's scheduled job (``CELERY_BEAT_SCHEDULE``)."""

from __future__ import annotations

from celery import shared_task

from limits.services import address_bans_restore


@shared_task(ignore_result=True)
def restore_address_bans() -> int:
    """Write every address ban in force back into the cache (every few minutes): a
    cache that lost its entries (a restart, an eviction) enforces them again."""
    return address_bans_restore()
