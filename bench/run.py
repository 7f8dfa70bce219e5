"""Gatehouse benchmark harness: the production server under wrk, against a bare Django view.

Started by ``bench/run`` (see bench/README.md). For each server it recreates a throw-away
database, starts the server on a free loopback port, waits for ``/health/ready/``, runs each
scenario's setup hook, then measures the reference view and every scenario in interleaved
rounds. It prints one table per server and writes the raw figures to ``bench/results/``.

To add a scenario, add a ``Scenario`` to ``SCENARIOS`` below.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import multiprocessing
import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import argon2
import psycopg
import redis
from psycopg import sql

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
REPORT_LUA = BENCH_DIR / "report.lua"
PYTHON = sys.executable  # the venv's interpreter: bench/run starts us with it
VENV_BIN = Path(PYTHON).parent

HOST = "127.0.0.1"  # the only address this harness ever sends traffic to
POSTGRES_ADMIN = f"host={HOST} port=5432 user=postgres dbname=postgres"
# Defaults of --database and --redis-db: a throw-away database and Redis db of their own.
DATABASE_NAME = "gatehouse_bench"
REDIS_DB = 13
WEB_WORKERS = 2  # one per core, bin/start's default; gunicorn gets the same
WEB_THREADS = 4

# Settings of the server under test, on top of a generated SECRET_KEY, HOST, PORT,
# DATABASE_URL and REDIS_URL (``database_url``, ``redis_url``).
SERVER_ENV = {
    "DEBUG": "false",
    # A developer's .env (written by `make run`) must not change the figures.
    "GATEHOUSE_ENV_FILE": "",
    "CACHE_KEY_PREFIX": "gatehouse-bench",
    "BENCHMARK_REFERENCE_VIEW": "true",
    "WEB_WORKERS": str(WEB_WORKERS),
    "WEB_THREADS": str(WEB_THREADS),
    "LOG_LEVEL": "info",  # production's: the access log line is part of each request's cost
    # A token a setup hook obtains must outlive every round of the run.
    "JWT_ACCESS_TOKEN_LIFETIME": "3600",
    # The load comes from one address: per-IP limits would refuse it. The limits stay on
    # (every request is counted, in the same windows as the defaults'), only so high that
    # none is reached.
    **{
        f"RATE_LIMIT_{group}_{tier}": "100000000/m,100000000/h,100000000/d"
        for group, tier in (
            ("DEFAULT", "ANONYMOUS"),
            ("DEFAULT", "USER"),
            ("AUTH", "ANONYMOUS"),
            ("AUTH", "USER"),
            ("REFRESH", "ANONYMOUS"),
            ("UPLOADS", "USER"),
        )
    },
    "RATE_LIMIT_REFRESH_PER_IP": "100000000/m",
    # The refresh scenario mints one session per wrk connection for one user
    # (REFRESH_SEEDS): no cap on live sessions, which would revoke the first ones.
    "MAX_SESSIONS_PER_USER": "0",
    "RATE_LIMIT_LOGIN_FAILURES_PER_IP": "100000000/m",
    "RATE_LIMIT_LOGINS_PER_IP": "100000000/m",
    "RATE_LIMIT_LOGINS_PER_ACCOUNT": "100000000/m",
}
# Passed through from the caller's environment; everything else is left out so that a
# developer's DEBUG=true or similar cannot leak into the figures.
INHERITED_ENV = ("HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ")

OPTIONS_RECORDED = ("duration", "rounds", "warmup", "connections", "threads", "timeout")
DEFAULTS = {"duration": 5, "rounds": 5, "warmup": 2}
QUICK = {"duration": 2, "rounds": 1, "warmup": 1}
# Rounds of one scenario whose req/s differ more than this factor trigger a warning.
UNSTABLE_SPREAD = 1.5


class BenchError(Exception):
    """A failure that ends the run with a message rather than a traceback."""


# --- Scenarios ----------------------------------------------------------------


Body = str | bytes | Mapping[str, Any] | None  # a mapping is sent as JSON


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    cookies: dict[str, str] = field(default_factory=dict)  # what Set-Cookie set

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Context:
    """What a setup hook gets: the running server, and ways to talk to it and its database."""

    base_url: str
    port: int
    env: Mapping[str, str]

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Body = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10,
    ) -> Reply:
        """One HTTP request to the server under test (a dict body is sent as JSON)."""
        all_headers, data = encode_body(body, headers or {})
        connection = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        try:
            connection.request(method, path, body=data, headers=all_headers)
            response = connection.getresponse()
            cookies = dict(
                header.split(";")[0].strip().split("=", 1)
                for header in response.msg.get_all("Set-Cookie") or ()
            )
            return Reply(
                response.status, dict(response.getheaders()), response.read(), cookies
            )
        finally:
            connection.close()

    def manage(self, *args: str) -> str:
        """Run ``manage.py`` with the server's settings and return its output."""
        completed = subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=dict(self.env),
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            raise BenchError(
                f"manage.py {' '.join(args)} failed:\n{completed.stdout}{completed.stderr}"
            )
        return completed.stdout

    def shell(self, code: str) -> str:
        """Run Python code in ``manage.py shell`` (e.g. to create a user)."""
        return self.manage("shell", "--no-imports", "-c", code)


@dataclass(frozen=True)
class Prepared:
    """What a setup hook returns: headers and a body to add, and values for the Lua script."""

    headers: Mapping[str, str] = field(default_factory=dict)
    body: Body = None
    lua_vars: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    name: str
    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Body = None  # a dict is sent as JSON
    # Called once per server run, after it is ready and before measuring: create data, log
    # in; the Prepared it returns overrides headers/body and fills the Lua ``bench_vars``.
    setup: Callable[[Context], Prepared] | None = None
    # A wrk script under bench/ (request()/response() hooks, reading ``bench_vars``), loaded
    # after the generated prelude and before report.lua. It must not define done().
    lua: str | None = None
    # Status of one request sent before measuring, to catch a broken scenario; None skips it.
    expect: int | None = 200
    # Run setup again before every wrk run (warm-up and each round), for scenarios whose
    # requests use up what setup made (single-use refresh tokens).
    fresh_each_run: bool = False


