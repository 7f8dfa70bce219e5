"""The dashboard's figures: ``daily_stats_refresh`` counts each UTC day's sign-ups and
audit events once, writes today's snapshot (live sessions, two-factor adoption), and a
rerun changes nothing; the worker's scheduler and ``manage.py refresh_stats`` run it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_otp.plugins.otp_email.models import EmailDevice

from accounts.constants import AuditKind
from accounts.crypto import encrypt_secret
from accounts.models import AuditEvent, AuthSession, TOTPAuthenticator, User
from insights.constants import (
    COUNTED_METRICS,
    HISTORY_DAYS,
    SNAPSHOT_METRICS,
    WINDOW_DAYS,
    Metric,
)
from insights.models import DailyStat
from insights.services import daily_stats_refresh
from insights.tasks import refresh_daily_stats
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TODAY = date(2026, 3, 10)
YESTERDAY = date(2026, 3, 9)


def at(day: date, hour: int = 12, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=UTC)


def event(kind: AuditKind, when: datetime, **fields: object) -> AuditEvent:
    return AuditEvent.objects.create(kind=kind, created_at=when, **fields)


def stats() -> dict[tuple[date, str], int]:
    return {(s.day, s.metric): s.value for s in DailyStat.objects.all()}


def test_each_utc_day_counts_its_own_sign_ups_and_events() -> None:
    # Given events on both sides of midnight UTC, and one before the period
    UserFactory(date_joined=at(YESTERDAY, 23, 59, 59))
    UserFactory(date_joined=at(TODAY, 0, 0, 0))
    UserFactory(date_joined=at(TODAY, 9))
    UserFactory(date_joined=at(YESTERDAY - timedelta(days=1)))  # outside days=2
    event(AuditKind.LOGIN_SUCCEEDED, at(YESTERDAY, 23, 59, 59))
    event(AuditKind.LOGIN_SUCCEEDED, at(TODAY, 0))
    event(AuditKind.LOGIN_SUCCEEDED, at(TODAY, 1))
    for _ in range(3):
        event(AuditKind.LOGIN_FAILED, at(TODAY, 2))
    event(AuditKind.LOGIN_LOCKED, at(TODAY, 2))
    event(AuditKind.USER_BANNED, at(YESTERDAY))
    event(AuditKind.USER_UNBANNED, at(TODAY))
    event(AuditKind.PASSWORD_CHANGED, at(TODAY))  # counted by no metric of its own

    written = daily_stats_refresh(days=2, now=NOW)

    values = stats()
    assert written == 2 * len(COUNTED_METRICS) + len(SNAPSHOT_METRICS)
    assert values[(YESTERDAY, Metric.USERS_JOINED)] == 1
    assert values[(TODAY, Metric.USERS_JOINED)] == 2
    assert values[(YESTERDAY, Metric.LOGINS_SUCCEEDED)] == 1
    assert values[(TODAY, Metric.LOGINS_SUCCEEDED)] == 2
    assert values[(TODAY, Metric.LOGINS_FAILED)] == 3
    assert values[(TODAY, Metric.LOGINS_LOCKED)] == 1
    assert values[(YESTERDAY, Metric.LOGINS_FAILED)] == 0  # written, as zero
    assert values[(YESTERDAY, Metric.BANS_STARTED)] == 1
    assert values[(TODAY, Metric.BANS_LIFTED)] == 1
    assert not any(day < YESTERDAY for day, _ in values)


def test_staff_actions_are_events_whose_actor_is_not_their_target() -> None:
    staff, user = UserFactory(), UserFactory()
    event(AuditKind.USER_BANNED, at(TODAY), actor=staff, target=user)
    event(AuditKind.PASSWORD_CHANGED, at(TODAY), actor=staff, target=user)
    event(AuditKind.USER_DELETED, at(TODAY), actor=staff)  # target gone
    # Not staff actions: one's own account, and events without an actor.
    event(AuditKind.PASSWORD_CHANGED, at(TODAY), actor=user, target=user)
    event(AuditKind.LOGIN_FAILED, at(TODAY), target=user)
    event(AuditKind.USER_UNBANNED, at(TODAY), target=user)  # manage.py: no actor

    daily_stats_refresh(days=1, now=NOW)

    assert stats()[(TODAY, Metric.STAFF_ACTIONS)] == 3


def test_a_rerun_writes_the_same_figures() -> None:
    UserFactory(date_joined=at(TODAY, 3))
    event(AuditKind.LOGIN_FAILED, at(TODAY, 3))
    daily_stats_refresh(days=WINDOW_DAYS, now=NOW)
    first = stats()

    daily_stats_refresh(days=WINDOW_DAYS, now=NOW)

    assert stats() == first
    assert DailyStat.objects.count() == WINDOW_DAYS * len(COUNTED_METRICS) + len(
        SNAPSHOT_METRICS
    )


def test_a_new_event_updates_its_day_on_the_next_run() -> None:
    daily_stats_refresh(days=2, now=NOW)
    event(AuditKind.LOGIN_FAILED, at(TODAY, 12))

    daily_stats_refresh(days=2, now=NOW + timedelta(minutes=10))

    row = DailyStat.objects.get(day=TODAY, metric=Metric.LOGINS_FAILED)
    assert row.value == 1
    assert row.computed_at == NOW + timedelta(minutes=10)
    assert str(row) == "logins.failed 2026-03-10: 1"


def test_days_are_utc_days_whatever_the_active_time_zone() -> None:
    # 23:30 UTC is already tomorrow in Auckland and still today in Los Angeles.
    UserFactory(date_joined=at(YESTERDAY, 23, 30))
    event(AuditKind.LOGIN_SUCCEEDED, at(YESTERDAY, 23, 30))

    for zone in ("Pacific/Auckland", "America/Los_Angeles"):
        with timezone.override(zone):
            daily_stats_refresh(days=2, now=NOW)

        assert stats()[(YESTERDAY, Metric.USERS_JOINED)] == 1
        assert stats()[(TODAY, Metric.USERS_JOINED)] == 0
        assert stats()[(YESTERDAY, Metric.LOGINS_SUCCEEDED)] == 1


def test_today_snapshot_counts_live_sessions_and_two_factor_adoption() -> None:
    with_app, with_email, unconfirmed, without, inactive = (
        UserFactory(),
        UserFactory(),
        UserFactory(),
        UserFactory(),
        UserFactory(is_active=False),
    )
    for user, confirmed in ((with_app, True), (unconfirmed, False), (inactive, True)):
        TOTPAuthenticator.objects.create(
            user=user,
            name="app",
            confirmed=confirmed,
            encrypted_key=encrypt_secret(b"1" * 20),
        )
    EmailDevice.objects.create(user=with_email, name="email", confirmed=True)
    # Two factors, counted once.
    EmailDevice.objects.create(user=with_app, name="email", confirmed=True)
    session = {"refresh_jti": "x", "created_at": NOW - timedelta(hours=1)}
    AuthSession.objects.create(
        user=with_app, expires_at=NOW + timedelta(days=1), **session
    )
    AuthSession.objects.create(
        user=without, expires_at=NOW + timedelta(days=1), **session
    )
    AuthSession.objects.create(  # expired
        user=without, expires_at=NOW - timedelta(minutes=1), **session
    )
    AuthSession.objects.create(  # revoked
        user=without, expires_at=NOW + timedelta(days=1), revoked_at=NOW, **session
    )
    assert User.objects.filter(is_active=True).count() == 4

    daily_stats_refresh(days=2, now=NOW)

    values = stats()
    assert values[(TODAY, Metric.SESSIONS_ACTIVE)] == 2
    assert values[(TODAY, Metric.USERS_ACTIVE)] == 4
    assert values[(TODAY, Metric.USERS_WITH_MFA)] == 2
    # Yesterday's state is gone: no snapshot is made up for it.
    assert (YESTERDAY, Metric.SESSIONS_ACTIVE) not in values


def test_a_past_day_keeps_its_last_snapshot() -> None:
    UserFactory()
    daily_stats_refresh(days=1, now=at(YESTERDAY, 23, 55))
    UserFactory()

    daily_stats_refresh(days=WINDOW_DAYS, now=NOW)

    assert stats()[(YESTERDAY, Metric.USERS_ACTIVE)] == 1
    assert stats()[(TODAY, Metric.USERS_ACTIVE)] == 2


def test_a_refresh_needs_at_least_one_day() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        daily_stats_refresh(days=0, now=NOW)


def test_the_scheduler_refreshes_recent_days_often_and_the_period_nightly() -> None:
    entries = [
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "insights.tasks.refresh_daily_stats"
    ]

    assert sorted(entry["kwargs"]["days"] for entry in entries) == [2, HISTORY_DAYS]
    frequent = next(entry for entry in entries if entry["kwargs"]["days"] == 2)
    assert frequent["schedule"] == 600


def test_the_task_refreshes_the_figures() -> None:
    UserFactory()

    refresh_daily_stats.delay(days=1)  # inline in tests (CELERY_TASK_ALWAYS_EAGER)

    today = timezone.now().astimezone(UTC).date()
    assert DailyStat.objects.get(day=today, metric=Metric.USERS_JOINED).value == 1


def test_manage_py_refresh_stats() -> None:
    UserFactory()
    output = StringIO()

    call_command("refresh_stats", stdout=output)

    expected = HISTORY_DAYS * len(COUNTED_METRICS) + len(SNAPSHOT_METRICS)
    assert DailyStat.objects.count() == expected
    assert (
        f"Refreshed {expected} figures over {HISTORY_DAYS} day(s)" in output.getvalue()
    )

    call_command("refresh_stats", "--days", "1", stdout=output)
    assert "over 1 day(s)" in output.getvalue()


def test_manage_py_refresh_stats_refuses_no_days() -> None:
    with pytest.raises(CommandError, match="at least 1"):
        call_command("refresh_stats", "--days", "0")
    assert not DailyStat.objects.exists()
