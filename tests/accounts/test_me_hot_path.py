"""``me/`` is the hottest authenticated path: no SQL once warm, one Redis round trip."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

import pytest
from django.core.cache import caches

from config import counters
from tests.helpers import bearer, count_queries

pytestmark = pytest.mark.django_db

CACHE_CALLS = ("get", "get_many", "set", "set_many", "add", "delete", "incr", "has_key")


@contextmanager
def count_cache_round_trips() -> Iterator[list[str]]:
    """Each outermost call of these cache methods is one round trip to Redis with
    django-redis (``get_many`` is one ``MGET``; the in-process cache implements it with
    ``get``, which is not counted again), and so is each ``count_and_read`` of
    ``config.counters`` (one pipeline on Redis; the in-process cache's calls it makes
    are not counted again)."""
    calls: list[str] = []
    depth = [0]
    backend = caches["default"]
    patches = []
    for name in CACHE_CALLS:
        original = getattr(backend, name)

        def counted(*args, _name=name, _original=original, **kwargs):
            if depth[0] == 0:
                calls.append(_name)
            depth[0] += 1
            try:
                return _original(*args, **kwargs)
            finally:
                depth[0] -= 1

        patches.append(mock.patch.object(backend, name, counted))
    original_pipeline = counters.count_and_read

    def pipeline(*args, **kwargs):
        if depth[0] == 0:
            calls.append("count_and_read")
        depth[0] += 1
        try:
            return original_pipeline(*args, **kwargs)
        finally:
            depth[0] -= 1

    patches.append(mock.patch.object(counters, "count_and_read", pipeline))
    for patch in patches:
        patch.start()
    try:
        yield calls
    finally:
        for patch in patches:
            patch.stop()


def test_me_costs_one_query_cold_then_none_and_one_cache_round_trip(
    tokens: dict,
) -> None:
    client = bearer(tokens["access"])  # login leaves the session's cache entries empty

    with count_queries() as cold:
        assert client.get("/api/v1/users/me/").status_code == 200
    with count_queries() as warm, count_cache_round_trips() as round_trips:
        response = client.get("/api/v1/users/me/")

    assert response.status_code == 200
    assert len(cold) == 1, cold
    assert warm == []
    # The session check's MGET, pipelined with the rate limiter's counting.
    assert round_trips == ["count_and_read"]