BENCH_USERNAME = "bench_user"
BENCH_STAFF = "bench_staff"  # the API's staff list (staff_search*)
BENCH_ADMIN = "bench_admin"  # the admin's changelist
BENCH_PASSWORD = "bench passphrase for load tests only"  # noqa: S105
# Refresh tokens rotate: each response carries the next one, so every wrk connection
# needs one unspent token to start its chain with (bench/refresh.lua).
REFRESH_SEEDS = 8 * 16 + 1  # 16 per wrk thread (up to 8), and one for the check


def ensure_bench_user(context: Context) -> None:
    context.shell(
        "from accounts.models import User\n"
        f"user, _ = User.objects.get_or_create(username={BENCH_USERNAME!r}, "
        f"defaults={{'email': '{BENCH_USERNAME}@example.com'}})\n"
        f"user.set_password({BENCH_PASSWORD!r}); user.save()\n"
    )


def log_in(context: Context) -> dict:
    reply = context.request(
        "POST",
        "/api/v1/auth/login/",
        body={"login": BENCH_USERNAME, "password": BENCH_PASSWORD},
    )
    if reply.status != 200:
        raise BenchError(f"bench login failed: {reply.status} {reply.body[:300]!r}")
    return reply.json()


def setup_login(context: Context) -> Prepared:
    ensure_bench_user(context)
    return Prepared(body={"login": BENCH_USERNAME, "password": BENCH_PASSWORD})


def setup_me(context: Context) -> Prepared:
    ensure_bench_user(context)
    return Prepared(headers={"Authorization": f"Bearer {log_in(context)['access']}"})


def setup_me_api_key(context: Context) -> Prepared:
    """``me/`` with a key of the bench user, made as an operator would (``manage.py
    apikey create``, which prints the key on a line of its own)."""
    ensure_bench_user(context)
    output = context.manage(
        "apikey", "create", "--user", BENCH_USERNAME, "--name", "bench"
    )
    keys = [line for line in output.splitlines() if line.startswith("gth_")]
    if len(keys) != 1:
        raise BenchError(f"apikey create printed no key:\n{output}")
    return Prepared(headers={"Authorization": f"Api-Key {keys[0]}"})


# Feature flags beside the endpoint flags, one of each kind of rule (issue 15): what a
# frontend's GET flags/ evaluates for its user on every page load.
BENCH_FLAG_RULES = [
    {"everyone": True},
    {"everyone": False},
    {"percent": 30},
    {"percent": 30, "roles": ["admin", "tester"]},
    {"roles": ["moderator"]},
]
BENCH_FLAGS = 20


def ensure_bench_flags(context: Context) -> None:
    context.shell(
        "from accounts.access import SYSTEM_ACTOR\n"
        "from config.client import SYSTEM\n"
        "from flags.models import Flag, FlagChange\n"
        "from flags.services import flag_create\n"
        f"rules = {BENCH_FLAG_RULES!r}\n"
        f"for number in range({BENCH_FLAGS}):\n"
        "    name = f'bench-feature-{number}'\n"
        "    if not Flag.objects.filter(name=name).exists():\n"
        "        flag_create(name=name, actor=SYSTEM_ACTOR, client=SYSTEM,\n"
        "                    source=FlagChange.Source.COMMAND,\n"
        "                    rules=rules[number % len(rules)])\n"
    )


def setup_flags(context: Context) -> Prepared:
    """``GET flags/`` as the bench user: every flag (the API's endpoint flags and
    ``BENCH_FLAGS`` feature flags) evaluated for them."""
    ensure_bench_flags(context)
    return setup_me(context)


def setup_flags_anonymous(context: Context) -> Prepared:
    ensure_bench_flags(context)
    return Prepared()


def setup_refresh(context: Context) -> Prepared:
    """Mint unspent refresh tokens (sessions made directly, without a password hash)."""
    ensure_bench_user(context)
    output = context.shell(
        "import json\n"
        "from accounts.models import User\n"
        "from config.client import SYSTEM\n"
        "from accounts.constants import AMR_PASSWORD\n"
        "from accounts.services.sessions import session_create\n"
        f"user = User.objects.get(username={BENCH_USERNAME!r})\n"
        "tokens = [session_create(user=user, client=SYSTEM, amr=AMR_PASSWORD)[1].refresh "
        f"for _ in range({REFRESH_SEEDS})]\n"
        "print(json.dumps(tokens))\n"
    )
    seeds = json.loads(output.strip().splitlines()[-1])
    return Prepared(
        body={"refresh": seeds[0]},
        lua_vars={"seeds": seeds[1:]},  # seeds[0] is spent by the check request
    )


STAFF_SEARCH_USERS = 1_000_000
SEED_USERS_SQL = """
INSERT INTO accounts_user (id, password, is_superuser, username, first_name, last_name,
    email, is_staff, is_active, date_joined, display_name, bio, phone, timezone, language)
SELECT gen_random_uuid(), '!', false, 'member_' || g, '', '', 'member_' || g || '@example.com',
    false, true, now() - (g || ' seconds')::interval, 'Member ' || g || ' ' || md5(g::text),
    '', '', 'UTC', 'en'
FROM generate_series(1, %s) g
"""


