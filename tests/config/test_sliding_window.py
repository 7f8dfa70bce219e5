"""The sliding-window counters under the login lockout (config.sliding_window)."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from config.sliding_window import SlidingWindow, parse_rate


@pytest.mark.parametrize(
    ("rate", "parsed"),
    [
        ("10/15m", (10, 900)),
        ("5/s", (5, 1)),
        ("20/h", (20, 3600)),
        ("3/2d", (3, 172800)),
    ],
)
def test_rates_are_written_as_django_ratelimit_writes_them(
    rate: str, parsed: tuple[int, int]
) -> None:
    assert parse_rate(rate) == parsed


@pytest.mark.parametrize("rate", ["10", "10/15x", "ten/m", "10/m "])
def test_a_malformed_rate_is_a_configuration_error(rate: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="Rate limit"):
        parse_rate(rate)


def test_a_bucket_that_expires_between_add_and_incr_is_counted_anew() -> None:
    window = SlidingWindow(name="test", key="someone", rate="5/m")
    real_add = cache.add
    refusals = [False]  # the bucket is there when add first looks ...

    def add(*args: object, **kwargs: object) -> bool:
        return refusals.pop() if refusals else real_add(*args, **kwargs)

    with (
        mock.patch.object(cache, "add", side_effect=add),
        mock.patch.object(cache, "incr", side_effect=ValueError),  # ... gone for incr
    ):
        state = window.count()

    assert state.count == 1


def test_a_window_of_one_second_counts_in_one_bucket(time_machine) -> None:
    time_machine.move_to(1_800_000_000, tick=False)
    window = SlidingWindow(name="test", key="someone", rate="2/s")
    window.count()
    assert window.count().count == 2
    assert window.lock() is True
    assert window.lock() is False  # one is told

    state = window.state()
    assert (state.count, state.is_locked, state.reset_seconds) == (2, True, 1)
    time_machine.shift(1)
    assert window.state().count == 0
