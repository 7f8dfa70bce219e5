"""A staff member's export names the address bans they placed and lifted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.user_data import user_export
from config.client import SYSTEM
from limits.services import address_ban, address_ban_automatically, address_unban
from tests.helpers import account

pytestmark = pytest.mark.django_db


def test_the_export_lists_the_address_bans_placed_and_lifted() -> None:
    moderator, other = account("moderator"), account("moderator")
    until = timezone.now() + timedelta(hours=1)
    placed = address_ban(
        actor=moderator,
        address="203.0.113.9",
        reason="scraping",
        until=until,
        client=SYSTEM,
    )
    automatic = address_ban_automatically(address="198.51.100.4", client=SYSTEM)
    address_unban(ban_id=automatic.pk, actor=moderator, client=SYSTEM)
    address_ban(
        actor=other, address="192.0.2.1", reason="theirs", until=until, client=SYSTEM
    )

    section = user_export(user=moderator)["address_bans"]

    assert [(ban["address"], ban["placed"], ban["lifted"]) for ban in section] == [
        ("198.51.100.4", False, True),
        ("203.0.113.9", True, False),
    ]
    assert section[1]["reason"] == placed.reason