def seed_accounts(context: Context) -> None:
    """1,000,000 accounts, once per database (``--keep-database`` keeps them), vacuumed as
    autovacuum would leave them: until then every search also reads the trigram index's
    pending list (about 20 ms a query at this size)."""
    with psycopg.connect(context.env["DATABASE_URL"], autocommit=True) as connection:
        seeded = connection.execute(
            "SELECT count(*) FROM accounts_user WHERE username LIKE 'member\\_%%'"
        ).fetchone()[0]
        if seeded < STAFF_SEARCH_USERS:
            print(f"  seeding {STAFF_SEARCH_USERS:,} users (about a minute)")
            connection.execute(SEED_USERS_SQL, (STAFF_SEARCH_USERS,))
            connection.execute("VACUUM ANALYZE accounts_user")


# A superadmin signs in as staff must: password, then a code from their authenticator
# app, whose secret the harness knows.
BENCH_TOTP_SECRET = b"bench totp secret 20"


def ensure_staff_with_totp(context: Context, username: str) -> None:
    """A superadmin with a confirmed authenticator app."""
    context.shell(
        "from accounts.crypto import encrypt_secret\n"
        "from accounts.models import TOTPAuthenticator, User\n"
        f"staff = User.objects.filter(username={username!r}).first()\n"
        "if staff is None:\n"
        f"    staff = User.objects.create_superuser({username!r}, "
        f"'{username}@example.com', {BENCH_PASSWORD!r})\n"
        # Encrypted again each run: the key derives from the run's SECRET_KEY.
        "TOTPAuthenticator.objects.update_or_create(user=staff, "
        "name='app', defaults={'confirmed': True, "
        f"'encrypted_key': encrypt_secret({BENCH_TOTP_SECRET!r})}})\n"
    )


def totp_code() -> str:
    """The authenticator app's current code. A code is accepted once per device, so each
    server run signs in once per way in (``_signed_in``)."""
    from django_otp.oath import TOTP  # pure HMAC arithmetic: no Django settings needed

    totp = TOTP(BENCH_TOTP_SECRET)
    totp.time = time.time()
    return f"{totp.token():06d}"


# Per server run (its base URL): the staff access token and the admin session cookie.
_signed_in: dict[tuple[str, str], str] = {}


def staff_access_token(context: Context) -> str:
    """An access token of a session that passed its second factor (``amr`` has "mfa"),
    obtained as a client would: ``login/``, then ``login/mfa/`` with a TOTP code."""
    key = (context.base_url, "api")
    if key not in _signed_in:
        ensure_staff_with_totp(context, BENCH_STAFF)
        reply = context.request(
            "POST",
            "/api/v1/auth/login/",
            body={"login": BENCH_STAFF, "password": BENCH_PASSWORD},
        )
        if reply.status != 200 or not reply.json().get("mfa_required"):
            raise BenchError(f"staff login: {reply.status} {reply.body[:300]!r}")
        reply = context.request(
            "POST",
            "/api/v1/auth/login/mfa/",
            body={"mfa_token": reply.json()["mfa_token"], "code": totp_code()},
        )
        if reply.status != 200:
            raise BenchError(
                f"staff second factor: {reply.status} {reply.body[:300]!r}"
            )
        _signed_in[key] = reply.json()["access"]
    return _signed_in[key]


def setup_staff_search(context: Context) -> Prepared:
    """1,000,000 accounts, searched by a superadmin signed in with a second factor."""
    seed_accounts(context)
    return Prepared(headers={"Authorization": f"Bearer {staff_access_token(context)}"})


def admin_cookie(context: Context) -> str:
    """The Cookie header of an admin session signed in with password and TOTP code (a
    django-otp verified session), through the admin's one-page login form as a browser
    would."""
    key = (context.base_url, "admin")
    if key in _signed_in:
        return _signed_in[key]
    ensure_staff_with_totp(context, BENCH_ADMIN)
    form = context.request("GET", "/admin/login/")
    csrf = form.cookies["csrftoken"]
    body = urlencode(
        {
            "csrfmiddlewaretoken": csrf,
            "username": BENCH_ADMIN,
            "password": BENCH_PASSWORD,
            "code": totp_code(),
        }
    )
    reply = context.request(
        "POST",
        "/admin/login/?next=/admin/",
        body=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={csrf}",
            "Referer": f"{context.base_url}/admin/login/",
        },
    )
    session = reply.cookies.get("sessionid")
    if reply.status != 302 or not session:
        raise BenchError(f"admin login: {reply.status} {reply.body[:300]!r}")
    _signed_in[key] = f"sessionid={session}; csrftoken={csrf}"
    return _signed_in[key]


def setup_admin_changelist(context: Context) -> Prepared:
    """The admin's user list over 1,000,000 accounts, as a superadmin."""
    seed_accounts(context)
    return Prepared(headers={"Cookie": admin_cookie(context)})


ROUND_TRIP_SAMPLE = 50  # sequential requests per scenario


def cache_round_trips(
    context: Context, targets: Sequence[Target], redis_db: int
) -> dict[str, float]:
    """Cache round trips per request of each scenario, as Redis counts them: the rise of
    its ``total_reads_processed`` (one read event per batch of commands a client sends
    and then waits on: a pipeline is one) over :data:`ROUND_TRIP_SAMPLE` requests sent
    one after another. Scenarios whose requests spend what their setup made (single-use
    refresh tokens) or that need a wrk script are skipped. The server is idle otherwise,
    and nothing else should use this Redis meanwhile (its figure would include theirs)."""
    stats = redis_client(redis_db)
    counted = {}
    for target in targets:
        if target.scenario.fresh_each_run or target.scenario.lua:
            continue
        method, path = target.scenario.method, target.scenario.path
        context.request(method, path, body=target.body, headers=target.headers)
        before = int(stats.info("stats")["total_reads_processed"])
        for _ in range(ROUND_TRIP_SAMPLE):
            context.request(method, path, body=target.body, headers=target.headers)
        after = int(stats.info("stats")["total_reads_processed"])
        # Our own INFO is one read event.
        counted[target.name] = (after - before - 1) / ROUND_TRIP_SAMPLE
    return counted


