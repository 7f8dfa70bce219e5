"""The admin dashboard at scale: seeds PostgreSQL with many users and audit events, then
times the figures' refresh (``daily_stats_refresh``: 2 days as every ten minutes, 60 as
nightly, and 30), the front page, and the lists its cards link to.

    .venv/bin/python bench/dashboard.py                       # 1,000,000 users, 10,000,000 events
    .venv/bin/python bench/dashboard.py --users 100000 --events 1000000 --keep

It needs PostgreSQL on 127.0.0.1:5432 (user ``postgres``, trust auth). It drops and
recreates its own database, ``gh_dash`` (``--database``), and drops it again at the end
unless ``--keep``. Rows are generated inside PostgreSQL (``INSERT ... SELECT`` over
``generate_series``): users joined over the last year; events evenly over
``--spread-days`` days, written in time order as the log is (of the kinds the dashboard
counts, one in fifty by a staff member); live sessions and authenticator apps for a share
of the users.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
ADMIN_DSN = f"host={HOST} port=5432 user=postgres dbname=postgres"

KINDS = [
    "login.succeeded",
    "login.succeeded",
    "login.succeeded",
    "login.succeeded",
    "login.failed",
    "login.failed",
    "session.logout",
    "user.profile_updated",
    "login.locked",
    "user.banned",
    "user.unbanned",
    "password.changed",
]


def log(message: str) -> None:
    print(message, flush=True)


def timed(label: str, action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    elapsed = time.perf_counter() - started
    log(f"  {label}: {elapsed:.2f} s")
    return elapsed


def recreate(database: str) -> None:
    with psycopg.connect(ADMIN_DSN, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(database)
            )
        )
        connection.execute(
            sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database))
        )


def drop(database: str) -> None:
    with psycopg.connect(ADMIN_DSN, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(database)
            )
        )


def seed(dsn: str, *, users: int, events: int, spread_days: int) -> None:
    """Generated rows; the audit log's secondary indexes are dropped during its load and
    rebuilt after (as a bulk import would), which is what makes ten million rows
    affordable here."""
    with psycopg.connect(dsn, autocommit=True) as connection:
        run = connection.execute
        timed(
            f"{users:,} users",
            lambda: run(
                """
                INSERT INTO accounts_user (id, password, is_superuser, username,
                    first_name, last_name, email, is_staff, is_active, date_joined,
                    display_name, bio, phone, timezone, language)
                SELECT gen_random_uuid(), '!', false, 'user_' || g, '', '',
                    'user_' || g || '@example.com', false, g %% 50 <> 0,
                    now() - random() * interval '365 days', 'user_' || g, '', '', 'UTC', 'en'
                FROM generate_series(1, %s) AS g
                """,
                (users,),
            ),
        )
        run(
            """
            INSERT INTO accounts_user (id, password, is_superuser, username, first_name,
                last_name, email, is_staff, is_active, date_joined, display_name, bio,
                phone, timezone, language)
            VALUES (gen_random_uuid(), '!', true, 'benchroot', '', '',
                'benchroot@example.com', true, true, now(), 'benchroot', '', '', 'UTC',
                'en')
            """
        )
        timed(
            f"{users // 10:,} authenticator apps",
            lambda: run(
                """
                INSERT INTO accounts_totpauthenticator (user_id, name, confirmed,
                    throttling_failure_timestamp, throttling_failure_count, created_at,
                    last_used_at, encrypted_key, step, t0, digits, tolerance, drift,
                    last_t)
                SELECT id, 'app', true, NULL, 0, now(), NULL, '', 30, 0, 6, 1, 0, -1
                FROM accounts_user TABLESAMPLE BERNOULLI (10)
                """
            ),
        )
        timed(
            f"{users // 5:,} live sessions",
            lambda: run(
                """
                INSERT INTO accounts_authsession (id, user_id, created_at, last_used_at,
                    expires_at, refresh_jti, ip, user_agent, revoked_at, revoke_reason,
                    amr, auth_time)
                SELECT gen_random_uuid(), id, now(), now(), now() + interval '7 days',
                    md5(id::text), NULL, '', NULL, '', '["pwd"]', now()
                FROM accounts_user TABLESAMPLE BERNOULLI (20)
                """
            ),
        )
        indexes = run(
            """
            SELECT indexname, indexdef FROM pg_indexes
            WHERE tablename = 'accounts_auditevent' AND indexname NOT LIKE '%pkey'
            """
        ).fetchall()
        for name, _ in indexes:
            run(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
        staff_id = run(
            "SELECT id FROM accounts_user WHERE username = 'benchroot'"
        ).fetchone()[0]
        kinds = "ARRAY[" + ",".join(f"'{kind}'" for kind in KINDS) + "]"
        batch = 1_000_000
        for start in range(0, events, batch):
            size = min(batch, events - start)
            timed(
                f"{start + size:,} / {events:,} events",
                lambda size=size, start=start: run(
                    f"""
                    INSERT INTO accounts_auditevent (id, kind, actor_id, target_id, ip,
                        user_agent, created_at, payload)
                    SELECT gen_random_uuid(), ({kinds})[1 + g %% {len(KINDS)}],
                        CASE WHEN g %% 50 = 0 THEN %s::uuid END, NULL, NULL, '',
                        now() - %s * interval '1 day'
                            * (1 - (g + %s)::float8 / %s), '{{}}'
                    FROM generate_series(1, %s) AS g
                    """,  # noqa: S608 (constants of this file)
                    (staff_id, spread_days, start, events, size),
                ),
            )
        for name, definition in indexes:
            timed(f"index {name}", lambda definition=definition: run(definition))
        timed("ANALYZE", lambda: run("VACUUM ANALYZE"))


MEASURE = r"""
import json, statistics, sys, time
import django
django.setup()
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_otp import DEVICE_ID_SESSION_KEY
from accounts.crypto import encrypt_secret
from accounts.models import TOTPAuthenticator, User
from insights.services import daily_stats_refresh

