"""Windows whose edges are the same for every caller (issue 17, "Windows"): the reset
tells nothing about the key, a burst across an edge does not get twice the limit, and
``Retry-After`` is what it takes (a frozen clock: ``clock`` in ``conftest.py``)."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django_ratelimit.core import get_usage
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

CONFIG = "/api/v1/config/"  # anyone's, in the default group
REGISTER = "/api/v1/auth/register/"
ADDRESSES = ("203.0.113.9", "198.51.100.23")


def anonymous(address: str) -> APIClient:
    return APIClient(REMOTE_ADDR=address)


def test_every_caller_reads_the_same_reset_at_the_same_instant(
    limit_groups, clock
) -> None:
    limit_groups({"default": {"anonymous": "5/m"}})
    clock.shift(17)
    first, second = (anonymous(address) for address in ADDRESSES)
    first.get(CONFIG)  # counted earlier than the other: still the same edges
    clock.shift(3)

    resets = {
        first.get(CONFIG)["RateLimit-Reset"],
        second.get(CONFIG)["RateLimit-Reset"],
    }

    assert resets == {"40"}  # 20 seconds into the minute, for both


def test_django_ratelimit_would_tell_the_keys_apart(clock) -> None:
    """What the counters replace: django-ratelimit starts each key's window at
    ``crc32(key) % period`` (jsocol/django-ratelimit#120), so the time left differs
    by key at one instant, and tells a client which key it is counted under."""
    left = {
        get_usage(
            RequestFactory().get("/", REMOTE_ADDR=address),
            group="contrast",
            key="ip",
            rate="5/m",
            increment=True,
        )["time_left"]
        for address in ADDRESSES
    }

    assert len(left) == 2


def test_a_burst_across_an_edge_does_not_get_twice_the_limit(
    limit_groups, clock
) -> None:
    """jsocol/django-ratelimit#317: a fixed window lets the limit through at its end
    and again at the next one's start. Here the previous minute still counts, weighted
    by its share of the last 60 seconds."""
    limit_groups({"default": {"anonymous": "10/m"}})
    caller = anonymous(ADDRESSES[0])
    clock.shift(59)
    before = [caller.get(CONFIG).status_code for _ in range(10)]
    clock.shift(2)  # one second past the edge

    after = [caller.get(CONFIG).status_code for _ in range(10)]

    assert before == [200] * 10
    # floor(10 * 59/60) = 9 of the previous minute still count: one more passes.
    assert after == [200] + [429] * 9


def test_the_previous_minute_weighs_less_as_the_window_slides(
    limit_groups, clock
) -> None:
    limit_groups({"default": {"anonymous": "10/m"}})
    caller = anonymous(ADDRESSES[0])
    assert [caller.get(CONFIG).status_code for _ in range(10)] == [200] * 10
    clock.shift(60 + 30)  # half of the previous minute is still inside

    answers = [caller.get(CONFIG) for _ in range(6)]

    assert [answer.status_code for answer in answers] == [200] * 5 + [429]
    assert [answer["RateLimit-Remaining"] for answer in answers] == [
        "4",
        "3",
        "2",
        "1",
        "0",
        "0",
    ]


@pytest.mark.parametrize(
    ("bursts", "expected_wait"),
    [
        # 4 requests at 0:30 of a 3/m limit (the 4th refused, and counted): after the
        # edge the minute weighs 4 * (1 - y/60), below 3 once y > 15 s.
        ([(30, 4)], 46),
        # 3 at 0:50, then 2 at 1:10 (the 2nd refused): 2 + 3 * (50 - x)/60 < 3 once
        # x > 30 s.
        ([(50, 3), (20, 2)], 31),
    ],
)
def test_retry_after_is_what_it_takes(
    limit_groups, clock, bursts: list[tuple[int, int]], expected_wait: int
) -> None:
    limit_groups({"default": {"anonymous": "3/m"}})
    early, patient = (anonymous(address) for address in ADDRESSES)
    for shift, count in bursts:
        clock.shift(shift)
        answers = [(early.get(CONFIG), patient.get(CONFIG)) for _ in range(count)]
    refused_early, refused_patient = answers[-1]
    assert refused_early.status_code == refused_patient.status_code == 429
    wait = int(refused_patient["Retry-After"])
    assert wait == int(refused_early["Retry-After"]) == expected_wait

    clock.shift(wait - 2)
    assert early.get(CONFIG).status_code == 429  # not too long
    clock.shift(2)
    assert patient.get(CONFIG).status_code == 200  # long enough


def test_the_named_limits_share_their_edges_too(clock) -> None:
    """The named limits (``RATE_LIMITS``: login, register...) count in bucketed
    windows (``config.sliding_window``) whose edges are the same for every key."""
    clock.shift(7)
    resets = set()
    for address in ADDRESSES:
        response = anonymous(address).post(REGISTER, {}, format="json")
        assert response.status_code == 400
        resets.add(response["RateLimit-Reset"])

    assert len(resets) == 1
