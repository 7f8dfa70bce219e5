"""Cache entries of the limiter's own: an address's automatic (or staff-placed) ban, read
in the same round trip as the address's counters."""

from __future__ import annotations

from config.counters import subject_digest


def ip_ban_key(address: str) -> str:
    """Holds the ban's end (seconds since the epoch) while an address is banned."""
    return f"limits:ipban:{subject_digest(address)}"
