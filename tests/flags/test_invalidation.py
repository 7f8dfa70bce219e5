"""A change reaches every worker: the next request of this process sees it, another
process within ``FLAGS_REFRESH_SECONDS``; a warm request costs no SQL and no cache read
of its own; a cache that refuses writes refuses the change (503, nothing changed), one
that cannot be read leaves the database to answer."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from unittest import mock

import pytest
from django.conf import settings
from django.core.cache import caches
from rest_framework.test import APIClient

from config import round_trip
from flags import evaluation
from flags.models import Flag, FlagChange
from tests.accounts.test_me_hot_path import count_cache_round_trips
from tests.flags.helpers import make_flag, set_rules
from tests.helpers import account, client_for

pytestmark = pytest.mark.django_db

MINE = "/api/v1/flags/"
ME = "/api/v1/users/me/"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """``time.monotonic`` as round_trip and the evaluation read it, moved at will."""
    import time

    state = SimpleNamespace(offset=0.0)
    fake = SimpleNamespace(monotonic=lambda: time.monotonic() + state.offset)
    monkeypatch.setattr(round_trip, "time", fake)
    monkeypatch.setattr(evaluation, "time", fake)
    return state


def flags_of(client: APIClient) -> dict[str, bool]:
    response = client.get(MINE)
    assert response.status_code == 200, response.content
    return response.json()["flags"]


def test_the_next_request_sees_a_committed_change() -> None:
    make_flag("beta")
    anonymous = APIClient()
    assert flags_of(anonymous)["beta"] is False

    set_rules("beta", everyone=True)

    assert flags_of(anonymous)["beta"] is True


def as_another_process_changed(name: str, **rules: object) -> None:
    """``name`` changed by another process: this one still goes by the version and the
    rule set it had, as if it had seen neither the change nor its new version."""
    version = evaluation.VERSION_KEY
    fresh, seen = round_trip.latest(version, max_age=3600)
    assert fresh
    rule_set = evaluation._memo.rule_set
    set_rules(name, **rules)
    round_trip.remember(version, seen)
    evaluation._memo.rule_set = rule_set


def test_another_process_sees_a_change_within_the_refresh_time(clock) -> None:
    make_flag("beta")
    anonymous = APIClient()
    assert flags_of(anonymous)["beta"] is False

    as_another_process_changed("beta", everyone=True)
    stale = flags_of(anonymous)["beta"]
    clock.offset += settings.FLAGS_REFRESH_SECONDS + 0.01
    fresh = flags_of(anonymous)["beta"]

    # Anonymous traffic reads the version at most every FLAGS_REFRESH_SECONDS.
    assert (stale, fresh) == (False, True)


def test_a_signed_in_request_sees_it_at_once() -> None:
    make_flag("beta")
    person = client_for(account())
    assert flags_of(person)["beta"] is False

    as_another_process_changed("beta", everyone=True)

    # Its session check read the new version in its own round trip.
    assert flags_of(person)["beta"] is True


def test_a_warm_request_costs_no_sql_and_no_cache_read_of_its_own(
    django_assert_num_queries,
) -> None:
    make_flag("beta", roles=["tester"])
    person = client_for(account("tester"))
    flags_of(person)
    person.get(ME)  # warm: rules, session, snapshot

    with django_assert_num_queries(0), count_cache_round_trips() as round_trips:
        assert flags_of(person)["beta"] is True
    with django_assert_num_queries(0), count_cache_round_trips() as gated:
        assert person.get(ME).status_code == 200

    # The session check's (which holds the version), pipelined with the limiter's count.
    assert round_trips == ["count_and_read"]
    assert gated == ["count_and_read"]


def test_a_warm_anonymous_request_costs_no_sql(django_assert_num_queries) -> None:
    make_flag("beta", everyone=True)
    flags_of(APIClient())

    with django_assert_num_queries(0):
        assert flags_of(APIClient())["beta"] is True


@pytest.fixture
def refusing_writes() -> Iterator[None]:
    backend = caches["default"]

    def refuse(*args: object, **kwargs: object) -> None:
        raise ConnectionError("cache down")

    with (
        mock.patch.object(backend, "set", refuse),
        mock.patch.object(backend, "set_many", refuse),
        mock.patch.object(backend, "add", refuse),
    ):
        yield


def test_a_cache_refusing_writes_refuses_the_change(request) -> None:
    make_flag("beta")
    staff = client_for(account("admin"))
    staff.get("/api/v1/flags/all/")  # warm: its session is in the cache
    changes_before = FlagChange.objects.count()

    request.getfixturevalue("refusing_writes")
    response = staff.patch("/api/v1/flags/beta/", {"everyone": True}, format="json")

    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    assert Flag.objects.get(name="beta").everyone is None
    assert FlagChange.objects.count() == changes_before


@pytest.fixture
def unreadable_cache() -> Iterator[None]:
    backend = caches["default"]

    def fail(*args: object, **kwargs: object) -> None:
        raise ConnectionError("cache down")

    with (
        mock.patch.object(backend, "get", fail),
        mock.patch.object(backend, "get_many", fail),
    ):
        yield


def test_an_unreadable_cache_leaves_the_database_to_answer(request) -> None:
    make_flag("beta", everyone=True)
    set_rules("api:users/me/", everyone=False)
    person = client_for(account())
    round_trip.forget()
    evaluation._memo.rule_set = None

    request.getfixturevalue("unreadable_cache")
    flags = flags_of(APIClient())
    gated = person.get(ME)

    assert flags["beta"] is True
    assert gated.status_code == 404
