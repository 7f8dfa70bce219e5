"""The insights app's scheduled jobs (``CELERY_BEAT_SCHEDULE``): ways in, like
``manage.py refresh_stats``, that call the service."""

from __future__ import annotations

from celery import shared_task

from insights.services import daily_stats_refresh


@shared_task(ignore_result=True)
def refresh_daily_stats(days: int = 2) -> int:
    """Recompute the last ``days`` days' figures: today's and yesterday's every ten
    minutes (yesterday's last events land after its last run), the 60 days the
    dashboard shows and compares nightly."""
    return daily_stats_refresh(days=days)
