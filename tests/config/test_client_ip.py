"""Client addresses for limits and the audit log: X-Forwarded-For only behind trusted proxies."""

from __future__ import annotations

import pytest
from django.test import RequestFactory, override_settings

from config.client_ip import client_ip


def request_from(remote: str, forwarded: str | None = None):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **headers)


def test_without_proxies_the_socket_address_is_the_client() -> None:
    # A client cannot choose its address by sending the header itself.
    assert client_ip(request_from("203.0.113.9", "198.51.100.1")) == "203.0.113.9"


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_one_proxy_the_last_forwarded_entry_is_the_client() -> None:
    request = request_from("10.0.0.2", "198.51.100.1, 203.0.113.9")

    assert (
        client_ip(request) == "203.0.113.9"
    )  # what the proxy saw; the rest is claimed


@override_settings(TRUSTED_PROXY_COUNT=2)
def test_behind_two_proxies_the_entry_two_from_the_right_is_the_client() -> None:
    request = request_from("10.0.0.2", "spoofed, 203.0.113.9, 10.0.0.1")

    assert client_ip(request) == "203.0.113.9"


@override_settings(TRUSTED_PROXY_COUNT=1)
@pytest.mark.parametrize("forwarded", ["", "not-an-ip", "999.1.1.1"])
def test_a_missing_or_malformed_header_never_fails(forwarded: str) -> None:
    address = client_ip(request_from("10.0.0.2", forwarded))

    assert address in {"10.0.0.2", "0.0.0.0"}  # noqa: S104


def test_ipv6_addresses_are_normalised() -> None:
    assert client_ip(request_from("2001:DB8:0:0:0:0:0:1")) == "2001:db8::1"
