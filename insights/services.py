"""The one write of the insights app: recomputing the daily figures."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone
from django_otp.plugins.otp_email.models import EmailDevice

from accounts.models import (
    STAFF_ACTION,
    AuditEvent,
    AuthSession,
    TOTPAuthenticator,
    User,
)
from insights.constants import COUNTED_METRICS, EVENT_METRICS, Metric
from insights.models import DailyStat


def utc_day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


@transaction.atomic
def daily_stats_refresh(*, days: int, now: datetime | None = None) -> int:
    """Recompute the counted metrics of the last ``days`` UTC days (today included), and
    today's snapshot metrics; returns how many rows were written.

    Each source is read once, grouped by day over an indexed range (``date_joined``;
    the audit log's ``created_at``), so the cost follows the rows of the period, not the
    size of the tables, and a rerun writes the same values (an upsert on day and metric).
    Past days' snapshots are never rewritten: their state is gone.
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    now = now or timezone.now()
    today = now.astimezone(UTC).date()
    first_day = today - timedelta(days=days - 1)
    period = {
        "gte": utc_day_start(first_day),
        "lt": utc_day_start(today + timedelta(days=1)),
    }
    values = {
        (first_day + timedelta(days=offset), metric): 0
        for offset in range(days)
        for metric in COUNTED_METRICS
    }

    joined = (
        User.objects.filter(
            date_joined__gte=period["gte"], date_joined__lt=period["lt"]
        )
        .annotate(day=TruncDate("date_joined", tzinfo=UTC))
        .values("day")
        .annotate(count=Count("pk"))
        .order_by()
    )
    for row in joined:
        values[(row["day"], Metric.USERS_JOINED)] = row["count"]

    metric_of: dict[str, Metric] = {
        kind: metric for metric, kind in EVENT_METRICS.items()
    }
    events = (
        AuditEvent.objects.filter(
            created_at__gte=period["gte"], created_at__lt=period["lt"]
        )
        .annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("day", "kind")
        .annotate(count=Count("pk"), by_staff=Count("pk", filter=STAFF_ACTION))
        .order_by()
    )
    for row in events:
        metric = metric_of.get(row["kind"])
        if metric is not None:
            values[(row["day"], metric)] += row["count"]
        values[(row["day"], Metric.STAFF_ACTIONS)] += row["by_staff"]

    values.update(
        {(today, metric): value for metric, value in snapshot(now=now).items()}
    )
    DailyStat.objects.bulk_create(
        [
            DailyStat(day=day, metric=metric, value=value, computed_at=now)
            for (day, metric), value in values.items()
        ],
        update_conflicts=True,
        unique_fields=["day", "metric"],
        update_fields=["value", "computed_at"],
    )
    return len(values)


def snapshot(*, now: datetime) -> dict[Metric, int]:
    """The state now: live sessions, active accounts and those with a confirmed second
    factor (an authenticator app or emailed codes; recovery codes alone are not one)."""
    active = User.objects.filter(is_active=True)
    return {
        Metric.SESSIONS_ACTIVE: AuthSession.objects.filter(
            revoked_at__isnull=True, expires_at__gt=now
        ).count(),
        Metric.USERS_ACTIVE: active.count(),
        # Two "IN (devices)" rather than EXISTS per user: PostgreSQL hashes each list
        # once (about twice as fast at a million users).
        Metric.USERS_WITH_MFA: active.filter(
            Q(pk__in=TOTPAuthenticator.objects.filter(confirmed=True).values("user"))
            | Q(pk__in=EmailDevice.objects.filter(confirmed=True).values("user"))
        ).count(),
    }