def revocation_delay_ms(context: Context) -> float:
    """How long after ``logout/all/`` answers until its access token is refused, with both
    server processes' caches warm. Zero means the very next request was refused."""
    ensure_bench_user(context)
    access = log_in(context)["access"]
    headers = {"Authorization": f"Bearer {access}"}
    for _ in range(50):  # spread over connections, so every worker process has seen it
        if context.request("GET", "/api/v1/users/me/", headers=headers).status != 200:
            raise BenchError("revocation check: me/ did not answer 200 before logout")
    reply = context.request("POST", "/api/v1/auth/logout/all/", headers=headers)
    answered = time.monotonic()
    if reply.status != 204:
        raise BenchError(f"revocation check: logout/all answered {reply.status}")
    for attempt in range(1000):
        status = context.request("GET", "/api/v1/users/me/", headers=headers).status
        if status == 401:
            return 0.0 if attempt == 0 else (time.monotonic() - answered) * 1000
    raise BenchError("revocation check: the token still worked after 1000 requests")


# A 1 MB file of the bench user's (issue 16), under a fixed id so that the scenario's
# path names it: uploaded through the service, then given that id.
BENCH_FILE_ID = "00000000-0000-4000-8000-0000000f11e5"
BENCH_FILE_BYTES = 1024 * 1024


def setup_file_download(context: Context) -> Prepared:
    ensure_bench_user(context)
    context.shell(
        "from django.core.files.base import ContentFile\n"
        "from django.core.files.storage import default_storage\n"
        "from accounts.models import User\n"
        "from config.client import SYSTEM\n"
        "from files.models import StoredFile\n"
        "from files.services import file_upload\n"
        f"user = User.objects.get(username={BENCH_USERNAME!r})\n"
        f"found = StoredFile.objects.filter(pk={BENCH_FILE_ID!r}).first()\n"
        "if found is None or not default_storage.exists(found.storage_name):\n"
        f"    StoredFile.objects.filter(pk={BENCH_FILE_ID!r}).delete()\n"
        "    line = b'bench bytes for the download scenario, plain text.' + b' ' * 13\n"
        f"    data = (line[:63] + b'\\n') * ({BENCH_FILE_BYTES} // 64)\n"
        "    stored = file_upload(actor=user, content=ContentFile(data), "
        "name='bench-1mb.txt', client=SYSTEM)\n"
        f"    StoredFile.objects.filter(pk=stored.pk).update(id={BENCH_FILE_ID!r})\n"
    )
    return Prepared(headers={"Authorization": f"Bearer {log_in(context)['access']}"})


# Two accounts under fixed ids, so that the avatar scenarios' paths name them (issue 16):
# one without an upload (the generated PNG, drawn once per process), one with an upload
# (streamed from the storage). Anonymous GETs, as an <img> sends them.
BENCH_AVATAR_GENERATED_ID = "00000000-0000-4000-8000-00000000a0a0"
BENCH_AVATAR_UPLOADED_ID = "00000000-0000-4000-8000-00000000a0a1"


def setup_avatars(context: Context) -> Prepared:
    context.shell(
        "import io\n"
        "from PIL import Image\n"
        "from accounts.models import User\n"
        "from config.client import SYSTEM\n"
        "from files.avatars import avatar_set\n"
        "from files.models import Avatar\n"
        f"for pk, name in (({BENCH_AVATAR_GENERATED_ID!r}, 'Generated Avatar'), "
        f"({BENCH_AVATAR_UPLOADED_ID!r}, 'Uploaded Avatar')):\n"
        "    User.objects.get_or_create(pk=pk, defaults={'username': 'bench_' + pk[-4:], "
        "'email': f'bench_{pk[-4:]}@example.com', 'display_name': name})\n"
        f"user = User.objects.get(pk={BENCH_AVATAR_UPLOADED_ID!r})\n"
        "if not Avatar.objects.filter(user=user).exists():\n"
        "    image = io.BytesIO()\n"
        "    Image.new('RGB', (1024, 768), (30, 120, 200)).save(image, 'JPEG')\n"
        "    image.seek(0)\n"
        "    avatar_set(user=user, actor=user, client=SYSTEM, upload=image)\n"
    )
    return Prepared()


REFERENCE = Scenario("reference", "GET", "/bench/reference/")

SCENARIOS: list[Scenario] = [
    Scenario("health_live", "GET", "/health/live/"),
    Scenario("me", "GET", "/api/v1/users/me/", setup=setup_me),
    # The same route with an API key instead of a JWT (issue 14: at least 90% of me).
    Scenario("me_api_key", "GET", "/api/v1/users/me/", setup=setup_me_api_key),
    # Every flag for a signed-in user, and for an anonymous one (issue 15).
    Scenario("flags", "GET", "/api/v1/flags/", setup=setup_flags),
    Scenario("flags_anonymous", "GET", "/api/v1/flags/", setup=setup_flags_anonymous),
    Scenario("login", "POST", "/api/v1/auth/login/", setup=setup_login),
    # The owner downloads a 1 MB file (issue 16): FileResponse from the local folder.
    Scenario(
        "file_download_1mb",
        "GET",
        f"/api/v1/files/{BENCH_FILE_ID}/download/",
        setup=setup_file_download,
    ),
    # Avatars (issue 16): the generated PNG (cached per process) and an uploaded one.
    Scenario(
        "avatar_generated",
        "GET",
        f"/api/v1/users/{BENCH_AVATAR_GENERATED_ID}/avatar/",
        setup=setup_avatars,
    ),
    Scenario(
        "avatar_uploaded",
        "GET",
        f"/api/v1/users/{BENCH_AVATAR_UPLOADED_ID}/avatar/",
        setup=setup_avatars,
    ),
    Scenario(
        "refresh",
        "POST",
        "/api/v1/auth/token/refresh/",
        setup=setup_refresh,
        lua="refresh.lua",
        fresh_each_run=True,
    ),
    Scenario(
        "staff_search",
        "GET",
        "/api/v1/users/?search=member_12345",
        setup=setup_staff_search,
    ),
    # 11,111 matches that sort last in username order: the case the count-aware plan
    # (accounts.selectors.StaffUserList) exists for.
    Scenario(
        "staff_search_broad",
        "GET",
        "/api/v1/users/?search=member_99",
        setup=setup_staff_search,
    ),
    Scenario(
        "admin_changelist",
        "GET",
        "/admin/accounts/user/",
        setup=setup_admin_changelist,
    ),
    Scenario(
        "admin_search",
        "GET",
        "/admin/accounts/user/?q=member_12345",
        setup=setup_admin_changelist,
    ),
]


