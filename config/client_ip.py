"""The client's IP address, for rate limits, sessions and the audit log."""

from __future__ import annotations

import functools
import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The address of whoever sent the request.

    ``X-Forwarded-For`` is read only when ``TRUSTED_PROXY_COUNT`` proxies sit in front:
    each appends the address it received from, so the client is the entry that many places
    from the right. Entries further left are whatever the client chose to send, and are
    never believed.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            remote = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(remote))
    except ValueError:
        return "0.0.0.0"  # noqa: S104 (a placeholder, never bound)


def limited_address(ip: str) -> str:
    """``ip`` as per-IP limits count it: an IPv6 address by its /64 (one host usually
    holds a whole /64), an IPv4 one as it is, as django-ratelimit's ``"ip"`` key does.
    ``ValueError`` when it is no IP address."""
    return _masked(ip, settings.RATELIMIT_IPV4_MASK, settings.RATELIMIT_IPV6_MASK)


@functools.lru_cache(maxsize=65536)
def _masked(ip: str, ipv4_mask: int, ipv6_mask: int) -> str:
    """Kept per process for the addresses seen last (parsing costs more than the rest
    of an anonymous request's limiting); the masks are part of the key."""
    address = ipaddress.ip_address(ip)
    mask = ipv6_mask if address.version == 6 else ipv4_mask
    return str(ipaddress.ip_network(f"{address}/{mask}", strict=False).network_address)