def clock(action, rounds):
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return times

result = {}
result["refresh_2_days"] = clock(lambda: daily_stats_refresh(days=2), 3)
result["refresh_30_days"] = clock(lambda: daily_stats_refresh(days=30), 2)
result["refresh_60_days"] = clock(lambda: daily_stats_refresh(days=60), 2)

staff = User.objects.get(username="benchroot")
device = TOTPAuthenticator.objects.create(
    user=staff, name="bench", confirmed=True, encrypted_key=encrypt_secret(b"0" * 20)
)
client = Client()
client.force_login(staff)
session = client.session
session[DEVICE_ID_SESSION_KEY] = device.persistent_id
session.save()

def get(url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response

page = get("/admin/").content.decode()
with CaptureQueriesContext(connection) as queries:
    get("/admin/")
result["page_queries"] = len(queries)
result["page"] = clock(lambda: get("/admin/"), 10)

import html, re
links = re.findall(r'<h3><a href="([^"]+)">([^<]+)</a></h3>', page)
for url, title in links:
    result["list: " + title] = clock(lambda url=url: get(html.unescape(url)), 3)
print("RESULT " + json.dumps(result))
"""


def measure(database_url: str) -> dict[str, object]:
    environment = {
        **{key: value for key, value in os.environ.items() if key in {"PATH", "HOME"}},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DEBUG": "false",
        # A deployment with a worker: the page only reads the figures.
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "ALLOWED_HOSTS": "testserver",
        "LOG_LEVEL": "WARNING",
    }
    completed = subprocess.run(
        [sys.executable, "-c", MEASURE],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(completed.stderr[-4000:])
    line = next(
        line for line in completed.stdout.splitlines() if line.startswith("RESULT ")
    )
    import json

    return json.loads(line.removeprefix("RESULT "))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--spread-days", type=int, default=120)
    parser.add_argument("--database", default="gh_dash")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument(
        "--reuse", action="store_true", help="measure an already seeded database"
    )
    options = parser.parse_args()
    database_url = f"postgres://postgres@{HOST}:5432/{options.database}"
    dsn = f"host={HOST} port=5432 user=postgres dbname={options.database}"
    if not options.reuse:
        log(f"Database {options.database}: recreated and migrated")
        recreate(options.database)
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
            cwd=ROOT,
            env={
                **os.environ,
                "DATABASE_URL": database_url,
                "DEBUG": "true",
                "LOG_LEVEL": "WARNING",
            },
            check=True,
        )
        log("Seeding")
        seed(
            dsn,
            users=options.users,
            events=options.events,
            spread_days=options.spread_days,
        )
    try:
        with psycopg.connect(dsn) as connection:
            in_period = connection.execute(
                "SELECT count(*) FROM accounts_auditevent "
                "WHERE created_at >= now() - interval '30 days'"
            ).fetchone()[0]
            totals = connection.execute(
                "SELECT (SELECT count(*) FROM accounts_user),"
                " (SELECT count(*) FROM accounts_auditevent)"
            ).fetchone()
        log(
            f"Measuring: {totals[0]:,} users, {totals[1]:,} events "
            f"({in_period:,} in the last 30 days)"
        )
        result = measure(database_url)
        for name, value in result.items():
            if isinstance(value, list):
                log(
                    f"  {name}: median {statistics.median(value) * 1000:.0f} ms "
                    f"(min {min(value) * 1000:.0f}, max {max(value) * 1000:.0f}, "
                    f"{len(value)} runs)"
                )
            else:
                log(f"  {name}: {value}")
    finally:
        if not options.keep:
            drop(options.database)


if __name__ == "__main__":
    main()
