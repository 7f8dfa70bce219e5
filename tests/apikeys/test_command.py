"""``manage.py apikey create | list | revoke`` (issue 14): keys from the server's shell, as
the system actor, through the services; the full key printed once by ``create`` and
nowhere else, and one line of error with a non-zero exit on bad input."""

from __future__ import annotations

import io
import logging
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.constants import AuditKind
from accounts.models import AuditEvent, User
from apikeys.keys import parse_key, secret_matches
from apikeys.models import ApiKey
from apikeys.scopes import DEFAULT_SCOPES
from tests.factories import UserFactory
from tests.processes import run_python, scratch_database_url

pytestmark = pytest.mark.django_db

KEY_LINE = re.compile(r"^gth_\S+$", re.MULTILINE)


def apikey(*arguments: str) -> str:
    """``manage.py apikey …`` in this process; its standard output."""
    out = io.StringIO()
    call_command("apikey", *arguments, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def printed_key(output: str) -> str:
    [key] = KEY_LINE.findall(output)
    return key


@pytest.fixture
def ada(db: None) -> User:
    return UserFactory(username="ada", email="ada@example.com")


# --- create ---------------------------------------------------------------------------


def test_create_prints_a_users_key_once_and_says_it_will_not_be_shown_again(
    ada: User, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        output = apikey("create", "--user", "ada", "--name", "laptop")

    raw = printed_key(output)
    key = ApiKey.objects.get(user=ada)
    parsed = parse_key(raw)
    assert parsed is not None
    assert parsed.prefix == key.prefix
    assert secret_matches(parsed.secret, key.secret_hash)
    assert key.name == "laptop"
    assert key.scopes == [str(scope) for scope in DEFAULT_SCOPES]
    assert key.expires_at is None
    lines = output.splitlines()
    assert lines[0].startswith(f"Created API key gth_{key.prefix}_… of ada")
    assert lines[1] == raw
    assert "not be shown again" in lines[2] or "cannot be shown again" in lines[2]
    # As the system actor: no person recorded, no address.
    event = AuditEvent.objects.get(kind=AuditKind.API_KEY_CREATED)
    assert (event.actor, event.target, event.ip) == (None, ada, None)
    assert key.created_by is None
    assert [message.to for message in mail.outbox] == [["ada@example.com"]]
    assert raw not in mail.outbox[0].body


def test_create_a_global_key_with_scopes_and_an_expiry(db: None) -> None:
    before = timezone.now()

    output = apikey(
        "create", "--global", "--name", "ci", "--scopes", "users:read, flags:read",
        "--expires", "30d",
    )  # fmt: skip

    key = ApiKey.objects.get()
    assert key.user is None
    assert key.name == "ci"
    assert key.scopes == ["users:read", "flags:read"]
    assert before + timedelta(days=30) <= key.expires_at
    assert key.expires_at <= timezone.now() + timedelta(days=30)
    assert f"Created API key gth_{key.prefix}_… (global)" in output
    assert f"expires {key.expires_at:%Y-%m-%d %H:%M} UTC" in output
    assert parse_key(printed_key(output)).prefix == key.prefix


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        (["--user", "nobody", "--name", "x"], "No user 'nobody'."),
        (["--user", "ada", "--name", "x", "--scopes", "users:read,root"], "root"),
        (["--user", "ada", "--name", "x", "--expires", "30"], "--expires takes"),
        (["--user", "ada", "--name", "x", "--expires", "0d"], "--expires takes"),
        (["--user", "ada", "--name", "x", "--expires", "soon"], "--expires takes"),
        (["--global", "--name", "ci"], "A global key needs --scopes."),
        (["--global", "--name", "ci", "--scopes", ","], "at least one scope"),
        (["--user", "ada", "--name", "  "], "name"),
        (
            ["--user", "ada", "--name", "x", "--scopes", "tokens:introspect"],
            "tokens:introspect",
        ),
        (["--user", "ada", "--name", "x", "--scopes", "admin"], "admin"),
    ],
)
def test_create_refuses_bad_input_in_one_line_and_makes_nothing(
    ada: User, arguments: list[str], error: str
) -> None:
    with pytest.raises(CommandError) as refused:
        apikey("create", *arguments)

    assert error in str(refused.value)
    assert "\n" not in str(refused.value)
    assert not ApiKey.objects.exists()


