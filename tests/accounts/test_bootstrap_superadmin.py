"""The first staff member (issue 13): ``manage.py bootstrap_superadmin``, ``make
superuser`` without a terminal, and Django's own ``createsuperuser`` under mandatory email
verification."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from accounts.models import AuditEvent, AuthSession, User
from accounts.services.sessions import session_create
from config.client import SYSTEM
from tests.factories import UserFactory
from tests.helpers import amr_of
from tests.processes import PROJECT_ROOT, process_environment, scratch_database_url

pytestmark = pytest.mark.django_db

PASSWORD = "a long passphrase for the first admin"


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "Root_Admin")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "Root@Example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)


@pytest.fixture
def no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False, raising=False)


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A terminal whose user answers ``answers`` (input() first, then getpass())."""
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    answers: list[str] = []
    monkeypatch.setattr("builtins.input", lambda prompt: answers.pop(0))
    monkeypatch.setattr("getpass.getpass", lambda prompt: answers.pop(0))
    return answers


def bootstrap(*arguments: str) -> str:
    output = io.StringIO()
    call_command("bootstrap_superadmin", *arguments, stdout=output)
    return output.getvalue()


def is_verified_primary(user: User) -> bool:
    return EmailAddress.objects.filter(
        user=user, email=user.email, verified=True, primary=True
    ).exists()


def test_without_a_terminal_it_reads_the_environment(
    environment: None, no_terminal: None
) -> None:
    output = bootstrap()

    admin = User.objects.get(username="root_admin")
    assert admin.is_superuser
    assert admin.is_staff
    assert admin.is_active
    assert admin.email == "root@example.com"
    assert admin.check_password(PASSWORD)
    assert is_verified_primary(admin)
    assert list(admin.groups.values_list("name", flat=True)) == ["user"]
    assert "Superadmin root_admin <root@example.com> created." in output
    assert "Sign in at http://localhost:8000/admin/" in output
    assert "you will be asked to set up an authenticator app" in output
    events = AuditEvent.objects.filter(target=admin)
    assert set(events.values_list("kind", flat=True)) == {
        "user.registered",
        "email.verified",
    }
    assert not events.exclude(actor=None).exists()  # the system acted


def test_noinput_reads_the_environment_even_in_a_terminal(
    environment: None, terminal: list[str]
) -> None:
    bootstrap("--noinput")  # no answers: asking would fail

    assert User.objects.filter(username="root_admin", is_superuser=True).exists()


def test_running_it_again_changes_nothing(
    environment: None, no_terminal: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    bootstrap()
    events = AuditEvent.objects.count()
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "another passphrase entirely")

    output = bootstrap()

    assert "already existed; nothing to change" in output
    assert User.objects.get(username="root_admin").check_password(PASSWORD)
    assert AuditEvent.objects.count() == events
    assert User.objects.count() == 1


def test_an_existing_account_becomes_a_verified_superadmin(
    environment: None, no_terminal: None
) -> None:
    user = UserFactory(username="root_admin", email="old@example.com")

    output = bootstrap()

    user.refresh_from_db()
    assert user.is_superuser
    assert user.is_staff
    assert user.email == "old@example.com"  # its own address, now verified
    assert is_verified_primary(user)
    assert "made superuser and staff; email address marked verified" in output
    assert AuditEvent.objects.filter(kind="user.roles_changed", target=user).exists()


def test_reset_password_gives_the_new_one_and_ends_the_sessions(
    environment: None, no_terminal: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    bootstrap()
    admin = User.objects.get(username="root_admin")
    session, _ = session_create(user=admin, client=SYSTEM, amr=amr_of(admin))
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "another passphrase entirely")

    output = bootstrap("--reset-password")

    admin.refresh_from_db()
    assert admin.check_password("another passphrase entirely")
    assert "password reset" in output
    assert AuthSession.objects.get(pk=session.pk).revoked_at is not None
    assert AuditEvent.objects.filter(kind="password.changed", target=admin).exists()


