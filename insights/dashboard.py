"""The admin front page's dashboard: the last 30 days in cards, each a chart of daily
figures linked to the admin list they count.

It reads the ``DailyStat`` rows of the period and of the 30 days before, which each count
is compared with (one query, at most 600 rows) and nothing else, so it costs the same at
a hundred users as at millions. The worker refreshes the rows
(``insights.tasks``); on the embedded default, which has no worker, the page refreshes
them itself when they are older than ``REFRESH_INTERVAL`` (cheap on a small database).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString

from accounts.models import User
from insights.charts import Bar, bar_chart, day_label
from insights.constants import (
    EVENT_METRICS,
    HISTORY_DAYS,
    REFRESH_INTERVAL,
    STALE_AFTER,
    WINDOW_DAYS,
    Metric,
)
from insights.selectors import daily_stats_since
from insights.services import daily_stats_refresh, utc_day_start

Series = dict[date, int]


@dataclass(frozen=True)
class Card:
    title: str
    headline: str
    caption: str
    url: str
    chart: SafeString


@dataclass(frozen=True)
class Dashboard:
    cards: list[Card]
    first_day: date
    last_day: date
    computed_at: datetime | None
    # Figures older than STALE_AFTER where a worker should refresh them.
    is_stale: bool


def changelist(model: str, **params: Any) -> str:
    """The admin list of ``accounts.<model>``, filtered by ``params`` (each a lookup the
    list accepts: a field of the model or one of its ``list_filter``)."""
    url = reverse(f"admin:accounts_{model}_changelist")
    return f"{url}?{urlencode(params)}" if params else url


def period(first_day: date, last_day: date) -> dict[str, str]:
    """``__gte``/``__lt`` bounds of whole UTC days, as the admin's date filter writes them."""
    return {
        "gte": utc_day_start(first_day).isoformat(),
        "lt": utc_day_start(last_day + timedelta(days=1)).isoformat(),
    }


def days_of(first_day: date) -> list[date]:
    return [first_day + timedelta(days=offset) for offset in range(WINDOW_DAYS)]


def comparison(total: int, series: Series, first_day: date) -> str:
    """The period's total against the 30 days before it, when every one of those was
    counted (figures begin with the first refresh)."""
    before = [
        first_day - timedelta(days=offset) for offset in range(1, WINDOW_DAYS + 1)
    ]
    if any(day not in series for day in before):
        return ""
    previous = sum(series[day] for day in before)
    if previous == 0:
        return "none in the 30 days before" if total else ""
    change = round(100 * (total - previous) / previous)
    if change == 0:
        return "as many as in the 30 days before"
    return f"{'▲' if change > 0 else '▼'} {abs(change)}% on the 30 days before"


def counted_card(
    *,
    metric: Metric,
    series: Series,
    first_day: date,
    link: Callable[[date, date], str],
    tone: str = "",
) -> Card:
    """A card of daily counts: the period's total, today's count, a bar per day linked to
    that day's list."""
    days = days_of(first_day)
    total = sum(series.get(day, 0) for day in days)
    today = days[-1]
    bars = [
        Bar(
            day=day,
            value=series.get(day),
            label=f"{day_label(day)}: {series[day]:,}"
            if day in series
            else f"{day_label(day)}: not counted",
            url=link(day, day),
        )
        for day in days
    ]
    busiest = max(days, key=lambda day: series.get(day, 0))
    summary = f"{total:,} in {WINDOW_DAYS} days, {series.get(today, 0):,} today"
    if series.get(busiest):
        summary += f", most on {day_label(busiest)} ({series[busiest]:,})"
    against = comparison(total, series, first_day)
    return Card(
        title=metric.label,
        headline=f"{total:,}",
        caption=f"{series.get(today, 0):,} today"
        + (f" · {against}" if against else ""),
        url=link(first_day, today),
        chart=bar_chart(
            title=f"{metric.label} per day", summary=summary, bars=bars, tone=tone
        ),
    )


def sessions_card(*, series: Series, first_day: date, now: datetime) -> Card:
    days = days_of(first_day)
    current = series.get(days[-1], 0)
    bars = [
        Bar(
            day=day,
            value=series.get(day),
            label=f"{day_label(day)}: {series[day]:,} live"
            if day in series
            else f"{day_label(day)}: not measured",
        )
        for day in days
    ]
    title = Metric.SESSIONS_ACTIVE.label
    return Card(
        title=title,
        headline=f"{current:,}",
        caption="live at the last count; bars: each day's last",
        url=changelist(
            "authsession",
            revoked_at__isempty="1",
            expires_at__gt=now.astimezone(UTC).isoformat(timespec="seconds"),
        ),
        chart=bar_chart(
            title=f"{title}, each day's last count",
            summary=f"{current:,} now",
            bars=bars,
        ),
    )