# --- wrk scripts --------------------------------------------------------------


def encode_body(
    body: Body, headers: Mapping[str, str]
) -> tuple[dict[str, str], bytes | None]:
    headers = dict(headers)
    if body is None or isinstance(body, bytes):
        return headers, body
    if isinstance(body, str):
        return headers, body.encode()
    if not any(name.lower() == "content-type" for name in headers):
        headers["Content-Type"] = "application/json"
    return headers, json.dumps(body, separators=(",", ":")).encode()


def lua_literal(value: Any) -> str:
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str | bytes):
        data = value.encode() if isinstance(value, str) else value
        escaped = "".join(
            chr(byte) if 0x20 <= byte < 0x7F and byte not in b'"\\' else f"\\{byte:03d}"
            for byte in data
        )
        return f'"{escaped}"'
    if isinstance(value, Mapping):
        items = (
            f"[{lua_literal(str(k))}] = {lua_literal(v)}" for k, v in value.items()
        )
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list | tuple):
        return "{" + ", ".join(lua_literal(item) for item in value) + "}"
    raise TypeError(f"No Lua literal for {type(value).__name__}")


@dataclass(frozen=True)
class Target:
    """A scenario made ready to measure: its request, resolved, and its wrk script."""

    scenario: Scenario
    headers: dict[str, str]
    body: bytes | None
    script: Path

    @property
    def name(self) -> str:
        return self.scenario.name


def prepare_target(scenario: Scenario, context: Context, workdir: Path) -> Target:
    prepared = scenario.setup(context) if scenario.setup else Prepared()
    body = prepared.body if prepared.body is not None else scenario.body
    headers, data = encode_body(body, {**scenario.headers, **prepared.headers})
    lines = [
        f"-- Generated by bench/run.py for the scenario {scenario.name!r}.",
        f"wrk.method = {lua_literal(scenario.method)}",
        *(
            f"wrk.headers[{lua_literal(k)}] = {lua_literal(v)}"
            for k, v in headers.items()
        ),
        f"wrk.body = {lua_literal(data)}",
        f"bench_vars = {lua_literal(dict(prepared.lua_vars))}",
    ]
    parts = ["\n".join(lines) + "\n"]
    if scenario.lua:
        parts.append((BENCH_DIR / scenario.lua).read_text())
    parts.append(REPORT_LUA.read_text())
    script = workdir / f"{scenario.name}.lua"
    script.write_text("\n".join(parts))
    target = Target(scenario, headers, data, script)
    if scenario.expect is not None:
        reply = context.request(
            scenario.method, scenario.path, body=data, headers=headers
        )
        if reply.status != scenario.expect:
            raise BenchError(
                f"{scenario.name}: {scenario.method} {scenario.path} answered "
                f"{reply.status}, expected {scenario.expect}: {reply.body[:300]!r}"
            )
    return target


def run_wrk(
    target: Target, base_url: str, seconds: int, opts: argparse.Namespace
) -> dict:
    command = [
        "wrk",
        f"--threads={opts.threads}",
        f"--connections={opts.connections}",
        f"--duration={seconds}s",
        f"--timeout={opts.timeout}s",
        f"--script={target.script}",
        base_url + target.scenario.path,
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    for line in completed.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            return json.loads(line.removeprefix("BENCH_RESULT "))
    raise BenchError(
        f"wrk failed on {target.name} (exit {completed.returncode}):\n"
        f"{completed.stdout}{completed.stderr}"
    )


# --- Services and the server --------------------------------------------------


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise BenchError(f"{what} did not come up within {timeout:.0f} s")
        time.sleep(0.25)


def postgres_is_up() -> bool:
    try:
        with psycopg.connect(POSTGRES_ADMIN, connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


def redis_client(db: int = REDIS_DB) -> redis.Redis:
    return redis.Redis(host=HOST, port=6379, db=db, socket_connect_timeout=2)


def redis_is_up() -> bool:
    try:
        return bool(redis_client().ping())
    except redis.exceptions.ConnectionError:
        return False


def ensure_services() -> None:
    if not postgres_is_up():
        versions = sorted(os.listdir("/etc/postgresql"), key=int)
        if not versions:
            raise BenchError("PostgreSQL is down and no cluster is in /etc/postgresql")
        cluster = [versions[-1], "main"]
        print(f"PostgreSQL is down: starting cluster {'/'.join(cluster)}")
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", *cluster, "start"],
            check=True,
        )
        wait_until(postgres_is_up, 30, "PostgreSQL")
    if not redis_is_up():
        print("Redis is down: starting redis-server")
        subprocess.run(
            [
                *("redis-server", "--daemonize", "yes", "--bind", HOST),
                *("--port", "6379", "--save", "", "--appendonly", "no"),
            ],
            check=True,
        )
        wait_until(redis_is_up, 30, "Redis")


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    print("wrk is missing: installing it with apt-get")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)


