"""Reads of the insights app."""

from __future__ import annotations

from datetime import date, datetime

from insights.models import DailyStat


def daily_stats_since(first_day: date) -> list[tuple[date, str, int, datetime]]:
    """Every figure from ``first_day`` on, as (day, metric, value, computed_at): one query
    over at most a few hundred rows, whatever the size of the tables they count."""
    return list(
        DailyStat.objects.filter(day__gte=first_day)
        .order_by()
        .values_list("day", "metric", "value", "computed_at")
    )
