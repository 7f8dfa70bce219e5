"""On Redis (``REDIS_URL``; skipped on the embedded default): a request is counted in the
round trip its credential's check already makes, one script, and counters live only
as long as they count."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest
from django.conf import settings
from django.core.cache import cache
from redis.client import Redis
from redis.connection import AbstractConnection
from rest_framework.test import APIClient

from accounts.access import SYSTEM_ACTOR
from apikeys.services import api_key_create
from config import counters
from config.client import SYSTEM
from config.counters import CounterSpec
from tests.helpers import account, client_for

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis (REDIS_URL)"),
    pytest.mark.django_db,
]

ME = "/api/v1/users/me/"
CONFIG = "/api/v1/config/"


@contextmanager
def redis_round_trips() -> Iterator[dict[str, list[Any]]]:
    """What goes to Redis: each ``send_packed_command`` is one write to the socket,
    answered before the next (a pipeline would send all its commands in one), and the
    commands by name."""
    seen: dict[str, list[Any]] = {"sent": [], "commands": []}
    send, execute = AbstractConnection.send_packed_command, Redis.execute_command

    def sent(self, command, check_health=True):
        seen["sent"].append(command)
        return send(self, command, check_health)

    def executed(self, *args, **options):
        seen["commands"].append(args[0])
        return execute(self, *args, **options)

    with (
        mock.patch.object(AbstractConnection, "send_packed_command", sent),
        mock.patch.object(Redis, "execute_command", executed),
    ):
        yield seen


def test_a_warm_me_is_one_round_trip_with_its_count() -> None:
    client = client_for(account())
    assert client.get(ME).status_code == 200  # warms the session's entries

    with redis_round_trips() as seen:
        response = client.get(ME)

    assert response.status_code == 200
    assert "RateLimit-Remaining" in response
    # The session check's MGET and the counting: one script (config.counters).
    assert seen["commands"] == ["EVALSHA"]
    assert len(seen["sent"]) == 1


def test_a_warm_api_key_is_one_round_trip_with_its_count() -> None:
    _, key = api_key_create(
        actor=SYSTEM_ACTOR,
        owner_id=account().pk,
        name="script",
        scopes=None,
        expires_at=None,
        client=SYSTEM,
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert client.get(ME).status_code == 200

    with redis_round_trips() as seen:
        response = client.get(ME)

    assert response.status_code == 200
    assert seen["commands"] == ["EVALSHA"]
    assert len(seen["sent"]) == 1


def test_an_address_is_one_round_trip_with_its_ban() -> None:
    caller = APIClient(REMOTE_ADDR="203.0.113.9")
    assert caller.get(CONFIG).status_code == 200

    with redis_round_trips() as seen:
        response = caller.get(CONFIG)

    assert response.status_code == 200
    assert seen["commands"] == ["EVALSHA"]
    assert len(seen["sent"]) == 1


def test_a_slot_lives_two_periods_and_take_back_never_recreates_one() -> None:
    spec = CounterSpec("default", "u:1", (60, 3600))
    result = counters.count_and_read([], [spec])
    assert result is not None
    # Counted twice in the same slots, taken back once: the script is loaded.
    redis_client = cache.client.get_client(write=True)  # type: ignore[attr-defined]
    for _, current, _ in spec.keys(result[1][0][1][0].at):
        redis_client.incr(cache.make_key(current))  # type: ignore[attr-defined]
    counters.take_back(result[1])
    redis = cache.client.get_client(write=True)  # type: ignore[attr-defined]
    now = result[1][0][1][0].at
    slots = [cache.make_key(current) for _, current, _ in spec.keys(now)]  # type: ignore[attr-defined]
    assert [
        0 < redis.ttl(slot) <= 2 * period
        for slot, period in zip(slots, (60, 3600), strict=True)
    ] == [True, True]

    with redis_round_trips() as seen:
        counters.take_back(result[1])
    assert len(seen["sent"]) == 1
    assert [int(redis.get(slot)) for slot in slots] == [0, 0]

    redis.delete(*slots)
    counters.take_back(result[1])
    assert [redis.exists(slot) for slot in slots] == [0, 0]
