"""Automatic bans of callers who keep hitting limits, and address bans placed by staff.

**Automatic bans.** Every ``429`` answered (a group's limit, a named limit such as the
login lockout, an address ban's own refusal excepted) is one more refusal of its caller
(:func:`refusal_record`, called by ``limits.middleware``), counted in a sliding window
(``config.sliding_window``) of ``AUTO_BAN_WINDOW_MINUTES`` keyed by the caller's subject.
The refusal that brings the count to ``AUTO_BAN_THRESHOLD`` locks the window (of
refusals racing to the threshold, exactly one is told it locked it) and bans:

- a signed-in caller's account, or an API key's owner: ``accounts``' ``user_ban`` by the
  system, with :data:`~accounts.constants.AUTO_BAN_REASON` (the ban ends every session
  and, read at request time, refuses the owner's keys). Staff are never banned this
  way: not counted when the request's snapshot says staff, and asked again of the
  database before the ban. A global key (no owner) is never banned: it is logged;
- an anonymous caller's address (an IPv6 client's /64): an :class:`AddressBan`,
  enforced by the throttle from its cache entry (``limits.state.ip_ban_key``).

A ban lasts ``AUTO_BAN_MINUTES`` times ``AUTO_BAN_ESCALATION`` for each automatic ban of
the same account or address created in the last ``AUTO_BAN_MEMORY_DAYS`` (those staff
lifted are forgiven), at most ``AUTO_BAN_MAX_MINUTES``. The lock lasts a whole window
from the ban (so does the refusals' reset): with a ban shorter than the window, the
next automatic ban comes a window after the last at the earliest.

**Address bans' cache entries** hold the latest end of the address's bans in force (as
epoch seconds, expiring then). They are written inside the banning (or lifting)
transaction, after its rows, and written again from the database once it commits, as
``accounts.session_state.mark_sessions_revoked`` writes its tombstones: a cache that
refuses the first write makes the service raise ``503 service_unavailable`` and roll
back, so no ban is ever recorded (and shown to staff as in force) without being
enforced; a failure of the second write is logged, the first one holds.
:func:`address_bans_restore` writes every entry again from the database (the
``limits.tasks.restore_address_bans`` job, every few minutes): a cache that lost its
entries (a restart, an eviction) enforces the bans again within that time.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.access import (
    SYSTEM_ACTOR,
    Action,
    Actor,
    check_targetless,
    person,
)
from accounts.constants import AUTO_BAN_REASON, AuditKind
from accounts.models import Ban, User
from accounts.roles import is_staff_member
from accounts.services.audit import audit_record
from accounts.services.moderation import user_ban
from config.client import ClientInfo
from config.client_ip import limited_address
from config.error_codes import ApplicationError
from config.sliding_window import SlidingWindow
from limits.callers import Caller
from limits.models import AddressBan
from limits.state import ip_ban_key

logger = logging.getLogger("gatehouse.ratelimits")

REFUSALS = "rate_limit_refusals"
# Past this many earlier bans the cap has long been reached: no huge powers.
MOST_ESCALATIONS = 32


# --- Automatic bans ----------------------------------------------------------------


def refusal_window(subject: str) -> SlidingWindow:
    """The refusals of ``subject`` (``u:<id>``, ``k:<prefix>``, ``ip:<address>``)."""
    return SlidingWindow(
        name=REFUSALS,
        key=subject,
        rate=f"{settings.AUTO_BAN_THRESHOLD}/{settings.AUTO_BAN_WINDOW_MINUTES}m",
    )


def refusal_record(caller: Caller, *, client: ClientInfo) -> None:
    """One more ``429`` answered to ``caller``; the one that reaches the threshold bans
    it (see the module's docstring)."""
    if not settings.AUTO_BAN_ENABLED or caller.is_staff:
        return
    if caller.is_anonymous and (caller.ip is None or address_banned(caller.ip)):
        return  # the address ban's own refusals do not make it longer
    window = refusal_window(caller.subject)
    state = window.count()
    if state.is_locked or state.count < window.limit or not window.lock():
        return
    window.reset()
    if caller.ip is not None:
        address_ban_automatically(address=caller.ip, client=client)
    elif caller.user_id is not None:
        user_ban_automatically(user_id=caller.user_id, client=client)
    else:
        logger.warning(
            "Global API key %s keeps hitting its limits (%s refusals within %s "
            "minutes); global keys are never banned automatically",
            caller.subject,
            window.limit,
            settings.AUTO_BAN_WINDOW_MINUTES,
        )


def ban_duration(earlier_bans: int) -> timedelta:
    """How long an automatic ban lasts after ``earlier_bans`` remembered ones."""
    minutes = settings.AUTO_BAN_MINUTES * settings.AUTO_BAN_ESCALATION ** min(
        earlier_bans, MOST_ESCALATIONS
    )
    return timedelta(minutes=min(minutes, settings.AUTO_BAN_MAX_MINUTES))


def _remembered_since(now: datetime) -> datetime:
    return now - timedelta(days=settings.AUTO_BAN_MEMORY_DAYS)


@transaction.atomic
def user_ban_automatically(*, user_id: str, client: ClientInfo) -> Ban | None:
    """Ban the account ``user_id`` for rate-limit abuse, unless it is staff (read from
    the database, under the row's lock) or gone. Returns the ban placed."""
    user = User.objects.select_for_update().filter(pk=user_id, is_active=True).first()
    if user is None:
        return None
    if is_staff_member(user):
        logger.info("Staff account %s hit the automatic ban threshold", user.pk)
        return None
    now = timezone.now()
    earlier = (
        Ban.objects.filter(
            user=user,
            reason=AUTO_BAN_REASON,
            created_by__isnull=True,
            created_at__gte=_remembered_since(now),
        )
        .exclude(lifted_by__isnull=False)
        .count()
    )
    until = now + ban_duration(earlier)
    placement = user_ban(
        user_id=user.pk,
        actor=SYSTEM_ACTOR,
        reason=AUTO_BAN_REASON,
        until=until,
        client=client,
    )
    logger.warning(
        "Account %s banned automatically until %s (rate limit abuse; %d earlier "
        "automatic ban(s) in %d days)",
        user.pk,
        until.isoformat(),
        earlier,
        settings.AUTO_BAN_MEMORY_DAYS,
    )
    return placement.ban if placement.placed else None


@transaction.atomic
def address_ban_automatically(*, address: str, client: ClientInfo) -> AddressBan:
    """Ban the (already masked) ``address`` for rate-limit abuse."""
    now = timezone.now()
    earlier = (
        AddressBan.objects.automatic()
        .filter(address=address, created_at__gte=_remembered_since(now))
        .exclude(lifted_by__isnull=False)
        .count()
    )
    ban = _address_ban_place(
        address=address,
        reason=AUTO_BAN_REASON,
        until=now + ban_duration(earlier),
        by=None,
        client=client,
        now=now,
    )
    logger.warning(
        "Address %s banned automatically until %s (rate limit abuse; %d earlier "
        "automatic ban(s) in %d days)",
        address,
        ban.until.isoformat(),
        earlier,
        settings.AUTO_BAN_MEMORY_DAYS,
    )
    return ban


# --- Address bans ------------------------------------------------------------------


def address_banned(address: str) -> bool:
    """Whether the cache holds a ban of ``address`` in force now."""
    until = cache.get(ip_ban_key(address))
    return until is not None and float(until) > time.time()


def banned_address(address: str) -> str:
    """``address`` as the per-IP limits count it, and as bans are kept: an IPv6
    address by its /64 (``RATELIMIT_IPV6_MASK``), as ``config.ratelimits.limited_ip``
    masks a client's. ``ValidationError`` when it is no IP address."""
    try:
        return limited_address(address.strip())
    except ValueError:
        raise ValidationError({"address": ["Enter an IPv4 or IPv6 address."]}) from None


@transaction.atomic
def address_ban(
    *,
    actor: Actor,
    address: str,
    reason: str,
    until: datetime,
    client: ClientInfo,
) -> AddressBan:
    """Bar ``address`` (an IPv6 one: its /64) from anonymous requests until
    ``until``: staff who may ban accounts (``Action.BAN_ADDRESS``). ``reason`` is
    required; the automatic one is the limiter's alone."""
    check_targetless(actor, Action.BAN_ADDRESS)
    masked = banned_address(address)
    reason = reason.strip()
    now = timezone.now()
    errors: dict[str, list[str]] = {}
    if not reason:
        errors["reason"] = ["Say why the address is banned."]
    elif reason == AUTO_BAN_REASON:
        errors["reason"] = ["This reason is kept for automatic bans."]
    if until <= now:
        errors["until"] = ["A ban must end in the future."]
    if errors:
        raise ValidationError(errors)
    ban = _address_ban_place(
        address=masked,
        reason=reason,
        until=until,
        by=person(actor),
        client=client,
        now=now,
    )
    logger.info(
        "Address %s banned until %s by %s",
        masked,
        until.isoformat(),
        person(actor) or "the system",
    )
    return ban


def _address_ban_place(
    *,
    address: str,
    reason: str,
    until: datetime,
    by: User | None,
    client: ClientInfo,
    now: datetime,
) -> AddressBan:
    ban = AddressBan.objects.create(
        address=address, reason=reason, created_by=by, created_at=now, until=until
    )
    audit_record(
        kind=AuditKind.ADDRESS_BANNED,
        client=client,
        actor=by,
        payload={
            "address": address,
            "ban": str(ban.pk),
            "until": until.isoformat(),
            "reason": reason,
            "automatic": ban.is_automatic,
        },
    )
    _enforce(address, now=now)
    return ban


@transaction.atomic
def address_unban(
    *, ban_id: uuid.UUID | str, actor: Actor, client: ClientInfo
) -> list[AddressBan]:
    """Lift ``ban_id`` and every other ban in force on its address, which is served
    again at once: staff who may ban addresses. ``404 not_found`` when there is no such
    ban, or none in force on its address. Returns the bans lifted."""
    check_targetless(actor, Action.BAN_ADDRESS)
    ban = AddressBan.objects.filter(pk=ban_id).first()
    if ban is None:
        raise ApplicationError("not_found", "No such address ban.")
    now = timezone.now()
    by = person(actor)
    lifted = list(
        AddressBan.objects.select_for_update()
        .filter(address=ban.address)
        .in_force(at=now)
    )
    if not lifted:
        raise ApplicationError("not_found", "This address is not banned.")
    AddressBan.objects.filter(pk__in=[each.pk for each in lifted]).update(
        lifted_at=now, lifted_by=by
    )
    audit_record(
        kind=AuditKind.ADDRESS_UNBANNED,
        client=client,
        actor=by,
        payload={
            "address": ban.address,
            "bans": [str(each.pk) for each in lifted],
        },
    )
    _enforce(ban.address, now=now)
    logger.info("Address %s: ban lifted by %s", ban.address, by or "the system")
    return lifted


def address_bans_restore() -> int:
    """Write the cache entry of every address banned now, from the database (a cache
    that lost them enforces them again). Returns how many addresses are banned."""
    now = timezone.now()
    ends = (
        AddressBan.objects.in_force(at=now)
        .values("address")
        .annotate(end=Max("until"))
        .order_by()
    )
    count = 0
    for row in ends:
        _write_entry(row["address"], row["end"])
        count += 1
    return count


def _latest_end(address: str, *, now: datetime) -> datetime | None:
    end: datetime | None = (
        AddressBan.objects.filter(address=address)
        .in_force(at=now)
        .aggregate(end=Max("until"))["end"]
    )
    return end


def _write_entry(address: str, end: datetime | None) -> None:
    """The cache entry of ``address``: ``end`` as epoch seconds, until then; none when
    no ban is in force."""
    key = ip_ban_key(address)
    if end is None:
        cache.delete(key)
        return
    seconds = end.timestamp() - time.time()
    if seconds <= 0:
        cache.delete(key)
        return
    cache.set(key, end.timestamp(), timeout=math.ceil(seconds))


def _enforce(address: str, *, now: datetime) -> None:
    """Write the entry now, inside the transaction that changed the address's bans
    (``503`` and a rollback when the cache refuses), and again from the database once
    it commits."""
    try:
        _write_entry(address, _latest_end(address, now=now))
    except Exception as error:  # any failure of the cache backend
        logger.error(
            "Address %s: ban not changed, the cache refused its entry",
            address,
            exc_info=True,
        )
        raise ApplicationError(
            "service_unavailable",
            "Address bans cannot be changed right now: nothing changed, try again "
            "shortly.",
        ) from error
    transaction.on_commit(partial(_enforce_again, address))


def _enforce_again(address: str) -> None:
    try:
        _write_entry(address, _latest_end(address, now=timezone.now()))
    except Exception:  # the first write holds; address_bans_restore repairs
        logger.error(
            "Address %s: the cache refused the ban's entry after the commit",
            address,
            exc_info=True,
        )
