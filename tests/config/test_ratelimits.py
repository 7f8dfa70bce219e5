"""Per-IP rate limits count an IPv6 client by its /64, an IPv4 client by its address."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from config.client_ip import client_ip
from config.ratelimits import limited_ip, rate_limit_usage


def count_from(remote: str) -> int:
    request = RequestFactory().post("/", REMOTE_ADDR=remote)
    usage = rate_limit_usage(request, "register_per_ip", key="ip", increment=True)
    assert usage is not None
    return usage.count


def test_two_ipv6_addresses_in_one_64_share_a_counter() -> None:
    # One host usually holds a whole /64: counting per address would let it rotate.
    assert count_from("2001:db8:1:2::1") == 1
    assert count_from("2001:db8:1:2:ffff:ffff:ffff:ffff") == 2


def test_another_ipv6_64_has_its_own_counter() -> None:
    assert count_from("2001:db8:1:2::1") == 1
    assert count_from("2001:db8:1:3::1") == 1


@pytest.mark.parametrize("neighbour", ["203.0.113.10", "203.0.113.254"])
def test_ipv4_addresses_are_counted_one_by_one(neighbour: str) -> None:
    assert count_from("203.0.113.9") == 1
    assert count_from(neighbour) == 1
    assert count_from("203.0.113.9") == 2


def test_sessions_and_the_audit_log_keep_the_full_ipv6_address() -> None:
    request = RequestFactory().post("/", REMOTE_ADDR="2001:db8:1:2::1")

    assert client_ip(request) == "2001:db8:1:2::1"


def test_switched_off_limits_count_nothing(settings) -> None:
    settings.RATELIMIT_ENABLE = False
    request = RequestFactory().post("/", REMOTE_ADDR="203.0.113.9")

    assert (
        rate_limit_usage(request, "register_per_ip", key="ip", increment=True) is None
    )


@pytest.mark.parametrize(
    ("remote", "counted_as"),
    [("2001:db8:1:2:ffff::1", "2001:db8:1:2::"), ("203.0.113.9", "203.0.113.9")],
)
def test_the_login_lockout_counts_clients_as_the_other_limits_do(
    remote: str, counted_as: str
) -> None:
    assert limited_ip(RequestFactory().post("/", REMOTE_ADDR=remote)) == counted_as