def mfa_card(*, active: Series, with_mfa: Series, first_day: date) -> Card:
    days = days_of(first_day)
    shares = {
        day: 100 * with_mfa.get(day, 0) / active[day] for day in active if active[day]
    }
    today = days[-1]
    share = shares.get(today, 0.0)
    bars = [
        Bar(
            day=day,
            value=shares.get(day),
            label=f"{day_label(day)}: {shares[day]:.1f}%"
            if day in shares
            else f"{day_label(day)}: not measured",
        )
        for day in days
    ]
    return Card(
        title="Two-factor adoption",
        headline=f"{share:.1f}%",
        caption=f"{with_mfa.get(today, 0):,} of {active.get(today, 0):,} active accounts",
        url=changelist("user", is_active__exact="1", mfa="yes"),
        chart=bar_chart(
            title="Active accounts with a second factor",
            summary=f"{share:.1f}% now",
            bars=bars,
            maximum=100,
            unit="%",
        ),
    )


def audit_link(**filters: str) -> Callable[[date, date], str]:
    def link(first_day: date, last_day: date) -> str:
        bounds = period(first_day, last_day)
        return changelist(
            "auditevent",
            **filters,
            created_at__gte=bounds["gte"],
            created_at__lt=bounds["lt"],
        )

    return link


def joined_link(first_day: date, last_day: date) -> str:
    bounds = period(first_day, last_day)
    return changelist(
        "user", date_joined__gte=bounds["gte"], date_joined__lt=bounds["lt"]
    )


def dashboard_for(user: User, *, now: datetime | None = None) -> Dashboard:
    """The cards ``user`` may follow: each shows only to whoever may open the list behind
    it (every staff role may, today: ``accounts.roles``)."""
    now = now or timezone.now()
    last_day = now.astimezone(UTC).date()
    first_day = last_day - timedelta(days=WINDOW_DAYS - 1)
    history_from = last_day - timedelta(days=HISTORY_DAYS - 1)
    rows = daily_stats_since(history_from)
    computed_at = max((row[3] for row in rows), default=None)
    is_old = computed_at is None or computed_at < now - REFRESH_INTERVAL
    if is_old and settings.CELERY_TASK_ALWAYS_EAGER:
        # No worker, so no scheduler: the page refreshes what it shows.
        daily_stats_refresh(days=HISTORY_DAYS, now=now)
        rows = daily_stats_since(history_from)
        computed_at = now
    series: dict[str, Series] = {metric: {} for metric in Metric}
    for day, metric, value, _ in rows:
        series[metric][day] = value

    def counted(
        metric: Metric, link: Callable[[date, date], str], tone: str = ""
    ) -> Card:
        return counted_card(
            metric=metric,
            series=series[metric],
            first_day=first_day,
            link=link,
            tone=tone,
        )

    def events(metric: Metric, tone: str = "") -> Callable[[], Card]:
        return lambda: counted(metric, audit_link(kind=EVENT_METRICS[metric]), tone)

    # In display order: (the permission to open the list behind it, the card).
    layout: list[tuple[str, Callable[[], Card]]] = [
        ("view_user", lambda: counted(Metric.USERS_JOINED, joined_link)),
        ("view_auditevent", events(Metric.LOGINS_SUCCEEDED)),
        ("view_auditevent", events(Metric.LOGINS_FAILED, "alert")),
        ("view_auditevent", events(Metric.LOGINS_LOCKED, "alert")),
        (
            "view_authsession",
            lambda: sessions_card(
                series=series[Metric.SESSIONS_ACTIVE], first_day=first_day, now=now
            ),
        ),
        (
            "view_user",
            lambda: mfa_card(
                active=series[Metric.USERS_ACTIVE],
                with_mfa=series[Metric.USERS_WITH_MFA],
                first_day=first_day,
            ),
        ),
        ("view_auditevent", events(Metric.BANS_STARTED, "alert")),
        ("view_auditevent", events(Metric.BANS_LIFTED)),
        (
            "view_auditevent",
            lambda: counted(Metric.STAFF_ACTIONS, audit_link(by="staff")),
        ),
    ]
    cards = [
        card() for permission, card in layout if user.has_perm(f"accounts.{permission}")
    ]
    return Dashboard(
        cards=cards,
        first_day=first_day,
        last_day=last_day,
        computed_at=computed_at,
        is_stale=computed_at is None or computed_at < now - STALE_AFTER,
    )
