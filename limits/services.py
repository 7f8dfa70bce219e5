"""Automatic bans of callers who keep hitting limits (being written: see the issue)."""

from __future__ import annotations

from config.client import ClientInfo
from limits.callers import Caller


def refusal_record(caller: Caller, *, client: ClientInfo) -> None:
    """One more 429 answered to ``caller``."""
