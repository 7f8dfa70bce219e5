"""``config.counters``: sliding window counters with edges shared by every key, counted
in one round trip, failing open when the cache cannot be reached."""

from __future__ import annotations

import logging
import time
from types import SimpleNamespace
from unittest import mock

import pytest
from django.core.cache import cache, caches

from config import counters
from config.counters import CounterSpec, Counting, WindowCount

START = 1_800_000_000  # a whole minute, hour (and 08:00 UTC)


@pytest.mark.parametrize(
    ("window", "count", "reset"),
    [
        (WindowCount(60, current=3, previous=0, at=START + 20), 3, 40),
        # Half of the previous minute is still inside [t - 60, t].
        (WindowCount(60, current=1, previous=10, at=START + 30), 6, 30),
        (WindowCount(60, current=0, previous=10, at=START + 59.5), 0, 1),
        (WindowCount(3600, current=5, previous=0, at=START + 600), 5, 3000),
    ],
)
def test_a_count_weighs_the_previous_slot_by_its_share_inside(
    window: WindowCount, count: int, reset: int
) -> None:
    assert window.count == count
    assert window.reset_seconds == reset


@pytest.mark.parametrize(
    ("current", "previous", "elapsed", "limit", "wait"),
    [
        (2, 0, 10, 3, 0),  # below the limit: no wait
        (4, 0, 30, 3, 46),  # 30 s to the edge, then 4 * (1 - y/60) < 3: y > 15
        (2, 3, 10, 3, 31),  # 2 + 3 * (50 - x)/60 < 3: x > 30
        (3, 0, 0, 3, 61),  # the whole minute, then its last share
        (1, 120, 0, 100, 11),  # 1 + 120 * (60 - x)/60 < 100: x > 10.5
    ],
)
def test_retry_after_is_the_least_whole_second_past_the_wait(
    current: int, previous: int, elapsed: int, limit: int, wait: int
) -> None:
    window = WindowCount(60, current, previous, START + elapsed)

    assert window.retry_after(limit) == wait
    if wait:
        # After the wait, nothing more counted, the next use fits; a second less, not.
        assert _later(window, wait).count < limit
        assert _later(window, wait - 1).count >= limit


