"""The admin's front page shows the last 30 days as charts drawn on the server, each
linked to the admin list it counts; it reads only the daily figures, so its cost does not
grow with the number of users and events."""

from __future__ import annotations

import html
import re
from datetime import UTC, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.constants import AuditKind
from accounts.crypto import encrypt_secret
from accounts.models import AuditEvent, AuthSession, TOTPAuthenticator, User
from insights.constants import HISTORY_DAYS, WINDOW_DAYS, Metric
from insights.models import DailyStat
from insights.services import daily_stats_refresh
from tests.factories import UserFactory
from tests.helpers import (
    account,
    admin_client_for,
    count_queries,
    otp_verified_staff_client,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff() -> tuple[Client, User]:
    return otp_verified_staff_client()


def cards(page: str) -> dict[str, tuple[str, str]]:
    """Each card's title -> (its link, its headline figure)."""
    found = re.findall(
        r'<h3><a href="([^"]+)">([^<]+)</a></h3>\s*'
        r'<p class="insights-headline">([^<]+)</p>',
        page,
    )
    return {title: (html.unescape(url), figure) for url, title, figure in found}


def front_page(client: Client) -> str:
    response = client.get("/admin/")
    assert response.status_code == 200
    return response.content.decode()


def seed(now: timezone.datetime) -> None:
    """Activity of today and of 40 days ago (outside the period)."""
    staff_member = UserFactory(username="mod")
    old = now - timedelta(days=40)
    for when in (now, now, old):
        user = UserFactory(date_joined=when)
        AuditEvent.objects.create(
            kind=AuditKind.LOGIN_SUCCEEDED, target=user, actor=user, created_at=when
        )
    AuditEvent.objects.create(kind=AuditKind.LOGIN_FAILED, created_at=now)
    AuditEvent.objects.create(kind=AuditKind.LOGIN_FAILED, created_at=old)
    AuditEvent.objects.create(kind=AuditKind.LOGIN_LOCKED, created_at=now)
    victim = UserFactory(username="victim")
    AuditEvent.objects.create(
        kind=AuditKind.USER_BANNED, actor=staff_member, target=victim, created_at=now
    )
    AuditEvent.objects.create(
        kind=AuditKind.USER_UNBANNED, actor=staff_member, target=victim, created_at=now
    )
    AuditEvent.objects.create(
        kind=AuditKind.USER_BANNED, actor=staff_member, target=victim, created_at=old
    )
    AuthSession.objects.create(
        user=victim, refresh_jti="x", expires_at=now + timedelta(days=1)
    )
    TOTPAuthenticator.objects.create(
        user=victim, name="app", confirmed=True, encrypted_key=encrypt_secret(b"1" * 20)
    )


def test_the_front_page_shows_each_figure_of_the_period(staff) -> None:
    client, _ = staff
    now = timezone.now()
    seed(now)

    page = front_page(client)

    figures = {title: figure for title, (_, figure) in cards(page).items()}
    # users: root, mod, 2 of today + victim (40 days ago's is outside)
    assert figures == {
        "Sign-ups": "5",
        "Sign-ins": "2",
        "Failed sign-ins": "1",
        "Lockouts": "1",
        "Active sessions": "1",
        # root and victim have an app, of 6 active accounts.
        "Two-factor adoption": "33.3%",
        "Bans": "1",
        "Bans lifted": "1",
        "Staff actions": "2",
    }
    assert page.count('<svg class="insights-chart"') == len(figures)
    assert 'role="img"' in page
    assert "Failed sign-ins per day: 1 in 30 days, 1 today" in page
    assert "insights/dashboard.css" in page
    assert "<script" not in page.split('id="content-main"')[1].split("</section>")[0]


def test_every_link_opens_the_list_it_counts(staff) -> None:
    client, _ = staff
    now = timezone.now()
    seed(now)
    page = front_page(client)
    links = {title: url for title, (url, _) in cards(page).items()}
    day_links = [
        html.unescape(url)
        for url in re.findall(r'<a href="([^"]+)" tabindex="-1">', page)
    ]
    assert len(day_links) == 7 * WINDOW_DAYS  # every counted card's days

    expected = {
        "Sign-ups": {"root", "mod", "victim"},
        "Sign-ins": {AuditKind.LOGIN_SUCCEEDED.label},
        "Failed sign-ins": {AuditKind.LOGIN_FAILED.label},
        "Lockouts": {AuditKind.LOGIN_LOCKED.label},
        "Bans": {AuditKind.USER_BANNED.label},
        "Bans lifted": {AuditKind.USER_UNBANNED.label},
        "Staff actions": {AuditKind.USER_BANNED.label, AuditKind.USER_UNBANNED.label},
    }
    for title, url in links.items():
        response = client.get(url)
        # An unknown lookup would redirect to ?e=1.
        assert response.status_code == 200, (title, url)
        change_list = response.context["cl"]
        rows = list(change_list.queryset)
        if title in {"Sign-ups"}:
            assert expected[title] <= {user.username for user in rows}
            assert len(rows) == 5
        elif title == "Active sessions":
            assert [session.user.username for session in rows] == ["victim"]
        elif title == "Two-factor adoption":
            assert {user.username for user in rows} == {"root", "victim"}
        else:
            assert {event.get_kind_display() for event in rows} == expected[title]
            figure = cards(page)[title][1]
            assert len(rows) == int(figure), title
    for url in day_links:
        assert client.get(url).status_code == 200, url


def test_a_days_bar_opens_that_days_list(staff) -> None:
    client, _ = staff
    now = timezone.now()
    AuditEvent.objects.create(kind=AuditKind.LOGIN_FAILED, created_at=now)
    AuditEvent.objects.create(
        kind=AuditKind.LOGIN_FAILED, created_at=now - timedelta(days=1)
    )
    page = front_page(client)
    today = now.astimezone(UTC).date()
    day_link = next(
        html.unescape(url)
        for url in re.findall(r'<a href="([^"]+)" tabindex="-1">', page)
        if "login.failed" in url and f"created_at__gte={today}" in html.unescape(url)
    )

    rows = list(client.get(day_link).context["cl"].queryset)

    assert [event.created_at for event in rows] == [now]


def test_the_page_costs_the_same_whatever_the_data(staff) -> None:
    client, _ = staff
    now = timezone.now()
    front_page(client)  # the first view fills the figures (no worker in tests)
    with count_queries() as empty:
        front_page(client)

    seed(now)
    UserFactory.create_batch(20)
    AuditEvent.objects.bulk_create(
        AuditEvent(kind=kind, created_at=now - timedelta(days=day))
        for kind in AuditKind
        for day in range(WINDOW_DAYS)
    )
    daily_stats_refresh(days=WINDOW_DAYS)
    with count_queries() as busy:
        front_page(client)

    dashboard_queries = [sql for sql in busy if "insights_dailystat" in sql]
    assert len(busy) == len(empty)
    assert len(dashboard_queries) == 1
    # It never counts the tables themselves.
    assert not any("accounts_auditevent" in sql for sql in busy)


def test_the_first_view_on_the_embedded_default_fills_the_figures(staff) -> None:
    client, _ = staff
    UserFactory()

    with count_queries() as small:
        page = front_page(client)

    assert cards(page)["Sign-ups"][1] == "2"
    assert DailyStat.objects.filter(metric=Metric.USERS_JOINED).count() == HISTORY_DAYS
    # The refresh too runs a fixed number of statements: a few grouped reads and an
    # upsert (in batches on SQLite), however many users and events there are.
    DailyStat.objects.all().delete()
    seed(timezone.now())
    UserFactory.create_batch(20)
    with count_queries() as larger:
        front_page(client)
    assert len(larger) == len(small)


def test_figures_older_than_the_interval_are_refreshed_without_a_worker(
    staff,
) -> None:
    client, _ = staff
    daily_stats_refresh(days=WINDOW_DAYS, now=timezone.now() - timedelta(minutes=11))
    UserFactory()

    page = front_page(client)

    assert cards(page)["Sign-ups"][1] == "2"


def test_recent_figures_are_not_recomputed(staff) -> None:
    client, _ = staff
    daily_stats_refresh(days=WINDOW_DAYS, now=timezone.now() - timedelta(minutes=9))
    UserFactory()

    page = front_page(client)

    assert cards(page)["Sign-ups"][1] == "1"


def test_with_a_worker_the_page_only_reads_and_says_when_figures_are_missing(
    staff, settings
) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = False
    client, _ = staff

    page = front_page(client)

    assert "No figures have been computed yet" in page
    assert "manage.py refresh_stats" in page
    assert cards(page)["Sign-ups"][1] == "0"
    assert not DailyStat.objects.exists()


def test_with_a_worker_old_figures_are_shown_with_a_warning(staff, settings) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = False
    client, _ = staff
    computed_at = timezone.now() - timedelta(hours=1)
    daily_stats_refresh(days=WINDOW_DAYS, now=computed_at)
    UserFactory()

    page = front_page(client)

    assert "These figures were computed at" in page
    assert cards(page)["Sign-ups"][1] == "1"


def test_fresh_figures_with_a_worker_show_no_warning(staff, settings) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = False
    client, _ = staff
    daily_stats_refresh(days=WINDOW_DAYS)

    page = front_page(client)

    assert "errornote" not in page
    assert "Figures of" in page


@pytest.mark.parametrize("role", ["moderator", "admin", "superadmin"])
def test_every_staff_role_sees_every_card(role: str) -> None:
    client = admin_client_for(account(role))

    assert len(cards(front_page(client))) == 9


def test_a_card_shows_only_to_who_may_open_its_list() -> None:
    # Staff with no role: the admin lets them in, but they may open no list.
    user = account("moderator")
    user.groups.clear()
    client = admin_client_for(user)

    page = front_page(client)

    assert cards(page) == {}
    assert 'class="module insights"' not in page


def test_times_are_told_in_utc_whatever_the_staffs_time_zone(staff, settings) -> None:
    """The days are UTC days; the time the figures were computed says UTC and is UTC,
    even when a staff member's time zone is active (19:00 UTC is 08:00 in Auckland)."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    client, _ = staff
    computed_at = timezone.now().replace(hour=19, minute=0) - timedelta(days=1)
    daily_stats_refresh(days=WINDOW_DAYS, now=computed_at)

    with timezone.override("Pacific/Auckland"):
        page = front_page(client)

    assert f"computed at {computed_at:%Y-%m-%d} 19:00 UTC" in page


@pytest.mark.parametrize(
    ("before", "now", "expected"),
    [
        (10, 15, "▲ 50% on the 30 days before"),
        (20, 15, "▼ 25% on the 30 days before"),
        (15, 15, "as many as in the 30 days before"),
        (0, 15, "none in the 30 days before"),
        (0, 0, ""),
    ],
)
def test_each_count_is_compared_with_the_30_days_before(
    staff, before: int, now: int, expected: str
) -> None:
    client, _ = staff
    today = timezone.now()
    AuditEvent.objects.bulk_create(
        [AuditEvent(kind=AuditKind.LOGIN_FAILED, created_at=today) for _ in range(now)]
        + [
            AuditEvent(
                kind=AuditKind.LOGIN_FAILED,
                created_at=today - timedelta(days=WINDOW_DAYS + 3),
            )
            for _ in range(before)
        ]
    )

    page = html.unescape(front_page(client))

    failed = page.split(">Failed sign-ins</a>")[1]
    caption = re.search(r'<p class="insights-caption">([^<]*)</p>', failed)
    assert caption is not None
    assert caption[1] == f"{now} today" + (f" · {expected}" if expected else "")


def test_no_comparison_until_the_30_days_before_were_counted(staff) -> None:
    client, _ = staff
    daily_stats_refresh(days=WINDOW_DAYS)  # as before the first nightly run

    page = front_page(client)

    assert "30 days before" not in page
