"""Reads of feature flags: the staff list, one flag, stale flags."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from accounts import access
from accounts.access import Action, Actor
from accounts.models import User
from config.error_codes import ApplicationError
from flags.models import Flag


def flag_list(*, actor: Actor, search: str = "") -> QuerySet[Flag]:
    """Every flag with its roles and users, for staff who may change flags (``403``
    otherwise, before anything is read)."""
    access.check_targetless(actor, Action.CHANGE_FLAGS)
    flags = Flag.objects.prefetch_related(
        "groups", Prefetch("users", queryset=User.objects.only("pk"))
    ).order_by("name")
    if search:
        flags = flags.filter(name__icontains=search)
    return flags


def flag_get(*, actor: Actor, name: str) -> Flag:
    access.check_targetless(actor, Action.CHANGE_FLAGS)
    flag = flag_list(actor=actor).filter(name=name).first()
    if flag is None:
        raise ApplicationError("not_found", "No such flag.")
    return flag


def stale_flags(*, days: int) -> QuerySet[Flag]:
    """Flags nobody has changed in ``days`` days that are fully on or fully off (for
    everyone, or with no rule that turns them on for anyone): candidates for removal
    from the code. Endpoint flags are never candidates (their routes are the code)."""
    cutoff = timezone.now() - timedelta(days=days)
    fully_off = (
        Q(everyone__isnull=True)
        & (Q(percent__isnull=True) | Q(percent=0))
        & Q(groups__isnull=True)
        & Q(users__isnull=True)
    )
    return (
        Flag.objects.filter(is_endpoint=False, modified__lt=cutoff)
        .filter(Q(everyone__isnull=False) | Q(percent__gte=100) | fully_off)
        .distinct()
        .order_by("modified")
    )
