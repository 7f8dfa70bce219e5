"""Staff see, place and lift address bans in the admin, and find automatic account bans
in the accounts' ban list; every change goes through ``limits.services``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from accounts.constants import AUTO_BAN_REASON, AuditKind
from accounts.models import AuditEvent, Ban, User
from limits.models import AddressBan
from tests.helpers import account, admin_client_for, otp_verified_staff_client

pytestmark = pytest.mark.django_db

START = datetime(2026, 12, 2, 10, 0, 5, tzinfo=UTC)
LIST = "/admin/limits/addressban/"
BAN_PAGE = f"{LIST}ban/"
ANONYMOUS_ROUTE = "/api/v1/flags/"


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(START, tick=False)
    return time_machine


def served(address: str) -> bool:
    status = APIClient(REMOTE_ADDR=address).get(ANONYMOUS_ROUTE).status_code
    assert status in {200, 429}
    return status == 200


def automatic_ban(address: str) -> AddressBan:
    """An automatic ban, as ``refusal_record`` places it."""
    from config.client import SYSTEM
    from limits.services import address_ban_automatically

    return address_ban_automatically(address=address, client=SYSTEM)


def test_staff_lift_a_ban_and_the_address_is_served_again(frozen, small_limits) -> None:
    client, staff = otp_verified_staff_client()
    ban = automatic_ban("203.0.113.7")
    assert not served("203.0.113.7")

    response = client.post(
        LIST,
        {"action": "lift_bans", "_selected_action": [str(ban.pk)]},
        follow=True,
    )

    messages = [str(message) for message in response.context["messages"]]
    assert messages == ["Ban lifted: 203.0.113.7."]
    ban.refresh_from_db()
    assert (ban.lifted_at, ban.lifted_by) == (START, staff)
    assert served("203.0.113.7")
    event = AuditEvent.objects.get(kind=AuditKind.ADDRESS_UNBANNED)
    assert event.actor == staff
    assert event.payload == {"address": "203.0.113.7", "bans": [str(ban.pk)]}


def test_lifting_a_ban_no_longer_in_force_changes_nothing(frozen) -> None:
    client, _ = otp_verified_staff_client()
    ban = automatic_ban("203.0.113.7")
    frozen.shift(timedelta(minutes=16))
    response = client.post(
        LIST, {"action": "lift_bans", "_selected_action": [str(ban.pk)]}, follow=True
    )
    assert [str(m) for m in response.context["messages"]] == [
        "No ban in force was selected."
    ]
    ban.refresh_from_db()
    assert ban.lifted_at is None
    assert not AuditEvent.objects.filter(kind=AuditKind.ADDRESS_UNBANNED).exists()


def test_a_moderator_bans_an_address_from_its_page(frozen, small_limits) -> None:
    moderator = account("moderator")
    client = admin_client_for(moderator)
    assert 'id="ban-address"' in client.get(LIST).content.decode()
    assert client.get(BAN_PAGE).status_code == 200

    response = client.post(
        BAN_PAGE,
        {
            "address": "2001:db8:5:6::1",
            "reason": "scraping",
            "until": "2026-12-02T11:00",
        },
    )

    assert response.status_code == 302
    ban = AddressBan.objects.get()
    assert (ban.address, ban.reason, ban.created_by) == (
        "2001:db8:5:6::",
        "scraping",
        moderator,
    )
    assert ban.until == datetime(2026, 12, 2, 11, 0, tzinfo=UTC)
    assert not ban.is_automatic
    assert not served("2001:db8:5:6:abcd::2")  # its /64
    event = AuditEvent.objects.get(kind=AuditKind.ADDRESS_BANNED)
    assert event.actor == moderator
    assert event.payload["automatic"] is False


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"address": "not an address"}, "address", "Enter an IPv4 or IPv6 address."),
        ({"until": "2026-12-02T09:00"}, "until", "A ban must end in the future."),
        (
            {"reason": AUTO_BAN_REASON},
            "reason",
            "This reason is kept for automatic bans.",
        ),
    ],
)
def test_the_ban_page_refuses_what_the_service_refuses(
    frozen, fields: dict, field: str, message: str
) -> None:
    client, _ = otp_verified_staff_client()
    data = {"address": "203.0.113.9", "reason": "spam", "until": "2026-12-02T11:00"}
    response = client.post(BAN_PAGE, {**data, **fields})
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert not AddressBan.objects.exists()
    assert not AuditEvent.objects.filter(kind=AuditKind.ADDRESS_BANNED).exists()


def test_a_ban_the_cache_cannot_enforce_is_not_recorded(
    frozen, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cache refusing the ban's entry: ``503``'s message on the form, and no ban in
    the list that the throttle would not enforce."""
    client, _ = otp_verified_staff_client()

    def refuse(*args: object, **kwargs: object) -> None:
        raise ConnectionError("the cache is down")

    monkeypatch.setattr(cache, "set", refuse)
    response = client.post(
        BAN_PAGE,
        {"address": "203.0.113.9", "reason": "spam", "until": "2026-12-02T11:00"},
    )
    assert response.status_code == 200
    assert "cannot be changed right now" in response.content.decode()
    assert not AddressBan.objects.exists()
    assert not AuditEvent.objects.filter(kind=AuditKind.ADDRESS_BANNED).exists()


