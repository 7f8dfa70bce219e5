"""What the dashboard counts, and how often the counts are refreshed."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from django.db import models

from accounts.constants import AuditKind


class Metric(models.TextChoices):
    """One daily figure. Counted metrics are the day's events (UTC days); snapshot metrics
    are a state (live sessions, users with a second factor) read at each refresh, so a
    day's value is the one read by its last refresh: they have no history from before the
    first refresh (their rows are gone: a session is deleted once it ends)."""

    USERS_JOINED = "users.joined", "Sign-ups"
    LOGINS_SUCCEEDED = "logins.succeeded", "Sign-ins"
    LOGINS_FAILED = "logins.failed", "Failed sign-ins"
    LOGINS_LOCKED = "logins.locked", "Lockouts"
    SESSIONS_ACTIVE = "sessions.active", "Active sessions"
    BANS_STARTED = "bans.started", "Bans"
    BANS_LIFTED = "bans.lifted", "Bans lifted"
    USERS_ACTIVE = "users.active", "Active accounts"
    USERS_WITH_MFA = "users.mfa", "Active accounts with two-factor"
    STAFF_ACTIONS = "staff.actions", "Staff actions"


# Counted from the audit log, one kind each.
EVENT_METRICS: Final = {
    Metric.LOGINS_SUCCEEDED: AuditKind.LOGIN_SUCCEEDED,
    Metric.LOGINS_FAILED: AuditKind.LOGIN_FAILED,
    Metric.LOGINS_LOCKED: AuditKind.LOGIN_LOCKED,
    Metric.BANS_STARTED: AuditKind.USER_BANNED,
    Metric.BANS_LIFTED: AuditKind.USER_UNBANNED,
}
COUNTED_METRICS: Final = (
    Metric.USERS_JOINED,
    *EVENT_METRICS,
    Metric.STAFF_ACTIONS,
)
SNAPSHOT_METRICS: Final = (
    Metric.SESSIONS_ACTIVE,
    Metric.USERS_ACTIVE,
    Metric.USERS_WITH_MFA,
)

# The dashboard's period, today included.
WINDOW_DAYS: Final = 30
# What the figures cover: the period and the one before it, which each card compares with.
HISTORY_DAYS: Final = 2 * WINDOW_DAYS
# How often the worker refreshes today's and yesterday's figures (CELERY_BEAT_SCHEDULE
# says the same); the embedded default, which has no worker, refreshes when a page finds
# them older than this.
REFRESH_INTERVAL: Final = timedelta(minutes=10)
# Figures older than this on a deployment with a worker: its scheduler is not running.
STALE_AFTER: Final = 3 * REFRESH_INTERVAL