def _later(window: WindowCount, seconds: int) -> WindowCount:
    """``window`` ``seconds`` later if nothing more is counted."""
    at = window.at + seconds
    if int(at // window.period) == int(window.at // window.period):
        return WindowCount(window.period, window.current, window.previous, at)
    if int(at // window.period) == int(window.at // window.period) + 1:
        return WindowCount(window.period, 0, window.current, at)
    return WindowCount(window.period, 0, 0, at)


def test_keys_name_a_digest_and_edges_every_subject_shares() -> None:
    first = CounterSpec("default", "ip:203.0.113.9", (60, 3600)).keys(START + 10)
    second = CounterSpec("default", "u:42", (60, 3600)).keys(START + 10)

    assert all("203.0.113.9" not in key for _, *keys in first for key in keys)
    # The slot in a key is the same for both: the edges do not depend on the subject.
    assert [key.split(":")[3] for _, key, _ in first] == [
        key.split(":")[3] for _, key, _ in second
    ]
    assert [period for period, _, _ in first] == [60, 3600]


def test_count_and_read_counts_and_reads_in_one_call(time_machine) -> None:
    time_machine.move_to(START + 50, tick=False)
    spec = CounterSpec("default", "ip:203.0.113.9", (60,))
    counters.count_and_read([], [spec])
    counters.count_and_read([], [spec])
    cache.set("riding", "along")
    time_machine.move_to(START + 70, tick=False)

    result = counters.count_and_read(["riding", "missing"], [spec])

    assert result is not None
    found, counted = result
    assert found == {"riding": "along"}
    ((counted_spec, (window,)),) = counted
    assert counted_spec == spec
    assert (window.current, window.previous) == (1, 2)
    assert window.count == 1 + 1  # 2 * 50/60, floored
    assert counters.read_counts([spec]) == [(WindowCount(60, 1, 2, START + 70),)]


def test_take_back_never_brings_back_an_expired_slot(time_machine) -> None:
    time_machine.move_to(START, tick=False)
    spec = CounterSpec("default", "u:1", (60,))
    result = counters.count_and_read([], [spec])
    assert result is not None
    uses = result[1]
    counters.take_back(uses)
    assert counters.read_counts([spec]) == [(WindowCount(60, 0, 0, START),)]
    cache.clear()

    counters.take_back(uses)

    assert cache.get(spec.keys(START)[0][1]) is None


def test_exchange_counts_once_per_subject_and_only_when_asked() -> None:
    cache.set("session", "live")
    assert counters.exchange(["session"], subject="u:1") == {"session": "live"}
    counting = Counting(scope="default", periods=(60,))
    token = counters.current_counting.set(counting)
    try:
        counters.exchange(["session"], subject="u:1")
        counters.exchange(["session"], subject="u:1")  # a second read: not counted
    finally:
        counters.current_counting.reset(token)

    ((window,),) = counters.read_counts([counting.spec("u:1")])  # type: ignore[misc]
    assert window.current == 1
    assert list(counting.counted) == ["u:1"]


def test_uses_the_limiter_did_not_confirm_are_given_back_once() -> None:
    counting = Counting(scope="default", periods=(60,))
    for subject in ("u:1", "k:abc"):
        result = counters.count_and_read([], [counting.spec(subject)])
        assert result is not None
        counting.counted[subject] = result[1][0][1]
    counting.confirm("u:1")

    unconfirmed = counting.unconfirmed()

    assert [spec.subject for spec, _ in unconfirmed] == ["k:abc"]
    assert counting.unconfirmed() == []
    assert list(counting.counted) == ["u:1"]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def failing_cache(monkeypatch):
    """A cache whose every read fails, and a monotonic clock the test moves."""
    clock = Clock()
    monkeypatch.setattr(
        counters, "time", SimpleNamespace(time=time.time, monotonic=clock.monotonic)
    )
    get_many = mock.Mock(side_effect=ConnectionError("refused"))
    monkeypatch.setattr(caches["default"], "get_many", get_many)
    # On Redis too: the operations one by one, of which get_many comes first.
    monkeypatch.setattr(counters, "_redis_client", lambda: None)
    return SimpleNamespace(clock=clock, get_many=get_many)


def test_a_failing_cache_fails_open_logs_and_backs_off(failing_cache, caplog) -> None:
    spec = CounterSpec("default", "ip:203.0.113.9", (60,))
    caplog.set_level(logging.ERROR, logger="gatehouse.ratelimits")

    assert counters.count_and_read([], [spec]) is None
    failing_cache.clock.now += counters.BACKOFF - 1
    assert counters.count_and_read([], [spec]) is None  # not tried: backing off

    assert failing_cache.get_many.call_count == 1
    assert counters.failing_open()
    assert counters.failures() == 2
    assert len(caplog.records) == 1
    assert "Rate limits fail open" in caplog.records[0].getMessage()

    failing_cache.clock.now += 2  # the backoff is over: tried, and logged no more often
    assert counters.count_and_read([], [spec]) is None
    assert failing_cache.get_many.call_count == 2
    assert len(caplog.records) == 1
    failing_cache.clock.now += counters.LOG_EVERY
    assert counters.count_and_read([], [spec]) is None
    assert len(caplog.records) == 2


def test_one_answer_from_the_cache_ends_the_failing_open(failing_cache) -> None:
    spec = CounterSpec("default", "ip:203.0.113.9", (60,))
    assert counters.count_and_read([], [spec]) is None
    assert not counters.counting_is_ready()  # backing off: not even tried
    failing_cache.clock.now += counters.BACKOFF
    failing_cache.get_many.side_effect = None
    failing_cache.get_many.return_value = {}

    assert counters.counting_is_ready()
    assert not counters.failing_open()
    assert counters.count_and_read([], [spec]) is not None