def test_only_staff_reach_address_bans(frozen) -> None:
    tester = account("tester")
    client = Client()
    client.force_login(tester)
    for url in (LIST, BAN_PAGE):
        assert client.get(url).status_code == 302  # to the admin's login
    assert (
        client.post(
            BAN_PAGE,
            {"address": "203.0.113.9", "reason": "spam", "until": "2026-12-02T11:00"},
        ).status_code
        == 302
    )
    assert not AddressBan.objects.exists()


def test_the_list_filters_and_searches(frozen) -> None:
    client, staff = otp_verified_staff_client()
    automatic_ban("203.0.113.7")
    automatic_ban("2001:db8:1:2::")
    from config.client import SYSTEM
    from limits.services import address_ban

    address_ban(
        actor=staff,
        address="198.51.100.4",
        reason="manual",
        until=START + timedelta(hours=1),
        client=SYSTEM,
    )
    frozen.shift(timedelta(minutes=30))  # the automatic ones are over

    def listed(**query: str) -> set[str]:
        response = client.get(LIST, query)
        assert response.status_code == 200
        return {ban.address for ban in response.context["cl"].result_list}

    assert listed() == {"203.0.113.7", "2001:db8:1:2::", "198.51.100.4"}
    assert listed(in_force="yes") == {"198.51.100.4"}
    assert listed(in_force="no") == {"203.0.113.7", "2001:db8:1:2::"}
    assert listed(automatic="yes") == {"203.0.113.7", "2001:db8:1:2::"}
    assert listed(automatic="no") == {"198.51.100.4"}
    assert listed(q="2001:db8:1:2:aaaa::1") == {"2001:db8:1:2::"}  # its /64
    assert listed(q="203.0.113") == {"203.0.113.7"}
    assert listed(q="203.0.113.8") == set()


def test_staff_find_automatic_account_bans(frozen, user: User) -> None:
    from config.client import SYSTEM
    from limits.services import user_ban_automatically

    client, staff = otp_verified_staff_client()
    other = account()
    user_ban_automatically(user_id=str(user.pk), client=SYSTEM)
    Ban.objects.create(user=other, created_by=staff, reason="spam")

    def listed(**query: str) -> set[str]:
        response = client.get("/admin/accounts/ban/", query)
        assert response.status_code == 200
        return {ban.user.username for ban in response.context["cl"].result_list}

    assert listed(automatic="yes") == {user.username}
    assert listed(automatic="no") == {other.username}
    page = client.get("/admin/accounts/ban/").content.decode()
    assert "Automatic (rate limit abuse)" in page
