"""Settings come from the environment; a bad value stops the process with one clear line."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from config.env import ConfigurationError, Settings
from tests.processes import run_python

STRONG_SECRET_KEY = "k3J9-pQ2_zX8vL5nR1tY7wB4mC6hF0dG-sA2eU9iO3pK5jH8gT1rE4wQ7yN0bV2cX6"


def run_manage_check(
    tmp_path: Path, *options: str, **variables: str
) -> subprocess.CompletedProcess[str]:
    """``manage.py check`` in a fresh process whose environment holds only ``variables``."""
    environment = {"PATH": os.environ["PATH"], "DATA_DIR": str(tmp_path), **variables}
    return run_python("manage.py", "check", *options, environment=environment)


@pytest.mark.slow
def test_embedded_default_starts_with_debug_and_nothing_else(tmp_path: Path) -> None:
    result = run_manage_check(tmp_path, DEBUG="true")

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "gatehouse.sqlite3").exists() is False  # check opens no database


@pytest.mark.slow
def test_a_real_secret_key_is_enough_with_debug_off(tmp_path: Path) -> None:
    assert run_manage_check(tmp_path, SECRET_KEY=STRONG_SECRET_KEY).returncode == 0


@pytest.mark.slow
def test_deploy_checklist_passes_once_the_two_opt_ins_are_set(tmp_path: Path) -> None:
    # Redirecting to HTTPS and HSTS preload are left to the operator; everything else
    # Django's deployment checklist asks for is on by default with DEBUG off.
    result = run_manage_check(
        tmp_path,
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=STRONG_SECRET_KEY,
        SECURE_SSL_REDIRECT="true",
        SECURE_HSTS_PRELOAD="true",
    )

    assert result.returncode == 0, result.stderr + result.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY is too weak"),
        (
            {"SECRET_KEY": "django-insecure-" + "a1b2c3d4e5" * 5},
            "SECRET_KEY is too weak",
        ),
        (
            {"SECRET_KEY": STRONG_SECRET_KEY, "DATABASE_URL": "mysql://root@db/app"},
            "DATABASE_URL",
        ),
        (
            {
                "SECRET_KEY": STRONG_SECRET_KEY,
                "DATABASE_URL": "postgres://u:hunter2@h:x/db",
            },
            "DATABASE_URL",
        ),
        ({"SECRET_KEY": STRONG_SECRET_KEY, "DEBUG": "maybe"}, '"DEBUG" invalid'),
        ({"SECRET_KEY": STRONG_SECRET_KEY, "REDIS_URL": "localhost:6379"}, "REDIS_URL"),
        (
            {"SECRET_KEY": STRONG_SECRET_KEY, "EMAIL_URL": "carrier-pigeon://"},
            "EMAIL_URL",
        ),
        (
            {"SECRET_KEY": STRONG_SECRET_KEY, "FRONTEND_URL": "example.com"},
            "FRONTEND_URL",
        ),
        ({"SECRET_KEY": STRONG_SECRET_KEY, "LANGUAGES": "en,xx"}, "LANGUAGES"),
        (
            {"SECRET_KEY": STRONG_SECRET_KEY, "JWT_SIGNING_KEY": "hunter2"},
            '"JWT_SIGNING_KEY" invalid',
        ),
        (
            {"SECRET_KEY": STRONG_SECRET_KEY, "ADMIN_SESSION_HOURS": "0"},
            '"ADMIN_SESSION_HOURS" invalid',
        ),
        (
            {"SECRET_KEY": STRONG_SECRET_KEY, "MFA_ENCRYPTION_KEYS": "not-a-key"},
            "MFA_ENCRYPTION_KEYS",
        ),
        (
            {
                "SECRET_KEY": STRONG_SECRET_KEY,
                "ACCOUNT_EMAIL_VERIFICATION": "sometimes",
            },
            "ACCOUNT_EMAIL_VERIFICATION",
        ),
        (
            {"SECRET_KEY": STRONG_SECRET_KEY, "GATEHOUSE_ENV_FILE": "/nowhere/.env"},
            '"GATEHOUSE_ENV_FILE" invalid',
        ),
    ],
)
def test_bad_configuration_stops_the_process_with_one_line(
    tmp_path: Path, variables: dict[str, str], expected: str
) -> None:
    result = run_manage_check(tmp_path, **variables)

    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Gatehouse configuration error:")
    assert expected in lines[0]
    assert "hunter2" not in result.stderr  # a password in a URL is never echoed


@pytest.mark.parametrize("key", ["x" * 31, "é" * 15])
def test_a_jwt_signing_key_under_32_bytes_is_refused(
    monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    monkeypatch.setenv("JWT_SIGNING_KEY", key)

    with pytest.raises(ConfigurationError) as raised:
        Settings().jwt_signing_key("the-secret-key")

    assert str(raised.value).startswith(
        'Gatehouse configuration error: Environment variable "JWT_SIGNING_KEY" '
        "invalid: an HS256 key needs at least 32 bytes"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", "the-secret-key"), ("k" * 32, "k" * 32), ("é" * 16, "é" * 16)],
)
def test_a_jwt_signing_key_of_32_bytes_or_none_is_accepted(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: str
) -> None:
    monkeypatch.setenv("JWT_SIGNING_KEY", value)

    assert Settings().jwt_signing_key("the-secret-key") == expected


def test_admin_sessions_last_eight_hours_by_default() -> None:
    # Django's default is two weeks.
    assert settings.SESSION_COOKIE_AGE == 8 * 3600


@pytest.mark.slow
def test_admin_session_hours_sets_the_session_cookie_age(tmp_path: Path) -> None:
    environment = {
        "PATH": os.environ["PATH"],
        "DATA_DIR": str(tmp_path),
        "DEBUG": "true",
        "ADMIN_SESSION_HOURS": "2",
    }
    result = run_python(
        "manage.py",
        "shell",
        "-c",
        "from django.conf import settings; print(settings.SESSION_COOKIE_AGE)",
        environment=environment,
    )

    assert result.stdout.strip().splitlines()[-1] == "7200", result.stderr


def test_database_url_selects_postgresql_with_persistent_connections(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "DATABASE_URL", "postgres://app:secret@db.internal:6432/gatehouse"
    )

    database = Settings().database("DATABASE_URL", "")

    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["HOST"], database["PORT"], database["NAME"]) == (
        "db.internal",
        6432,
        "gatehouse",
    )
    assert (database["USER"], database["PASSWORD"]) == ("app", "secret")


def test_database_url_without_a_name_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://app@db.internal:5432")

    with pytest.raises(ConfigurationError, match="database name is missing"):
        Settings().database("DATABASE_URL", "")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "console:",
            {"EMAIL_BACKEND": "config.mail.ConsoleEmailBackend"},
        ),
        ("memory:", {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}),
        (
            "smtp://mailer:pw@smtp.example.com:2525",
            {
                "EMAIL_HOST": "smtp.example.com",
                "EMAIL_PORT": 2525,
                "EMAIL_HOST_USER": "mailer",
                "EMAIL_HOST_PASSWORD": "pw",
            },
        ),
        (
            "submission://smtp.example.com:587",
            {"EMAIL_USE_TLS": True, "EMAIL_PORT": 587},
        ),
        ("smtps://smtp.example.com:465", {"EMAIL_USE_SSL": True, "EMAIL_PORT": 465}),
        (
            "anymail://mailgun",
            {"EMAIL_BACKEND": "anymail.backends.mailgun.EmailBackend"},
        ),
        (
            "anymail://amazon_ses",
            {"EMAIL_BACKEND": "anymail.backends.amazon_ses.EmailBackend"},
        ),
        # file:///path is absolute, as the README says (dj-email-url made it relative).
        (
            "file:///var/spool/gatehouse",
            {
                "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                "EMAIL_FILE_PATH": "/var/spool/gatehouse",
            },
        ),
        ("file:////var/spool/gatehouse", {"EMAIL_FILE_PATH": "/var/spool/gatehouse"}),
    ],
)
def test_email_url_schemes(
    monkeypatch: pytest.MonkeyPatch, url: str, expected: dict
) -> None:
    monkeypatch.setenv("EMAIL_URL", url)

    email = Settings().email("EMAIL_URL", "console:")

    assert expected.items() <= email.items()


@pytest.mark.parametrize("url", ["file://relative/mail", "file:mail"])
def test_a_file_email_url_must_be_absolute(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("EMAIL_URL", url)

    with pytest.raises(ConfigurationError, match="file:///ABSOLUTE/PATH"):
        Settings().email("EMAIL_URL", "console:")


def test_anymail_credentials_come_from_anymail_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANYMAIL_MAILGUN_API_KEY", "key-123")
    monkeypatch.setenv("ANYMAIL_MAILGUN_SENDER_DOMAIN", "mg.example.com")

    assert Settings().anymail() == {
        "MAILGUN_API_KEY": "key-123",
        "MAILGUN_SENDER_DOMAIN": "mg.example.com",
    }


def test_production_grade_defaults_apply_with_debug_off() -> None:
    assert settings.DEBUG is False
    assert settings.SESSION_COOKIE_SECURE is True
    assert settings.CSRF_COOKIE_SECURE is True
    assert settings.SECURE_HSTS_SECONDS >= 31536000
    assert settings.SECURE_CONTENT_TYPE_NOSNIFF is True
    assert (
        not hasattr(settings, "SECURE_PROXY_SSL_HEADER")
        or settings.SECURE_PROXY_SSL_HEADER is None
    )
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.postgresql":
        assert database["CONN_MAX_AGE"] > 0
        assert database["CONN_HEALTH_CHECKS"] is True


@pytest.mark.real_hasher
def test_password_hashing_prefers_argon2id() -> None:
    assert settings.PASSWORD_HASHERS[0] == "accounts.hashers.Argon2idPasswordHasher"


@pytest.mark.parametrize(
    ("name", "value", "minimum"),
    [("SESSION_STATE_CACHE_SECONDS", "0", 1), ("MAX_SESSIONS_PER_USER", "-1", 0)],
)
def test_an_integer_below_its_minimum_is_refused(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, minimum: int
) -> None:
    monkeypatch.setenv(name, value)

    with pytest.raises(ConfigurationError) as raised:
        Settings().int(name, 10, minimum=minimum)

    assert str(raised.value) == (
        f'Gatehouse configuration error: Environment variable "{name}" invalid: '
        f"at least {minimum}."
    )


def test_an_integer_at_its_minimum_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_SESSIONS_PER_USER", "0")

    assert Settings().int("MAX_SESSIONS_PER_USER", 10, minimum=0) == 0


def test_session_state_defaults() -> None:
    # Positive cache entries trusted for a minute; ten live sessions per account.
    assert settings.SESSION_STATE_CACHE_SECONDS == 60
    assert settings.MAX_SESSIONS_PER_USER == 10


# --- The env file (.env) ----------------------------------------------------------------


@pytest.mark.slow
def test_manage_py_reads_the_development_env_file(tmp_path: Path) -> None:
    """``manage.py`` run by hand after ``make run`` stopped on "SECRET_KEY is not set":
    the make target added DEBUG=true, which only the env file now holds (issue 13)."""
    env_file = tmp_path / ".env"
    env_file.write_text("# written by make run\nDEBUG=true\n")

    result = run_manage_check(tmp_path, GATEHOUSE_ENV_FILE=str(env_file))

    assert result.returncode == 0, result.stderr


@pytest.mark.slow
def test_the_real_environment_wins_over_the_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("SECRET_KEY=short\n")

    result = run_manage_check(
        tmp_path, GATEHOUSE_ENV_FILE=str(env_file), SECRET_KEY=STRONG_SECRET_KEY
    )

    assert result.returncode == 0, result.stderr


@pytest.fixture
def env_file_variables(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The variables the env files below set, restored (absent) after the test."""
    monkeypatch.delenv("GATEHOUSE_TEST_FROM_FILE", raising=False)
    monkeypatch.delenv("GATEHOUSE_ENV_FILE", raising=False)
    return monkeypatch