def test_create_names_its_owner_as_user_or_global_not_both(ada: User) -> None:
    with pytest.raises(CommandError, match="not allowed with"):
        apikey(
            "create", "--user", "ada", "--global", "--name", "x", "--scopes", "admin"
        )


# --- list -----------------------------------------------------------------------------


def make_key(owner: User | None, name: str, **fields: object) -> tuple[ApiKey, str]:
    from accounts.access import SYSTEM_ACTOR
    from apikeys.services import api_key_create
    from config.client import SYSTEM

    key, raw = api_key_create(
        actor=SYSTEM_ACTOR,
        owner_id=owner.pk if owner else None,
        name=name,
        scopes=None if owner else ["users:read"],
        expires_at=None,
        client=SYSTEM,
    )
    ApiKey.objects.filter(pk=key.pk).update(**fields)
    key.refresh_from_db()
    return key, raw


def test_list_prints_a_table_of_every_key(ada: User) -> None:
    used = timezone.now().replace(microsecond=0) - timedelta(hours=2)
    laptop, laptop_raw = make_key(
        ada, "laptop", last_used_at=used, last_used_ip="203.0.113.9"
    )
    ci, ci_raw = make_key(None, "ci", revoked_at=used)

    output = apikey("list")

    header, *rows = output.splitlines()
    assert header.split() == [
        "prefix", "owner", "name", "scopes", "quota", "expires", "last", "used",
        "revoked",
    ]  # fmt: skip
    assert len(rows) == 2
    ci_row, laptop_row = rows  # newest first
    assert ci_row.split()[:4] == [ci.prefix, "(global)", "ci", "users:read"]
    assert ci_row.endswith(f"{used:%Y-%m-%d %H:%M} UTC")
    assert laptop_row.split()[:3] == [laptop.prefix, "ada", "laptop"]
    assert f"{used:%Y-%m-%d %H:%M} UTC from 203.0.113.9" in laptop_row
    assert "never" in laptop_row  # it does not expire
    assert laptop_row.rstrip().endswith("-")  # not revoked
    # Every column starts where its header does.
    for row in rows:
        assert row.index(row.split()[1]) == header.index("owner")
    assert laptop_raw not in output
    assert ci_raw not in output


def test_list_of_one_user_and_of_none(ada: User) -> None:
    mine, _ = make_key(ada, "laptop")
    theirs, _ = make_key(UserFactory(username="grace"), "desktop")

    output = apikey("list", "--user", "ada")

    assert mine.prefix in output
    assert theirs.prefix not in output
    assert apikey("list", "--user", UserFactory().username) == "No API keys.\n"
    with pytest.raises(CommandError, match=r"^No user 'nobody'\.$"):
        apikey("list", "--user", "nobody")


# --- revoke ---------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["{prefix}", "gth_{prefix}", "gth_{prefix}_…"])
def test_revoke_by_prefix_as_list_shows_it_or_as_the_key_begins(
    ada: User, typed: str, django_capture_on_commit_callbacks
) -> None:
    key, _ = make_key(ada, "laptop")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        output = apikey("revoke", typed.format(prefix=key.prefix))

    key.refresh_from_db()
    assert key.revoked_at is not None
    assert key.revoked_by is None  # the system
    assert output == (
        f"Revoked API key gth_{key.prefix}_… of ada: it stops working at once.\n"
    )
    event = AuditEvent.objects.get(kind=AuditKind.API_KEY_REVOKED)
    assert (event.actor, event.target) == (None, ada)
    assert [message.to for message in mail.outbox] == [["ada@example.com"]]


def test_revoke_refuses_an_unknown_prefix_and_a_revoked_key(ada: User) -> None:
    key, _ = make_key(ada, "laptop")
    apikey("revoke", key.prefix)
    revoked_at = ApiKey.objects.get().revoked_at

    with pytest.raises(CommandError, match=r"^No API key with the prefix 'nope'\.$"):
        apikey("revoke", "nope")
    with pytest.raises(CommandError, match="already revoked") as again:
        apikey("revoke", key.prefix)

    assert f"{revoked_at:%Y-%m-%d %H:%M} UTC" in str(again.value)
    assert ApiKey.objects.get().revoked_at == revoked_at
    assert AuditEvent.objects.filter(kind=AuditKind.API_KEY_REVOKED).count() == 1


