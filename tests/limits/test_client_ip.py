"""One client address for the whole project (issue 17, "Client IP"): the limiter,
sessions, the audit log and allauth ask ``config.client_ip``. ``X-Forwarded-For`` is
believed only as far as ``TRUSTED_PROXY_COUNT`` proxies vouch for it, so a spoofed
header neither dodges a limit nor gets someone else limited."""

from __future__ import annotations

import os

import pytest
from allauth.account.adapter import get_adapter
from allauth.core.internal.ratelimit import get_ip
from django.test import RequestFactory
from rest_framework.test import APIClient

from accounts.constants import AuditKind
from accounts.models import AuditEvent, AuthSession
from config.client_ip import client_ip
from limits.callers import caller_of
from tests.factories import DEFAULT_PASSWORD
from tests.helpers import account
from tests.processes import run_python

pytestmark = pytest.mark.django_db

CONFIG = "/api/v1/config/"
PROXY = "10.0.0.2"
CLIENT, VICTIM = "203.0.113.9", "198.51.100.23"


def get(remote: str, forwarded: str | None = None) -> int:
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return APIClient().get(CONFIG, REMOTE_ADDR=remote, **headers).status_code


@pytest.fixture
def two_a_minute(limit_groups) -> None:
    limit_groups({"default": {"anonymous": "2/m"}})


def test_without_proxies_a_forged_header_does_not_dodge_the_limit(
    two_a_minute,
) -> None:
    answers = [get(CLIENT, f"192.0.2.{number}") for number in range(1, 4)]

    assert answers == [200, 200, 429]


def test_without_proxies_a_forged_header_does_not_limit_its_victim(
    two_a_minute,
) -> None:
    assert [get(CLIENT, VICTIM) for _ in range(3)] == [200, 200, 429]

    assert get(VICTIM) == 200


def test_behind_one_proxy_the_right_most_entry_is_the_client(
    two_a_minute, settings
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    # Whatever the client writes on the left, the proxy appends what it saw.
    answers = [get(PROXY, f"192.0.2.{number}, {CLIENT}") for number in range(1, 4)]

    assert answers == [200, 200, 429]
    # Another client behind the same proxy, claiming to be the first: its own count.
    assert get(PROXY, f"{CLIENT}, {VICTIM}") == 200
    assert get(PROXY, VICTIM) == 200
    assert get(PROXY, VICTIM) == 429


def test_behind_one_proxy_a_request_around_it_counts_as_its_socket(
    two_a_minute, settings
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    assert [get(CLIENT, "") for _ in range(2)] == [200, 200]

    assert get(CLIENT) == 429  # no header: the socket's address, counted as before


def test_sessions_the_audit_log_allauth_and_the_limiter_agree(settings) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    person = account()
    forwarded = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": f"192.0.2.1, {CLIENT}"}

    response = APIClient().post(
        "/api/v1/auth/login/",
        {"login": person.username, "password": DEFAULT_PASSWORD},
        format="json",
        **forwarded,
    )
    request = RequestFactory().get("/", **forwarded)

    assert response.status_code == 200
    assert AuthSession.objects.get(user=person).ip == CLIENT
    assert AuditEvent.objects.get(kind=AuditKind.LOGIN_SUCCEEDED).ip == CLIENT
    assert client_ip(request) == CLIENT
    assert get_adapter().get_client_ip(request) == CLIENT
    assert get_ip(request) == CLIENT  # allauth's own rate limits
    assert caller_of(request).ip == CLIENT


@pytest.mark.slow
def test_allauth_is_told_the_same_proxy_count(tmp_path) -> None:
    """For any of allauth's own code that reads its setting rather than the adapter."""
    result = run_python(
        "-c",
        "import django; django.setup(); from allauth import app_settings; "
        "print(app_settings.TRUSTED_PROXY_COUNT)",
        environment={
            "PATH": os.environ["PATH"],
            "DATA_DIR": str(tmp_path),
            "DEBUG": "true",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "TRUSTED_PROXY_COUNT": "2",
        },
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2"


def test_an_ipv6_client_is_counted_by_its_64(two_a_minute) -> None:
    """One host usually holds a whole /64, and could rotate through it."""
    assert get("2001:db8:1:2::1") == 200
    assert get("2001:db8:1:2:ffff::9") == 200
    assert get("2001:db8:1:2::abcd") == 429
    assert get("2001:db8:1:3::1") == 200
