"""Daily figures derived from the accounts app's tables: what the dashboard reads."""

from __future__ import annotations

from django.db import models

from insights.constants import Metric


class DailyStat(models.Model):
    """One metric's value on one UTC day, written only by ``daily_stats_refresh``.

    The dashboard reads these rows (a few hundred at most) instead of counting millions of
    users and events on each view. ``computed_at`` says when the value was computed.
    """

    day = models.DateField()
    metric = models.CharField(max_length=32, choices=Metric.choices)
    value = models.BigIntegerField()
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["day", "metric"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "metric"], name="insights_dailystat_one_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.day:%Y-%m-%d}: {self.value}"