def test_the_project_env_file_is_read_when_present(
    tmp_path: Path, env_file_variables: pytest.MonkeyPatch
) -> None:
    default = tmp_path / ".env"
    default.write_text("# a comment\nGATEHOUSE_TEST_FROM_FILE=from the file\n")

    assert Settings().read_env_file(default) == default
    assert os.environ["GATEHOUSE_TEST_FROM_FILE"] == "from the file"


def test_no_env_file_is_fine(
    tmp_path: Path, env_file_variables: pytest.MonkeyPatch
) -> None:
    assert Settings().read_env_file(tmp_path / ".env") is None


def test_an_empty_gatehouse_env_file_reads_no_file(
    tmp_path: Path, env_file_variables: pytest.MonkeyPatch
) -> None:
    default = tmp_path / ".env"
    default.write_text("GATEHOUSE_TEST_FROM_FILE=from the file\n")
    env_file_variables.setenv("GATEHOUSE_ENV_FILE", "")

    assert Settings().read_env_file(default) is None
    assert "GATEHOUSE_TEST_FROM_FILE" not in os.environ


def test_gatehouse_env_file_names_another_file(
    tmp_path: Path, env_file_variables: pytest.MonkeyPatch
) -> None:
    chosen = tmp_path / "production.env"
    chosen.write_text("GATEHOUSE_TEST_FROM_FILE=production\n")
    env_file_variables.setenv("GATEHOUSE_ENV_FILE", str(chosen))

    assert Settings().read_env_file(tmp_path / ".env") == chosen
    assert os.environ["GATEHOUSE_TEST_FROM_FILE"] == "production"