def test_a_key_that_went_while_the_command_ran_is_reported_in_one_line(
    ada: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its owner erased between the lookup and the revocation: the service's
    ``not_found``, as one line."""
    from apikeys.management.commands import apikey as command

    key, _ = make_key(ada, "laptop")
    monkeypatch.setattr(command, "api_key_by_prefix", lambda prefix: key)
    ApiKey.objects.filter(pk=key.pk).delete()

    with pytest.raises(CommandError, match=r"^No such API key\.$"):
        apikey("revoke", key.prefix)


def test_a_global_key_is_revoked_as_global(db: None) -> None:
    key, _ = make_key(None, "ci")

    assert apikey("revoke", key.prefix) == (
        f"Revoked API key gth_{key.prefix}_… (global): it stops working at once.\n"
    )


# --- the secret is never logged ---------------------------------------------------------


def test_the_key_is_in_creates_output_and_in_no_log_record(
    ada: User, caplog: pytest.LogCaptureFixture
) -> None:
    # Every record at DEBUG, and Django's log of each SQL statement with its parameters
    # (as with DEBUG on), while the key is made and listed.
    with (
        caplog.at_level(logging.DEBUG),
        caplog.at_level(logging.DEBUG, logger="django.db.backends"),
        CaptureQueriesContext(connection),
    ):
        raw = printed_key(apikey("create", "--user", "ada", "--name", "laptop"))
        listed = apikey("list")

    assert "INSERT INTO" in caplog.text  # the key's row was logged, its secret not
    secret = parse_key(raw).secret
    assert raw not in caplog.text
    assert secret not in caplog.text
    assert secret not in listed


@pytest.mark.slow
def test_manage_py_apikey_in_a_process_of_its_own(tmp_path: Path) -> None:
    """The command as operators run it: exit codes, and the key only in ``create``'s
    standard output, not in its log (every logger at DEBUG, SQL included)."""
    with scratch_database_url(tmp_path) as database_url:
        environment = {
            "PATH": os.environ["PATH"],
            "DATA_DIR": str(tmp_path),
            "DATABASE_URL": database_url,
            "DEBUG": "true",
            "LOG_LEVEL": "DEBUG",
        }

        def manage(*arguments: str):
            return run_python("manage.py", *arguments, environment=environment)

        migrated = manage("migrate", "--noinput", "-v0")
        assert migrated.returncode == 0, migrated.stderr
        made = manage(
            "shell", "-c",
            "from accounts.models import User; User.objects.create_user('ada', 'ada@example.com')",
        )  # fmt: skip
        assert made.returncode == 0, made.stderr

        created = manage("apikey", "create", "--user", "ada", "--name", "laptop")
        listed = manage("apikey", "list")
        unknown_user = manage("apikey", "create", "--user", "bob", "--name", "x")
        bad_duration = manage(
            "apikey", "create", "--user", "ada", "--name", "x", "--expires", "later"
        )
        prefix = parse_key(printed_key(created.stdout)).prefix
        revoked = manage("apikey", "revoke", prefix)
        again = manage("apikey", "revoke", prefix)

    assert created.returncode == 0, created.stderr
    raw = printed_key(created.stdout)
    assert created.stdout.count(raw) == 1
    assert listed.returncode == 0, listed.stderr
    assert prefix in listed.stdout
    assert revoked.returncode == 0, revoked.stderr
    for refused, error in [
        (unknown_user, "No user 'bob'."),
        (bad_duration, "--expires takes a duration"),
        (again, "already revoked"),
    ]:
        assert refused.returncode == 1
        assert refused.stdout == ""
        [line] = [
            line for line in refused.stderr.splitlines() if "CommandError" in line
        ]
        assert line.startswith("CommandError: ")
        assert error in line
    secret = parse_key(raw).secret
    for result in (created, listed, unknown_user, bad_duration, revoked, again):
        assert secret not in result.stderr
    for result in (listed, revoked, again):
        assert secret not in result.stdout