def reset_state(opts: argparse.Namespace, *, recreate: bool) -> None:
    """Drop (and recreate) the throw-away database; empty the benchmark's Redis db. With
    ``--keep-database`` the database stays (created if missing), seeded rows and all."""
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as connection:
        name = sql.Identifier(opts.database)
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (opts.database,)
        ).fetchone()
        if not opts.keep_database:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name)
            )
            exists = None
        if recreate and not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(name))
    redis_client(opts.redis_db).flushdb()


def database_url(opts: argparse.Namespace) -> str:
    return f"postgres://postgres@{HOST}:5432/{opts.database}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def server_env(port: int, secret_key: str, opts: argparse.Namespace) -> dict[str, str]:
    env = {name: os.environ[name] for name in INHERITED_ENV if name in os.environ}
    return {
        **env,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', os.defpath)}",
        "PYTHON": PYTHON,
        **SERVER_ENV,
        "DATABASE_URL": database_url(opts),
        "REDIS_URL": f"redis://{HOST}:6379/{opts.redis_db}",
        "SECRET_KEY": secret_key,
        "HOST": HOST,
        "PORT": str(port),
    }


def server_command(server: str, port: int) -> list[str]:
    if server == "granian":
        return [str(ROOT / "bin" / "start")]
    return [
        PYTHON,
        "-m",
        "gunicorn",
        "--worker-class=gthread",
        f"--workers={WEB_WORKERS}",
        f"--threads={WEB_THREADS}",
        f"--bind={HOST}:{port}",
        "config.wsgi:application",
    ]


def describe_server(server: str) -> str:
    how = "bin/start" if server == "granian" else "gunicorn -k gthread"
    return f"{server} ({how}, {WEB_WORKERS} workers x {WEB_THREADS} threads)"


def is_ready(port: int) -> bool:
    connection = http.client.HTTPConnection(HOST, port, timeout=2)
    try:
        connection.request("GET", "/health/ready/")
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def log_tail(log: Path, lines: int = 40) -> str:
    text = log.read_text(errors="replace").splitlines()[-lines:]
    return "\n".join(f"  | {line}" for line in text)