def test_a_variable_already_set_wins_over_the_file(
    tmp_path: Path, env_file_variables: pytest.MonkeyPatch
) -> None:
    default = tmp_path / ".env"
    default.write_text("GATEHOUSE_TEST_FROM_FILE=from the file\n")
    env_file_variables.setenv("GATEHOUSE_TEST_FROM_FILE", "from the environment")

    Settings().read_env_file(default)

    assert os.environ["GATEHOUSE_TEST_FROM_FILE"] == "from the environment"


def test_the_tests_never_read_a_developers_env_file() -> None:
    assert os.environ["GATEHOUSE_ENV_FILE"] == ""
    assert settings.ENV_FILE is None


# --- Key rotation -----------------------------------------------------------------------

PRINT_FALLBACKS = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.SECRET_KEY_FALLBACKS, settings.JWT_SIGNING_KEY_FALLBACKS)"
)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({}, "['old-1', 'old-2'] ['old-1', 'old-2']"),
        ({"JWT_SIGNING_KEY": "j" * 32}, "['old-1', 'old-2'] []"),
        (
            {"JWT_SIGNING_KEY": "j" * 32, "JWT_SIGNING_KEY_FALLBACKS": "old-jwt"},
            "['old-1', 'old-2'] ['old-jwt']",
        ),
    ],
)
def test_token_signatures_fall_back_to_the_previous_secret_keys_unless_keyed_apart(
    tmp_path: Path, variables: dict[str, str], expected: str
) -> None:
    environment = {
        "PATH": os.environ["PATH"],
        "DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": STRONG_SECRET_KEY,
        "SECRET_KEY_FALLBACKS": "old-1, old-2",
        **variables,
    }

    result = run_python("-c", PRINT_FALLBACKS, environment=environment)

    assert result.stdout.strip() == expected, result.stderr
