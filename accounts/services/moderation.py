"""What staff (and ops, as the system actor) do to other accounts: bans, roles, profile and
active state, sessions. Each service asserts ``accounts.access`` on the row it locks, so
every way in -- the API, the admin, ``manage.py`` -- is held to the same rules."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts.access import (
    SYSTEM_ACTOR,
    Action,
    Actor,
    check,
    model_permissions,
    person,
    refusal,
    target_for,
)
from accounts.constants import AuditKind, RevokeReason
from accounts.emails import send_account_email
from accounts.models import AuthSession, Ban, User
from accounts.roles import RANK, Role, permissions_of, rank_of
from accounts.services.audit import audit_record
from accounts.services.profile import (
    PROFILE_FIELDS,
    profile_changes_apply,
    profile_changes_save,
)
from accounts.services.sessions import session_revoke, sessions_revoke_all
from config.client import ClientInfo
from config.error_codes import ApplicationError

BANNED_EMAIL = "account/email/banned"
UNBANNED_EMAIL = "account/email/unbanned"


def _superadmins() -> Q:
    return Q(is_superuser=True) | Q(groups__name=Role.SUPERADMIN)


def _keep_a_superadmin(user: User, *, actor: Actor, force: bool) -> None:
    """Refuse (``409 conflict``) to take away the last superadmin who can sign in (active,
    not banned). Only the system actor may ``force`` it (``manage.py … --force``)."""
    if force and actor is SYSTEM_ACTOR:
        return
    banned = Ban.objects.filter(user=OuterRef("pk")).in_force()
    others = (
        User.objects.filter(_superadmins(), is_active=True)
        .exclude(pk=user.pk)
        .exclude(Exists(banned))
    )
    if not others.exists():
        raise ApplicationError(
            "conflict", "This is the last superadmin: name another first."
        )


@dataclass(frozen=True)
class BanPlacement:
    """What ``user_ban`` did. ``ban`` is the ban in force afterwards: the new one, or,
    when ``placed`` is false, the one in force that was kept (it ends as late as the
    one asked for, or later). ``replaced`` is the ban in force before, when the new one
    took its place."""

    ban: Ban
    placed: bool
    replaced: Ban | None = None


def ends_later(until: datetime | None, than: datetime | None) -> bool:
    """Whether a ban ending at ``until`` outlasts one ending at ``than`` (``None``: never
    ends)."""
    return than is not None and (until is None or until > than)


@transaction.atomic
def user_ban(
    *,
    user_id: uuid.UUID,
    actor: Actor,
    reason: str,
    until: datetime | None,
    client: ClientInfo,
    force: bool = False,
    replace: bool = False,
) -> BanPlacement:
    """Ban a user until ``until`` (``None``: for good). Every session ends at once, so
    tokens already held stop on their next request.

    A ban already in force is replaced when the new one ends later (or never); when it
    ends as late or later, it is kept and nothing is placed, unless ``replace`` (a staff
    member shortening a ban on purpose). Either way the history keeps both: the replaced
    ban is lifted and names its successor; a kept one is audited as ``user.ban_kept``.
    """
    user = target_for(actor, Action.BAN, user_id, for_update=True)
    now = timezone.now()
    if until is not None and until <= now:
        raise ApplicationError("validation_error", "A ban must end in the future.")
    if rank_of(user) == RANK[Role.SUPERADMIN]:
        _keep_a_superadmin(user, actor=actor, force=force)
    by = person(actor)
    in_force = list(Ban.objects.filter(user=user).in_force(at=now))
    longest = max(
        in_force,
        key=lambda ban: (ban.until is None, ban.until or now),
        default=None,
    )
    if longest is not None and not replace and not ends_later(until, longest.until):
        audit_record(
            kind=AuditKind.USER_BAN_KEPT,
            client=client,
            actor=by,
            target=user,
            payload={
                "ban": str(longest.pk),
                "until": longest.until.isoformat() if longest.until else None,
                "requested_until": until.isoformat() if until else None,
            },
        )
        return BanPlacement(ban=longest, placed=False)
    ban = Ban.objects.create(
        user=user, reason=reason, created_by=by, created_at=now, until=until
    )
    Ban.objects.filter(pk__in=[each.pk for each in in_force]).update(
        lifted_at=now, lifted_by=by, replaced_by=ban
    )
    sessions_revoke_all(
        user=user, reason=RevokeReason.BANNED, client=client, audit=False
    )
    audit_record(
        kind=AuditKind.USER_BANNED,
        client=client,
        actor=by,
        target=user,
        payload={
            "ban": str(ban.pk),
            "until": until.isoformat() if until else None,
            **({"replaces": str(longest.pk)} if longest is not None else {}),
        },
    )
    send_account_email(
        template_prefix=BANNED_EMAIL,
        user=user,
        context={"reason": reason, "until": until},
    )
    return BanPlacement(ban=ban, placed=True, replaced=longest)


@transaction.atomic
def user_unban(*, user_id: uuid.UUID, actor: Actor, client: ClientInfo) -> None:
    user = target_for(actor, Action.UNBAN, user_id, for_update=True)
    now = timezone.now()
    by = person(actor)
    lifted = (
        Ban.objects.filter(user=user)
        .in_force(at=now)
        .update(lifted_at=now, lifted_by=by)
    )
    if not lifted:
        raise ApplicationError("not_found", "This account is not banned.")
    audit_record(kind=AuditKind.USER_UNBANNED, client=client, actor=by, target=user)
    send_account_email(template_prefix=UNBANNED_EMAIL, user=user)


@transaction.atomic
def roles_set(
    *,
    user_id: uuid.UUID,
    actor: Actor,
    roles: list[str],
    client: ClientInfo,
    force: bool = False,
) -> User:
    """Give ``user`` exactly ``roles``. Only a superadmin may, never above their own rank,
    and the last superadmin keeps that role. ``is_staff`` follows (moderator and up)."""
    user = target_for(actor, Action.SET_ROLES, user_id, for_update=True)
    wanted = sorted({Role(role) for role in roles}, key=RANK.__getitem__)
    by = person(actor)
    # Defensive: only superadmins reach this (target_for), and no rank is above theirs.
    if by is not None and any(RANK[role] > rank_of(by) for role in wanted):
        raise refusal()  # pragma: no cover
    was_superadmin = rank_of(user) == RANK[Role.SUPERADMIN]
    if was_superadmin and Role.SUPERADMIN not in wanted and not user.is_superuser:
        _keep_a_superadmin(user, actor=actor, force=force)
    before = [
        role
        for role in Role
        if role.value in set(user.groups.values_list("name", flat=True))
    ]
    user.groups.set(
        [Group.objects.get_or_create(name=role.value)[0] for role in wanted]
    )
    user.is_staff = user.is_superuser or any(
        RANK[role] >= RANK[Role.MODERATOR] for role in wanted
    )
    user.save(update_fields=["is_staff"])
    audit_record(
        kind=AuditKind.ROLES_CHANGED,
        client=client,
        actor=by,
        target=user,
        payload={"from": [r.value for r in before], "to": [r.value for r in wanted]},
    )
    return user


def roles_sync() -> None:
    """Create each role's group and give it exactly the permissions ``accounts.roles``
    declares, and those standing for the actions ``accounts.access`` lets it take (run
    after every migration, and by ``manage.py sync_roles``)."""
    for role in Role:
        group, _ = Group.objects.get_or_create(name=role.value)
        wanted = {*permissions_of(role), *model_permissions(role)}
        permissions = Permission.objects.filter(
            content_type__app_label__in={name.split(".")[0] for name in wanted},
            codename__in=[name.split(".")[1] for name in wanted],
        ).select_related("content_type")
        group.permissions.set(
            [
                permission
                for permission in permissions
                if f"{permission.content_type.app_label}.{permission.codename}"
                in wanted
            ]
        )


STAFF_CHANGES = frozenset({*PROFILE_FIELDS, "is_active"})


def staff_update_actions(fields: Iterable[str]) -> list[Action]:
    """What a staff update of ``fields`` does, in ``accounts.access`` terms: ``is_active``
    deactivates (or reactivates), any other field edits the profile (so does an empty
    update, which changes nothing)."""
    names = set(fields)
    actions = [Action.DEACTIVATE] if "is_active" in names else []
    if names - {"is_active"} or not actions:
        actions.append(Action.EDIT_PROFILE)
    return actions


@transaction.atomic
def user_update_by_staff(
    *, actor: Actor, user_id: uuid.UUID, changes: dict[str, Any], client: ClientInfo
) -> User:
    """Change another account's profile fields and active state, all or nothing.

    Everything is validated before anything is written, and both changes commit together:
    a bad phone number leaves the account active. Deactivating ends every session at once;
    the events name the staff member as actor.
    """
    unknown = set(changes) - STAFF_CHANGES
    if unknown:
        raise ValidationError(
            {field: ["This field cannot be changed here."] for field in sorted(unknown)}
        )
    user = target_for(actor, staff_update_actions(changes), user_id, for_update=True)
    profile = {field: value for field, value in changes.items() if field != "is_active"}
    profile = profile_changes_apply(user, profile)
    is_active = changes.get("is_active", user.is_active)
    if not is_active and user.is_active and rank_of(user) == RANK[Role.SUPERADMIN]:
        _keep_a_superadmin(user, actor=actor, force=False)

    by = person(actor)
    if is_active != user.is_active:
        user.is_active = is_active
        user.save(update_fields=["is_active"])
        if not is_active:
            sessions_revoke_all(
                user=user,
                reason=RevokeReason.ACCOUNT_DEACTIVATED,
                client=client,
                audit=False,
            )
        audit_record(
            kind=AuditKind.USER_REACTIVATED
            if is_active
            else AuditKind.USER_DEACTIVATED,
            client=client,
            actor=by,
            target=user,
        )
    profile_changes_save(user=user, fields=profile, actor=by, client=client)
    return user


@transaction.atomic
def sessions_revoke_by_staff(
    *, actor: Actor, user_id: uuid.UUID, client: ClientInfo
) -> int:
    """Sign another account out everywhere; returns how many sessions ended."""
    user = target_for(actor, Action.REVOKE_SESSIONS, user_id, for_update=True)
    return sessions_revoke_all(
        user=user, reason=RevokeReason.REVOKED, client=client, actor=person(actor)
    )


@transaction.atomic
def session_revoke_by_staff(
    *, actor: Actor, session_id: uuid.UUID, client: ClientInfo
) -> None:
    """End one session of another account (``404`` when it is unknown or already
    ended). Staff end their own sessions as anyone does (``sessions/``)."""
    session = (
        AuthSession.objects.select_related("user")
        .filter(pk=session_id, revoked_at__isnull=True)
        .first()
    )
    if session is None:
        raise ApplicationError("not_found", "No such session.")
    check(actor, Action.REVOKE_SESSIONS, session.user)
    session_revoke(
        user=session.user,
        session_id=session.pk,
        reason=RevokeReason.REVOKED,
        client=client,
        actor=person(actor),
    )
