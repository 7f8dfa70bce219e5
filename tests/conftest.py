from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import DEFAULT_DB_ALIAS, connections
from django.test import override_settings
from django.test.signals import setting_changed
from rest_framework.test import APIClient

from accounts.models import User
from config import counters, round_trip
from tests.factories import UserFactory
from tests.helpers import bearer, log_in

# Fast to compute and never accepted in production (it is not in settings.PASSWORD_HASHERS).
FAST_PASSWORD_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"

logger = logging.getLogger("django.db.backends.base")


@pytest.fixture(autouse=True)
def _fast_password_hasher(request: pytest.FixtureRequest) -> None:
    """Every password is hashed with MD5 first, except in tests marked ``real_hasher``.

    Argon2id at OWASP's parameters costs 19 MiB and tens of milliseconds a hash, and each
    factory user, login and password change hashes at least once. The production hashers
    stay behind MD5, so hashes they made still verify.
    """
    if request.node.get_closest_marker("real_hasher"):
        return
    settings = request.getfixturevalue("settings")
    settings.PASSWORD_HASHERS = [FAST_PASSWORD_HASHER, *settings.PASSWORD_HASHERS]


@pytest.fixture(autouse=True, scope="session")
def _dummy_hash_follows_the_hasher() -> Iterator[None]:
    """Login verifies unknown names against a dummy hash it makes once per process; make it
    again whenever the hashers change, so that an unknown name costs what a known one does
    in tests of the real hasher too."""
    from accounts.services import login

    def receiver(*, setting: str, **kwargs: object) -> None:
        if setting == "PASSWORD_HASHERS":
            login._dummy_password_hash.cache_clear()

    setting_changed.connect(receiver, weak=False)
    yield
    setting_changed.disconnect(receiver)


@pytest.fixture(autouse=True, scope="session")
def _uploads_in_a_temporary_folder(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[None]:
    """What a test uploads (files, avatars) never lands in the project's data folder
    (tests of files give each test a folder of its own: tests/files/conftest.py)."""
    with override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")):
        yield


@pytest.fixture(autouse=True, scope="session")
def _requests_run_their_commit_callbacks() -> Iterator[None]:
    """Each request of the test client ends as it does on a server: what its transactions
    left to ``transaction.on_commit`` (emails, cache invalidation, revocations) has run by
    the time the test reads the response.

    A test marked ``django_db`` runs inside one transaction that is rolled back at its end,
    so nothing ever commits and Django keeps those callbacks waiting. This runs the ones a
    request registered when the request finishes, as ``django_capture_on_commit_callbacks(
    execute=True)`` would around it, and drops them so that they run once. Callbacks of a
    savepoint that rolled back (a failed service) were already discarded by Django: they
    never run, as on a server. Tests that call services directly wrap them in
    ``django_capture_on_commit_callbacks``; tests with ``transaction=True`` commit for real.
    """
    # Per thread (live_server answers in others, on other connections), and a stack: a
    # test may send a request while another is being answered (a race, played in order).
    local = threading.local()

    def started(**kwargs: object) -> None:
        if not hasattr(local, "starts"):
            local.starts = []
        local.starts.append(len(connections[DEFAULT_DB_ALIAS].run_on_commit))

    def finished(**kwargs: object) -> None:
        if not getattr(local, "starts", None):
            return
        start = local.starts.pop()
        run_on_commit = connections[DEFAULT_DB_ALIAS].run_on_commit
        while len(run_on_commit) > start:  # callbacks may register more callbacks
            _, callback, robust = run_on_commit.pop(start)
            if not robust:
                callback()
                continue
            try:
                callback()
            except Exception as error:
                logger.error(  # as Django logs a robust callback's failure
                    f"Error calling {callback.__qualname__} in on_commit() (%s).",
                    error,
                    exc_info=True,
                )

    request_started.connect(started, weak=False)
    request_finished.connect(finished, weak=False)
    yield
    request_started.disconnect(started)
    request_finished.disconnect(finished)


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """Each test starts with an empty cache; on Redis only our key prefix is removed."""
    yield
    if hasattr(cache, "delete_pattern"):
        cache.delete_pattern("*")
    else:
        cache.clear()
    round_trip.forget()
    counters.reset_health()  # a test whose cache failed leaves no backoff behind


@pytest.fixture(autouse=True)
def _flag_rules_loaded(request: pytest.FixtureRequest, _empty_cache: None) -> None:
    """Every API request passes the endpoint gate (``flags.gates``), and a process loads
    the flag rules once per change of them (three queries). A test with a database
    starts with this test's rules loaded, as a warm worker has them, so the statements
    a test counts are its own requests'."""
    from flags.evaluation import current_rules

    names = request.fixturenames
    marker = request.node.get_closest_marker("django_db")
    if "transactional_db" in names or (marker and marker.kwargs.get("transaction")):
        request.getfixturevalue("transactional_db")
    elif "db" in names or marker is not None:
        request.getfixturevalue("db")
    else:
        return
    current_rules()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db: None) -> User:
    """An active account with a verified email address and the password DEFAULT_PASSWORD."""
    account = UserFactory()
    EmailAddress.objects.create(
        user=account, email=account.email, primary=True, verified=True
    )
    return account


@pytest.fixture
def other_user(db: None) -> User:
    account = UserFactory()
    EmailAddress.objects.create(
        user=account, email=account.email, primary=True, verified=True
    )
    return account


@pytest.fixture
def tokens(user: User) -> dict:
    return log_in(user)


@pytest.fixture
def user_client(tokens: dict) -> APIClient:
    """An APIClient signed in as ``user`` through the real login endpoint."""
    return bearer(tokens["access"])


@pytest.fixture
def login() -> Callable[..., dict]:
    return log_in


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by selenium (``tests/browser.py``; a browser
    test's module is marked ``BROWSER_TEST``)."""
    from tests.browser import chromium

    with chromium() as driver:
        yield driver


@pytest.fixture
def rate_limit_groups() -> Iterator[Callable[[dict[str, dict[str, str]]], None]]:
    """Call it with a ``RATE_LIMIT_GROUPS`` for the rest of the test: the setting is
    overridden and ``limits.policy``'s parsed caches cleared, then restored after."""
    from limits.policy import check_settings

    overrides: list[override_settings] = []

    def apply(groups: dict[str, dict[str, str]]) -> None:
        override = override_settings(RATE_LIMIT_GROUPS=groups)
        override.enable()
        overrides.append(override)
        check_settings()

    yield apply
    for override in reversed(overrides):
        override.disable()
    check_settings()
