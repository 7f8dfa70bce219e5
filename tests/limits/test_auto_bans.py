"""Automatic bans (issue 17): a caller who keeps being answered ``429`` is banned with the
reason "automatic: rate limit abuse", for longer each time; staff never are.

Settings (``small_limits``): two requests a minute in the default group, a ban at the
third ``429`` within ten minutes, 15 minutes long, then 60.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.constants import AUTO_BAN_REASON, AuditKind
from accounts.models import AuditEvent, Ban, User
from apikeys.services import api_key_create
from config.client import SYSTEM
from limits.callers import Caller
from limits.models import AddressBan
from limits.services import REFUSALS, refusal_record
from limits.state import ip_ban_key
from tests.helpers import account, bearer, client_for, log_in

pytestmark = pytest.mark.django_db

START = datetime(2026, 12, 2, 10, 0, 5, tzinfo=UTC)
ME = "/api/v1/users/me/"
ANONYMOUS_ROUTE = "/api/v1/flags/"  # anyone may call it; the default group counts it


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(START, tick=False)
    return time_machine


def pass_time(time_machine: Any, delta: timedelta) -> None:
    """Move the frozen clock on by ``delta``, and let the cache's entries expire as
    they would have: the in-process cache reads the clock ``time_machine`` moves;
    Redis counts its TTLs in its own seconds, so the refusals' locks (whose end is
    their TTL alone) are dropped by hand there. Counters and bans need nothing: their
    keys and values are dated by the clock."""
    time_machine.shift(delta)
    if hasattr(cache, "delete_pattern"):
        cache.delete_pattern(f"gatehouse:window:{REFUSALS}:*:lock")


def statuses(client: APIClient, count: int, route: str = ME) -> list[int]:
    return [client.get(route).status_code for _ in range(count)]


def automatic_bans_of(user: User) -> list[Ban]:
    return list(
        Ban.objects.filter(user=user, reason=AUTO_BAN_REASON).order_by("created_at")
    )


# --- Accounts ------------------------------------------------------------------------


def test_a_user_who_keeps_being_refused_is_banned_and_signed_out(
    small_limits, frozen, user: User
) -> None:
    client = bearer(log_in(user)["access"])

    # Two served, then refused: the first two refusals are only counted.
    assert statuses(client, 4) == [200, 200, 429, 429]
    assert automatic_bans_of(user) == []

    # The third refusal bans the account, for AUTO_BAN_MINUTES.
    assert client.get(ME).status_code == 429
    [ban] = automatic_bans_of(user)
    assert ban.created_by is None
    assert ban.lifted_at is None
    assert ban.until == START + timedelta(minutes=15)

    # The ban ended every session: the token is refused, and so is signing in.
    assert client.get(ME).status_code == 401
    login = APIClient().post(
        "/api/v1/auth/login/",
        {"login": user.username, "password": "correct horse battery staple"},
        format="json",
    )
    assert login.status_code == 403
    assert login.json()["code"] == "account_banned"
    event = AuditEvent.objects.get(kind=AuditKind.USER_BANNED, target=user)
    assert event.actor is None
    assert event.payload["ban"] == str(ban.pk)


def test_one_ban_however_many_refusals_race_to_the_threshold(
    small_limits, frozen, user: User
) -> None:
    """Refusals past the threshold (as requests racing the banning one would be) find
    the window locked: one ban."""
    caller = Caller(subject=f"u:{user.pk}", tier="user", user_id=str(user.pk))
    for _ in range(6):
        refusal_record(caller, client=SYSTEM)
    assert len(automatic_bans_of(user)) == 1
    assert AuditEvent.objects.filter(kind=AuditKind.USER_BANNED).count() == 1


def test_the_second_automatic_ban_is_longer(small_limits, frozen, user: User) -> None:
    client = bearer(log_in(user)["access"])
    statuses(client, 5)
    first = automatic_bans_of(user)[0]
    assert first.until - first.created_at == timedelta(minutes=15)

    # The ban over, the same abuse bans again, AUTO_BAN_ESCALATION times longer.
    pass_time(frozen, timedelta(minutes=16))
    client = bearer(log_in(user)["access"])
    assert statuses(client, 5) == [200, 200, 429, 429, 429]
    second = automatic_bans_of(user)[1]
    assert second.until - second.created_at == timedelta(minutes=60)
    assert client.get(ME).status_code == 401


def test_a_ban_staff_lifted_is_forgiven(small_limits, frozen, user: User) -> None:
    client = bearer(log_in(user)["access"])
    statuses(client, 5)
    lifter = account("moderator")
    Ban.objects.filter(user=user).update(lifted_at=START, lifted_by=lifter)

    pass_time(frozen, timedelta(minutes=11))  # past the refusals' window and its lock
    client = bearer(log_in(user)["access"])
    statuses(client, 5)
    second = automatic_bans_of(user)[1]
    assert second.until - second.created_at == timedelta(minutes=15)


@pytest.mark.parametrize("role", ["moderator", "admin"])
def test_staff_are_never_banned_automatically(small_limits, frozen, role: str) -> None:
    staff = account(role)
    client = client_for(staff)
    assert statuses(client, 8) == [200, 200, *[429] * 6]
    assert not Ban.objects.filter(user=staff).exists()
    frozen.shift(timedelta(minutes=2))
    assert client.get(ME).status_code == 200


def test_staff_are_asked_of_the_database_before_a_ban(
    small_limits, frozen, user: User
) -> None:
    """A caller whose request still said "not staff" (a snapshot from before a
    promotion) is not banned once the database says staff."""
    promoted = account("moderator")
    caller = Caller(subject=f"u:{promoted.pk}", tier="user", user_id=str(promoted.pk))
    for _ in range(3):
        refusal_record(caller, client=SYSTEM)
    assert not Ban.objects.filter(user=promoted).exists()


def test_an_api_keys_owner_is_banned_and_the_key_refused(
    small_limits, frozen, user: User
) -> None:
    _, raw = api_key_create(
        actor=user,
        owner_id=user.pk,
        name="script",
        scopes=["users:read"],
        expires_at=None,
        client=SYSTEM,
    )
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw)
    assert statuses(client, 5) == [200, 200, 429, 429, 429]
    assert len(automatic_bans_of(user)) == 1
    assert client.get(ME).status_code == 401


def test_a_global_key_is_never_banned_but_logged(
    small_limits, frozen, caplog: pytest.LogCaptureFixture
) -> None:
    """No route takes a global key yet (``accepts_global_api_keys``): its refusals are
    recorded as the middleware records them."""
    caller = Caller(subject="k:AbC123xyz0", tier="service")
    with caplog.at_level(logging.WARNING, logger="gatehouse.ratelimits"):
        for _ in range(8):
            refusal_record(caller, client=SYSTEM)
    assert not Ban.objects.exists()
    assert not AddressBan.objects.exists()
    warnings = [r for r in caplog.records if "never banned" in r.getMessage()]
    assert len(warnings) == 1  # once per window, not once per refusal


def test_nothing_is_banned_with_automatic_bans_off(
    small_limits, frozen, user: User
) -> None:
    small_limits.AUTO_BAN_ENABLED = False
    client = bearer(log_in(user)["access"])
    assert statuses(client, 8) == [200, 200, *[429] * 6]
    assert not Ban.objects.exists()
    assert statuses(APIClient(), 8, ANONYMOUS_ROUTE)[-1] == 429
    assert not AddressBan.objects.exists()


# --- Addresses -----------------------------------------------------------------------


def test_an_anonymous_address_is_banned_until_the_ban_ends(
    small_limits, frozen
) -> None:
    anonymous = APIClient()
    assert statuses(anonymous, 5, ANONYMOUS_ROUTE) == [200, 200, 429, 429, 429]
    [ban] = AddressBan.objects.all()
    assert (ban.address, ban.reason, ban.created_by) == (
        "127.0.0.1",
        AUTO_BAN_REASON,
        None,
    )
    assert ban.until == START + timedelta(minutes=15)
    assert ban.is_automatic
    assert ban.is_in_force

    # A minute later the group's limit would serve it again; the ban does not.
    frozen.shift(timedelta(minutes=1))
    refused = anonymous.get(ANONYMOUS_ROUTE)
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert refused["Retry-After"] == str(14 * 60 + 1)

    # Knocking on during the ban neither bans again nor makes it longer.
    statuses(anonymous, 10, ANONYMOUS_ROUTE)
    assert AddressBan.objects.count() == 1

    frozen.shift(timedelta(minutes=13, seconds=50))
    assert anonymous.get(ANONYMOUS_ROUTE)["Retry-After"] == "11"
    frozen.shift(timedelta(seconds=11))
    assert anonymous.get(ANONYMOUS_ROUTE).status_code == 200

    event = AuditEvent.objects.get(kind=AuditKind.ADDRESS_BANNED)
    assert event.actor is None
    assert event.ip == "127.0.0.1"
    assert event.payload["address"] == "127.0.0.1"
    assert event.payload["automatic"] is True


def test_an_addresss_second_automatic_ban_is_longer(small_limits, frozen) -> None:
    anonymous = APIClient()
    statuses(anonymous, 5, ANONYMOUS_ROUTE)
    pass_time(frozen, timedelta(minutes=16))
    assert statuses(anonymous, 5, ANONYMOUS_ROUTE) == [200, 200, 429, 429, 429]
    first, second = AddressBan.objects.order_by("created_at")
    assert first.until - first.created_at == timedelta(minutes=15)
    assert second.until - second.created_at == timedelta(minutes=60)
    frozen.shift(timedelta(minutes=59))
    assert anonymous.get(ANONYMOUS_ROUTE).status_code == 429


def test_escalation_stops_at_the_cap(small_limits, frozen) -> None:
    small_limits.AUTO_BAN_MAX_MINUTES = 30
    anonymous = APIClient()
    statuses(anonymous, 5, ANONYMOUS_ROUTE)
    pass_time(frozen, timedelta(minutes=16))
    statuses(anonymous, 5, ANONYMOUS_ROUTE)
    second = AddressBan.objects.order_by("created_at").last()
    assert second.until - second.created_at == timedelta(minutes=30)


def test_an_ipv6_client_is_banned_by_its_64(small_limits, frozen) -> None:
    client = APIClient(REMOTE_ADDR="2001:db8:1:2::5")
    statuses(client, 5, ANONYMOUS_ROUTE)
    assert AddressBan.objects.get().address == "2001:db8:1:2::"
    neighbour = APIClient(REMOTE_ADDR="2001:db8:1:2:ffff::9")
    other_network = APIClient(REMOTE_ADDR="2001:db8:1:3::5")
    assert neighbour.get(ANONYMOUS_ROUTE).status_code == 429
    assert other_network.get(ANONYMOUS_ROUTE).status_code == 200


def test_an_address_ban_does_not_bar_its_signed_in_users(
    small_limits, frozen, user: User
) -> None:
    client = bearer(log_in(user)["access"])
    statuses(APIClient(), 5, ANONYMOUS_ROUTE)
    assert AddressBan.objects.get().is_in_force
    assert APIClient().get(ANONYMOUS_ROUTE).status_code == 429
    assert client.get(ME).status_code == 200


def test_named_limits_refusals_count_too(small_limits, frozen, user: User) -> None:
    """The login lockout's ``429`` (a named limit of ``config.ratelimits``) counts
    toward the address's ban, as a group's does."""
    small_limits.RATE_LIMITS = {
        **small_limits.RATE_LIMITS,
        "login_failures_per_ip": "2/15m",
    }
    anonymous = APIClient()

    def wrong_login() -> int:
        return anonymous.post(
            "/api/v1/auth/login/",
            {"login": user.username, "password": "wrong password"},
            format="json",
        ).status_code

    answers = [wrong_login() for _ in range(5)]
    assert answers[2:] == [429, 429, 429]
    assert AddressBan.objects.get().address == "127.0.0.1"
    assert anonymous.get(ANONYMOUS_ROUTE).status_code == 429


def test_a_lost_cache_entry_is_restored_from_the_database(small_limits, frozen) -> None:
    from limits.tasks import restore_address_bans

    anonymous = APIClient()
    statuses(anonymous, 5, ANONYMOUS_ROUTE)
    cache.delete(ip_ban_key("127.0.0.1"))  # a restart, an eviction
    frozen.shift(timedelta(minutes=2))
    assert anonymous.get(ANONYMOUS_ROUTE).status_code == 200

    assert restore_address_bans() == 1
    refused = anonymous.get(ANONYMOUS_ROUTE)
    assert refused.status_code == 429
    assert refused["Retry-After"] == str(13 * 60 + 1)
