"""Bans and roles: what staff do to accounts, each checked against the actor's rank."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.constants import AuditKind, RevokeReason
from accounts.emails import send_account_email
from accounts.models import Ban, User
from accounts.roles import RANK, Role, may_ban, permissions_of, rank_of
from accounts.services.audit import audit_record
from accounts.services.profile import PROFILE_FIELDS, profile_changes_clean
from accounts.services.sessions import sessions_revoke_all
from config.client import ClientInfo
from config.errors import ApplicationError

BANNED_EMAIL = "account/email/banned"
UNBANNED_EMAIL = "account/email/unbanned"


def _refuse() -> ApplicationError:
    return ApplicationError(
        "permission_denied",
        "You do not have permission to perform this action.",
    )


@transaction.atomic
def user_ban(
    *,
    user_id: uuid.UUID,
    actor: User | None,
    reason: str,
    until: datetime | None,
    client: ClientInfo,
) -> Ban:
    """Ban a user until ``until`` (``None``: for good). A ban in force is replaced. Every
    session ends at once, so tokens already held stop on their next request. ``actor`` is
    ``None`` for ops (``manage.py ban``), who are not ranked."""
    user = User.objects.select_for_update().get(pk=user_id)
    if actor is not None and not may_ban(actor, user):
        raise _refuse()
    now = timezone.now()
    if until is not None and until <= now:
        raise ApplicationError("validation_error", "A ban must end in the future.")
    Ban.objects.filter(user=user).in_force(at=now).update(
        lifted_at=now, lifted_by=actor
    )
    ban = Ban.objects.create(
        user=user, reason=reason, created_by=actor, created_at=now, until=until
    )
    sessions_revoke_all(
        user=user, reason=RevokeReason.BANNED, client=client, audit=False
    )
    audit_record(
        kind=AuditKind.USER_BANNED,
        client=client,
        actor=actor,
        target=user,
        payload={"ban": str(ban.pk), "until": until.isoformat() if until else None},
    )
    send_account_email(
        template_prefix=BANNED_EMAIL,
        user=user,
        context={"reason": reason, "until": until},
    )
    return ban


@transaction.atomic
def user_unban(*, user_id: uuid.UUID, actor: User | None, client: ClientInfo) -> None:
    user = User.objects.select_for_update().get(pk=user_id)
    if actor is not None and not may_ban(actor, user):
        raise _refuse()
    now = timezone.now()
    lifted = (
        Ban.objects.filter(user=user)
        .in_force(at=now)
        .update(lifted_at=now, lifted_by=actor)
    )
    if not lifted:
        raise ApplicationError("not_found", "This account is not banned.")
    audit_record(kind=AuditKind.USER_UNBANNED, client=client, actor=actor, target=user)
    send_account_email(template_prefix=UNBANNED_EMAIL, user=user)


def _superadmins() -> Q:
    return Q(is_superuser=True) | Q(groups__name=Role.SUPERADMIN)


@transaction.atomic
def roles_set(
    *, user_id: uuid.UUID, actor: User, roles: list[str], client: ClientInfo
) -> User:
    """Give ``user`` exactly ``roles``. Only a superadmin may, never above their own rank,
    and the last superadmin keeps that role. ``is_staff`` follows (moderator and up)."""
    if rank_of(actor) < RANK[Role.SUPERADMIN]:
        raise _refuse()
    wanted = sorted({Role(role) for role in roles}, key=RANK.__getitem__)
    if any(RANK[role] > rank_of(actor) for role in wanted):
        raise _refuse()
    user = User.objects.select_for_update().get(pk=user_id)
    was_superadmin = rank_of(user) == RANK[Role.SUPERADMIN]
    if was_superadmin and Role.SUPERADMIN not in wanted and not user.is_superuser:
        others = User.objects.filter(_superadmins(), is_active=True).exclude(pk=user.pk)
        if not others.exists():
            raise ApplicationError(
                "conflict",
                "This is the last superadmin: name another first.",
            )
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
        actor=actor,
        target=user,
        payload={"from": [r.value for r in before], "to": [r.value for r in wanted]},
    )
    return user


def roles_sync() -> None:
    """Create each role's group and give it exactly the permissions ``accounts.roles``
    declares (run after every migration, and by ``manage.py sync_roles``)."""
    for role in Role:
        group, _ = Group.objects.get_or_create(name=role.value)
        wanted = permissions_of(role)
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


@transaction.atomic
def user_update_by_staff(
    *, actor: User, user_id: uuid.UUID, changes: dict[str, Any], client: ClientInfo
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
    user = User.objects.select_for_update().get(pk=user_id)
    if not may_ban(actor, user):
        raise _refuse()
    profile = {field: value for field, value in changes.items() if field != "is_active"}
    profile = profile_changes_clean(user, profile)
    for field, value in profile.items():
        setattr(user, field, value)
    user.full_clean(
        exclude=[field.name for field in User._meta.fields if field.name not in profile]
    )
    is_active = changes.get("is_active", user.is_active)

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
            actor=actor,
            target=user,
        )
    if profile:
        user.save(update_fields=[*profile])
        audit_record(
            kind=AuditKind.PROFILE_UPDATED,
            client=client,
            actor=actor,
            target=user,
            payload={"fields": sorted(profile)},
        )
    return user