def stop_process(process: subprocess.Popen, grace: float = 15) -> None:
    """SIGTERM the server (it stops its own workers), then SIGKILL whatever is left of its
    process group, which it leads since it was started in a session of its own."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(grace)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@contextlib.contextmanager
def running_server(
    server: str, env: dict[str, str], port: int, log: Path, ready_timeout: float
) -> Iterator[subprocess.Popen]:
    with log.open("ab") as log_file:
        if server == "gunicorn":  # bin/start migrates for granian
            migrate = subprocess.run(
                [PYTHON, "manage.py", "migrate", "--noinput"],
                cwd=ROOT,
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                check=False,
            )
            if migrate.returncode != 0:
                raise BenchError(f"migrate failed:\n{log_tail(log)}")
        process = subprocess.Popen(
            server_command(server, port),
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        started = time.monotonic()
        deadline = started + ready_timeout
        while not is_ready(port):
            if process.poll() is not None:
                raise BenchError(
                    f"{server} exited with {process.returncode}:\n{log_tail(log)}"
                )
            if time.monotonic() > deadline:
                raise BenchError(
                    f"{server} not ready within {ready_timeout:.0f} s:\n{log_tail(log)}"
                )
            time.sleep(0.25)
        print(f"{server} ready on {HOST}:{port} in {time.monotonic() - started:.1f} s")
        yield process
    finally:
        stop_process(process)


# --- Measuring ----------------------------------------------------------------


def measure(
    server: str,
    targets: Sequence[Target],
    base_url: str,
    opts: argparse.Namespace,
    prepare: Callable[[Scenario], Target],
) -> list[dict]:
    def ready(target: Target) -> Target:
        return prepare(target.scenario) if target.scenario.fresh_each_run else target

    if opts.warmup:
        for target in targets:
            run_wrk(ready(target), base_url, opts.warmup, opts)
    rounds = []
    for number in range(1, opts.rounds + 1):
        results = {}
        for target in targets:  # the reference first, then each scenario
            results[target.name] = run_wrk(ready(target), base_url, opts.duration, opts)
        reference_rps = results[REFERENCE.name]["rps"]
        for result in results.values():
            result["vs_reference"] = (
                result["rps"] / reference_rps if reference_rps else None
            )
        progress = " | ".join(
            f"{name} {result['rps']:.0f} req/s ({format_ratio(result['vs_reference'])})"
            for name, result in results.items()
        )
        print(f"  {server} round {number}/{opts.rounds}: {progress}")
        rounds.append({"round": number, "results": results})
    return rounds


def _verify_passwords_for(seconds: float) -> int:
    # The production hasher's parameters (accounts.hashers.Argon2idPasswordHasher).
    hasher = argon2.PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
    encoded = hasher.hash(BENCH_PASSWORD)
    deadline = time.monotonic() + seconds
    count = 0
    while time.monotonic() < deadline:
        hasher.verify(encoded, BENCH_PASSWORD)
        count += 1
    return count


def hasher_parallel_rate(seconds: float) -> float:
    """Password verifications per second with every core hashing: the ceiling of login."""
    processes = os.cpu_count() or 1
    with multiprocessing.Pool(processes) as pool:
        counts = pool.map(_verify_passwords_for, [seconds] * processes)
    return sum(counts) / seconds


def format_ratio(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}"


def median_or_none(values: list[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


def summarise(rounds: list[dict], names: Sequence[str]) -> dict[str, dict]:
    summary = {}
    for name in names:
        results = [entry["results"][name] for entry in rounds]
        latency_ms = {
            f"{p}_ms": statistics.median(r["latency_us"][p] for r in results) / 1000
            for p in ("p50", "p95", "p99")
        }
        summary[name] = {
            "rps": statistics.median(r["rps"] for r in results),
            "rps_min": min(r["rps"] for r in results),
            "rps_max": max(r["rps"] for r in results),
            **latency_ms,
            "vs_reference": median_or_none([r["vs_reference"] for r in results]),
            "requests": sum(r["requests"] for r in results),
            "status_errors": sum(r["errors"]["status"] for r in results),
            "socket_errors": sum(
                sum(v for k, v in r["errors"].items() if k != "status") for r in results
            ),
        }
    return summary


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = (
            cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True)
        )
        return "  ".join([first, *rest]).rstrip()

    return "\n".join([line(headers), *(line(row) for row in rows)])


def format_run(run: dict, opts: argparse.Namespace) -> str:
    title = (
        f"{describe_server(run['server'])}: median of {opts.rounds} round(s) x "
        f"{opts.duration} s, {opts.connections} connections, {opts.threads} wrk threads"
    )
    headers = [
        "scenario",
        "req/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "vs ref",
        "non-2xx",
        "sock err",
        "cache RT",
    ]
    rows = []
    round_trips = run.get("cache_round_trips", {})
    for name, s in run["summary"].items():
        rows.append(
            [
                name,
                f"{s['rps']:.0f}",
                f"{s['p50_ms']:.2f}",
                f"{s['p95_ms']:.2f}",
                f"{s['p99_ms']:.2f}",
                format_ratio(s["vs_reference"]),
                str(s["status_errors"]),
                str(s["socket_errors"]),
                f"{round_trips[name]:.2f}" if name in round_trips else "-",
            ]
        )
    return f"{title}\n{format_table(headers, rows)}"


def format_comparison(runs: Sequence[dict]) -> str:
    first, second = runs
    a, b = first["server"], second["server"]
    rows = []
    for name, s in first["summary"].items():
        other = second["summary"][name]
        rows.append(
            [
                name,
                f"{s['rps']:.0f}",
                f"{other['rps']:.0f}",
                f"{s['rps'] / other['rps']:.2f}",
            ]
        )
    headers = ["scenario", f"{a} req/s", f"{b} req/s", f"{a}/{b}"]
    title = f"{a} vs {b} (median req/s; separate runs, so less exact than 'vs ref')"
    return f"{title}\n{format_table(headers, rows)}"


def warnings_for(run: dict, scenarios: Sequence[Scenario]) -> list[str]:
    expected = {s.name: s.expect for s in scenarios}
    warnings = []
    for name, s in run["summary"].items():
        if s["status_errors"] and (expected[name] or 200) < 400:
            warnings.append(
                f"{name}: {s['status_errors']} responses with status >= 400"
            )
        if s["socket_errors"]:
            warnings.append(f"{name}: {s['socket_errors']} socket errors or timeouts")
        if s["rps_max"] > UNSTABLE_SPREAD * s["rps_min"]:
            warnings.append(
                f"{name}: req/s ranged {s['rps_min']:.0f}-{s['rps_max']:.0f} over the "
                "rounds; its medians are unreliable (see bench/README.md)"
            )
    return [f"warning: {run['server']}: {w}" for w in warnings]


# --- Runs and the command line ------------------------------------------------


def run_server(
    server: str, scenarios: Sequence[Scenario], opts: argparse.Namespace, workdir: Path
) -> dict:
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    port = free_port()
    env = server_env(port, secrets.token_urlsafe(64), opts)
    log = workdir / f"{server}.log"
    reset_state(opts, recreate=True)
    print(f"\n{describe_server(server)}: starting")
    try:
        with running_server(server, env, port, log, opts.ready_timeout):
            context = Context(f"http://{HOST}:{port}", port, env)

            def prepare(scenario: Scenario) -> Target:
                return prepare_target(scenario, context, workdir)

            targets = [prepare(s) for s in scenarios]
            rounds = measure(server, targets, context.base_url, opts, prepare)
            round_trips = cache_round_trips(context, targets, opts.redis_db)
            revocation_ms = revocation_delay_ms(context)
    except Exception:  # a failure, not Ctrl-C: keep the log to look at
        if log.exists():
            RESULTS_DIR.mkdir(exist_ok=True)
            kept = RESULTS_DIR / f"{server}-{started_at.replace(':', '')}.log"
            shutil.copyfile(log, kept)
            print(f"{server}'s log: {kept.relative_to(ROOT)}", file=sys.stderr)
        raise
    return {
        "server": server,
        "description": describe_server(server),
        "command": server_command(server, port),
        "server_env": SERVER_ENV,
        "started_at": started_at,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "scenarios": [
            {"name": s.name, "method": s.method, "path": s.path, "lua": s.lua}
            for s in scenarios
        ],
        "rounds": rounds,
        "summary": summarise(rounds, [s.name for s in scenarios]),
        "cache_round_trips": round_trips,
        "revocation_delay_ms": revocation_ms,
    }


def command_output(command: list[str]) -> str:
    try:
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError:
        return ""
    return (completed.stdout or completed.stderr).strip()


def environment_info() -> dict:
    def version(package: str) -> str | None:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return None

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "git_commit": command_output(["git", "-C", str(ROOT), "rev-parse", "HEAD"]),
        "git_dirty": bool(
            command_output(["git", "-C", str(ROOT), "status", "--porcelain"])
        ),
        "machine": {
            "cpus": os.cpu_count(),
            "cpu": cpu,
            "platform": platform.platform(),
        },
        "versions": {
            "python": platform.python_version(),
            **{
                p: version(p)
                for p in ("django", "djangorestframework", "granian", "gunicorn")
            },
            "wrk": command_output(["wrk", "-v"]).splitlines()[0],
        },
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/run",
        description="Benchmark Gatehouse's production server against a bare Django view.",
    )
    servers = parser.add_mutually_exclusive_group()
    servers.add_argument(
        "--server",
        choices=["granian", "gunicorn"],
        default="granian",
        help="granian through bin/start (default), or gunicorn gthread",
    )
    servers.add_argument(
        "--compare-servers",
        action="store_true",
        help="run everything on granian, then on gunicorn, and compare",
    )
    parser.add_argument(
        "--duration",
        type=int,
        help=f"seconds per measurement (default {DEFAULTS['duration']})",
    )
    parser.add_argument(
        "--rounds", type=int, help=f"rounds (default {DEFAULTS['rounds']})"
    )
    parser.add_argument(
        "--warmup",
        type=int,
        help=f"seconds of unmeasured load per target first (default {DEFAULTS['warmup']})",
    )
    parser.add_argument("--connections", type=int, default=16, help="default 16")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads, default 2")
    parser.add_argument(
        "--timeout", type=int, default=10, help="wrk timeout (s), default 10"
    )
    parser.add_argument(
        "--scenario",
        action="append",
        metavar="NAME",
        help="measure only this scenario (repeatable); the reference always runs",
    )
    parser.add_argument("--ready-timeout", type=float, default=60, help="default 60 s")
    parser.add_argument(
        "--database",
        default=DATABASE_NAME,
        help=f"the PostgreSQL database to (re)create and use (default {DATABASE_NAME})",
    )
    parser.add_argument(
        "--redis-db",
        type=int,
        default=REDIS_DB,
        help=f"the Redis db to empty and use (default {REDIS_DB})",
    )
    parser.add_argument(
        "--keep-database",
        action="store_true",
        help="reuse the database (and its 1,000,000 seeded accounts) instead of "
        "dropping it before and after the run",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: {QUICK['rounds']} round of {QUICK['duration']} s",
    )
    parser.add_argument(
        "--list", action="store_true", help="list the scenarios and exit"
    )
    opts = parser.parse_args(argv)
    for name, value in (QUICK if opts.quick else DEFAULTS).items():
        if getattr(opts, name) is None:
            setattr(opts, name, value)
    if min(opts.duration, opts.rounds, opts.connections, opts.threads) < 1:
        parser.error(
            "--duration, --rounds, --connections and --threads must be positive"
        )
    if opts.threads > opts.connections:
        parser.error("wrk needs at least as many connections as threads")
    return opts


def select_scenarios(names: Sequence[str] | None) -> list[Scenario]:
    known = {s.name: s for s in SCENARIOS}
    if len(known) != len(SCENARIOS) or REFERENCE.name in known:
        raise BenchError("scenario names must be unique and not 'reference'")
    unknown = sorted(set(names or ()) - set(known))
    if unknown:
        raise BenchError(f"unknown scenario(s) {unknown}; known: {sorted(known)}")
    chosen = [s for s in SCENARIOS if not names or s.name in names]
    return [REFERENCE, *chosen]


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse_args(argv)
    if opts.list:
        for s in [REFERENCE, *SCENARIOS]:
            print(f"{s.name:20} {s.method} {s.path}")
        return 0
    scenarios = select_scenarios(opts.scenario)
    servers = ["granian", "gunicorn"] if opts.compare_servers else [opts.server]
    per_server = len(scenarios) * (opts.warmup + opts.rounds * opts.duration)
    print(
        f"Measuring {', '.join(s.name for s in scenarios)} on {', '.join(servers)}: "
        f"about {per_server * len(servers)} s of load"
    )
    ensure_wrk()
    ensure_services()

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    results_file = RESULTS_DIR / f"{stamp}-{'-'.join(servers)}.json"
    document = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **environment_info(),
        "options": {name: getattr(opts, name) for name in OPTIONS_RECORDED},
        "runs": [],
    }
    try:
        with tempfile.TemporaryDirectory(prefix="gatehouse-bench-") as workdir:
            for server in servers:
                run = run_server(server, scenarios, opts, Path(workdir))
                document["runs"].append(run)
                RESULTS_DIR.mkdir(exist_ok=True)
                results_file.write_text(json.dumps(document, indent=2) + "\n")
    finally:
        try:
            reset_state(opts, recreate=False)
        except (psycopg.Error, redis.exceptions.RedisError) as error:
            print(f"warning: cleaning up failed: {error}", file=sys.stderr)

    if any(s.name == "login" for s in scenarios):
        rate = hasher_parallel_rate(max(opts.duration, 2))
        document["hasher_parallel_rate"] = rate
        results_file.write_text(json.dumps(document, indent=2) + "\n")
    for run in document["runs"]:
        print(f"\n{format_run(run, opts)}")
        print(
            "revocation: an access token was refused "
            + (
                "on the very next request after logout/all"
                if run["revocation_delay_ms"] == 0
                else f"{run['revocation_delay_ms']:.0f} ms after logout/all answered"
            )
        )
        if "hasher_parallel_rate" in document and "login" in run["summary"]:
            rate = document["hasher_parallel_rate"]
            login_rps = run["summary"]["login"]["rps"]
            print(
                f"login: {login_rps:.0f} req/s = {login_rps / rate:.0%} of the password "
                f"hasher's own rate on all cores ({rate:.0f} verifications/s)"
            )
    if len(document["runs"]) > 1:
        print(f"\n{format_comparison(document['runs'])}")
    warnings = [w for run in document["runs"] for w in warnings_for(run, scenarios)]
    for warning in warnings:
        print(warning, file=sys.stderr)
    print(f"\nRaw results: {results_file.relative_to(ROOT)}")
    return 0


def exit_on_signal(signum: int, frame: object) -> None:
    # Unwinds through the finally blocks that stop the server and drop the database.
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, exit_on_signal)
    signal.signal(signal.SIGHUP, exit_on_signal)
    try:
        sys.exit(main())
    except BenchError as error:
        print(f"bench/run: error: {error}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("bench/run: interrupted", file=sys.stderr)
        sys.exit(130)
