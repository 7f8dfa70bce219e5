"""``manage.py refresh_stats``: recompute the dashboard's figures now (what the worker's
scheduler does every ten minutes, and nightly for 60 days)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from insights.constants import HISTORY_DAYS
from insights.services import daily_stats_refresh


class Command(BaseCommand):
    help = "Recompute the admin dashboard's daily figures."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=HISTORY_DAYS,
            help=(
                f"How many days back, today included (default {HISTORY_DAYS}: the "
                "dashboard's 30 days and the 30 before them)."
            ),
        )

    def handle(self, *args: Any, days: int, **options: Any) -> None:
        if days < 1:
            raise CommandError("--days must be at least 1.")
        started = time.monotonic()
        rows = daily_stats_refresh(days=days)
        self.stdout.write(
            f"Refreshed {rows} figures over {days} day(s) "
            f"in {time.monotonic() - started:.2f} s."
        )