def test_reset_password_needs_a_password(
    environment: None, no_terminal: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    bootstrap()
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD")

    with pytest.raises(CommandError, match="A new password is needed"):
        bootstrap("--reset-password")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DJANGO_SUPERUSER_PASSWORD", "short", "password: This password is too short"),
        ("DJANGO_SUPERUSER_PASSWORD", "", "password: A password is needed."),
        ("DJANGO_SUPERUSER_EMAIL", "not an address", "email: Enter a valid email"),
        ("DJANGO_SUPERUSER_USERNAME", "no spaces allowed", "username:"),
    ],
)
def test_a_bad_value_is_refused_with_a_clear_message_and_exit_code_1(
    environment: None,
    no_terminal: None,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    message: str,
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(CommandError, match=message) as refused:
        bootstrap()

    assert refused.value.returncode == 1
    assert not User.objects.exists()


def test_an_address_of_another_account_is_refused(
    environment: None, no_terminal: None
) -> None:
    UserFactory(username="someone", email="root@example.com")

    with pytest.raises(CommandError, match="belongs to another account"):
        bootstrap()

    assert not User.objects.filter(username="root_admin").exists()


def test_without_a_terminal_or_the_environment_it_fails_loudly(
    no_terminal: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``createsuperuser`` skipped without a terminal and exited 0, so ``make superuser``
    in a script seemed to work and made nobody."""
    monkeypatch.delenv("DJANGO_SUPERUSER_USERNAME", raising=False)

    with pytest.raises(CommandError, match="DJANGO_SUPERUSER_USERNAME") as refused:
        bootstrap()

    assert refused.value.returncode == 1


def test_in_a_terminal_it_asks(terminal: list[str]) -> None:
    terminal.extend(["Chief", "chief@example.com", PASSWORD, PASSWORD])

    output = bootstrap()

    chief = User.objects.get(username="chief")
    assert chief.is_superuser
    assert chief.check_password(PASSWORD)
    assert is_verified_primary(chief)
    assert "created" in output
    assert terminal == []


def test_in_a_terminal_an_existing_account_is_not_asked_for_a_password(
    terminal: list[str],
) -> None:
    UserFactory(username="chief", is_superuser=True, is_staff=True)
    terminal.append("chief")

    output = bootstrap()

    assert "already existed" in output
    assert terminal == []


def test_in_a_terminal_reset_password_asks_for_it(terminal: list[str]) -> None:
    UserFactory(username="chief", is_superuser=True, is_staff=True)
    terminal.extend(["chief", *["another passphrase entirely"] * 2])

    bootstrap("--reset-password")

    assert User.objects.get(username="chief").check_password(
        "another passphrase entirely"
    )


def test_in_a_terminal_two_different_passwords_are_refused(
    terminal: list[str],
) -> None:
    terminal.extend(["chief", "chief@example.com", PASSWORD, "something else"])

    with pytest.raises(CommandError, match="The two passwords differ"):
        bootstrap()

    assert not User.objects.exists()


def test_the_next_step_names_the_host_and_says_when_no_factor_is_asked(
    environment: None, no_terminal: None, settings
) -> None:
    settings.ALLOWED_HOSTS = [".example.org", "admin.example.org"]
    settings.MFA_REQUIRED_FOR_STAFF = False

    output = bootstrap()

    assert "Sign in at https://admin.example.org/admin/" in output
    assert "MFA_REQUIRED_FOR_STAFF is off" in output


def test_the_new_superadmin_is_taken_to_the_enrolment_at_the_admin(
    environment: None, no_terminal: None
) -> None:
    bootstrap()

    response = Client().post(
        "/admin/login/", {"username": "root_admin", "password": PASSWORD}
    )

    assert response["Location"] == "/admin/mfa/enrol/"


# --- createsuperuser, and email verification ---------------------------------------------


def test_createsuperuser_leaves_no_superuser_unverified(
    monkeypatch: pytest.MonkeyPatch, settings
) -> None:
    """Under mandatory verification a superuser made by Django's own command had no
    address row at all: the API refused it (email_not_verified) and no verification mail
    could ever be sent."""
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)

    call_command(
        "createsuperuser",
        "--noinput",
        "--username",
        "root_admin",
        "--email",
        "root@example.com",
        verbosity=0,
    )

    admin = User.objects.get(username="root_admin")
    assert is_verified_primary(admin)
    assert AuditEvent.objects.filter(
        kind="email.verified", target=admin, actor=None
    ).exists()
    response = Client().post(
        "/api/v1/auth/login/",
        {"login": "root_admin", "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content


def test_a_plain_user_made_on_the_server_is_not_verified_for_it(db: None) -> None:
    user = User.objects.create_user("plain", "plain@example.com", PASSWORD)

    assert not EmailAddress.objects.filter(user=user).exists()


def test_an_unverified_address_of_a_new_superuser_becomes_primary_and_verified(
    db: None,
) -> None:
    from accounts.services.staff import superuser_address_verify

    user = UserFactory(username="later_admin")
    EmailAddress.objects.create(user=user, email="other@example.com", primary=True)
    EmailAddress.objects.create(user=user, email=user.email, primary=False)

    assert superuser_address_verify(user=user, client=SYSTEM) is True

    assert is_verified_primary(user)
    assert not EmailAddress.objects.get(email="other@example.com").primary


# --- make superuser ---------------------------------------------------------------------


def make_superuser(database_url: str, **variables: str) -> subprocess.CompletedProcess:
    """``make superuser`` as a script runs it: no terminal on stdin. The venv is this
    one and counts as installed (STAMP), so make installs nothing."""
    return subprocess.run(
        [
            "make",
            "--no-print-directory",
            "superuser",
            "STAMP=Makefile",
            f"BIN={Path(sys.executable).parent}",
        ],
        cwd=PROJECT_ROOT,
        env=process_environment(DATABASE_URL=database_url, DEBUG="true", **variables),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_make_superuser_works_without_a_terminal(tmp_path: Path) -> None:
    with scratch_database_url(tmp_path) as database_url:
        made = make_superuser(
            database_url,
            DJANGO_SUPERUSER_USERNAME="root_admin",
            DJANGO_SUPERUSER_EMAIL="root@example.com",
            DJANGO_SUPERUSER_PASSWORD=PASSWORD,
        )
        refused = make_superuser(
            database_url,
            DJANGO_SUPERUSER_USERNAME="",
            DJANGO_SUPERUSER_PASSWORD="",
        )

    assert made.returncode == 0, made.stderr
    assert "Superadmin root_admin <root@example.com> created." in made.stdout
    assert refused.returncode != 0
    assert "DJANGO_SUPERUSER_USERNAME is not set" in refused.stderr
