"""Writes of API keys: make one, change its quota, revoke one, revoke every key of a user.

Who may do which goes through ``accounts.access`` (the API, the admin and ``manage.py``
ask the same table); every creation and revocation is audited and emailed to the owner
(a global key has none: the audit event is the record).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts import access
from accounts.access import Actor, person
from accounts.constants import AuditKind
from accounts.emails import send_account_email
from accounts.models import User
from accounts.roles import ROLE_ORDER, is_staff_member, rank_of
from accounts.services.audit import audit_record
from apikeys.keys import generate_key, secret_digest
from apikeys.models import ApiKey
from apikeys.scopes import DEFAULT_SCOPES, Scope
from apikeys.state import forget_unknown, mark_keys_revoked, replace_entry
from config.client import ClientInfo
from config.error_codes import ApplicationError
from limits.policy import DAY, DEFAULT_GROUP, HOUR, limits_for

API_KEY_CREATED_EMAIL = "account/email/apikey_created"
API_KEY_REVOKED_EMAIL = "account/email/apikey_revoked"
NAME_MAX_LENGTH = 100
# A key's own quota: requests per hour and per day (``ApiKey.quota_per_hour``/``_day``).
QUOTA_FIELDS = {"quota_per_hour": HOUR, "quota_per_day": DAY}
QUOTA_MAX = 2**31 - 1  # the column's range (PostgreSQL's integer)


def _scopes_for(
    scopes: list[str] | None, *, owner: User | None, actor: Actor
) -> list[str]:
    """The scopes the key gets, checked: a user's key defaults to ``DEFAULT_SCOPES``;
    ``admin`` only for a staff owner (or a global key) made with staff powers in force;
    ``tokens:introspect`` only on a global key, which must name its scopes."""
    if scopes is None:
        if owner is None:
            raise ValidationError({"scopes": ["A global key needs explicit scopes."]})
        return [str(scope) for scope in DEFAULT_SCOPES]
    known = {str(scope) for scope in Scope}
    unknown = sorted(set(scopes) - known)
    if unknown:
        raise ValidationError({"scopes": [f"Unknown scope: {', '.join(unknown)}."]})
    if not scopes:
        raise ValidationError({"scopes": ["Give at least one scope."]})
    if Scope.TOKENS_INTROSPECT in scopes and owner is not None:
        raise ValidationError(
            {"scopes": ["tokens:introspect is only for global keys."]}
        )
    if Scope.ADMIN in scopes and owner is not None:
        if not is_staff_member(owner):
            raise ValidationError({"scopes": ["admin is only for staff."]})
        if not access.powers_in_force(actor):
            raise access.second_factor_required()
    # In the order of the enum, each once.
    return [str(scope) for scope in Scope if scope in scopes]


def _validated_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ValidationError({"name": ["Give the key a name."]})
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError({"name": [f"At most {NAME_MAX_LENGTH} characters."]})
    return name


def role_quota_ceiling(owner: User | None) -> dict[str, int | None]:
    """The most an owner may give a key of theirs, per quota field: their role's hourly
    and daily limits in the default group (``None``: their role has none there)."""
    tier = "service" if owner is None else ROLE_ORDER[rank_of(owner)].value
    by_period = {limit.period: limit.limit for limit in limits_for(DEFAULT_GROUP, tier)}
    return {field: by_period.get(period) for field, period in QUOTA_FIELDS.items()}


def _validated_quota(
    changes: Mapping[str, int | None],
    *,
    owner: User | None,
    actor: Actor,
    current: Mapping[str, int | None] | None = None,
) -> dict[str, int | None]:
    """The quota fields of ``changes``, checked: each a whole number from 1, or ``None``
    (the owner's role's limits). Above the owner's role's limit only for those who may
    set any quota (``accounts.access.may_set_any_api_key_quota``); a value kept as it
    is (``current``: one staff gave) is not checked again."""
    unknown = sorted(set(changes) - set(QUOTA_FIELDS))
    if unknown:
        raise ValidationError({field: ["Not a quota field."] for field in unknown})
    errors: dict[str, list[str]] = {}
    for field, value in changes.items():
        if value is not None and not 1 <= value <= QUOTA_MAX:
            errors[field] = [f"Give a whole number from 1 to {QUOTA_MAX}, or null."]
    if errors:
        raise ValidationError(errors)
    if access.may_set_any_api_key_quota(actor, owner):
        return dict(changes)
    ceiling = role_quota_ceiling(owner)
    for field, value in changes.items():
        highest = ceiling[field]
        kept = current is not None and current.get(field) == value
        if value is not None and highest is not None and value > highest and not kept:
            errors[field] = [
                f"At most {highest}: your role's limit. Ask an administrator for more."
            ]
    if errors:
        raise ValidationError(errors)
    return dict(changes)


def _audit_payload(key: ApiKey) -> dict[str, object]:
    return {
        "key_id": str(key.pk),
        "prefix": key.prefix,
        "name": key.name,
        "scopes": key.scopes,
        "global": key.is_global,
        "expires_at": key.expires_at.isoformat() if key.expires_at else None,
        "quota_per_hour": key.quota_per_hour,
        "quota_per_day": key.quota_per_day,
    }


@transaction.atomic
def api_key_create(
    *,
    actor: Actor,
    owner_id: uuid.UUID | None,
    name: str,
    scopes: list[str] | None,
    expires_at: datetime | None,
    client: ClientInfo,
    quota_per_hour: int | None = None,
    quota_per_day: int | None = None,
) -> tuple[ApiKey, str]:
    """Make a key for ``owner_id`` (``None``: a global service key) and return it with
    the full key, the only time it exists outside the client. Its own quota (``None``:
    the owner's role's limits) at most the owner's role's, unless the actor may set any
    (``_validated_quota``)."""
    owner: User | None = None
    if owner_id is not None:
        owner = User.objects.filter(pk=owner_id).first()
        if owner is None or not access.may_see_api_keys_of(actor, owner):
            raise ApplicationError("not_found", "No such user.")
    access.check_api_key_creation(actor, owner)
    name = _validated_name(name)
    granted = _scopes_for(scopes, owner=owner, actor=actor)
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": ["Choose a moment in the future."]})
    quota = _validated_quota(
        {"quota_per_hour": quota_per_hour, "quota_per_day": quota_per_day},
        owner=owner,
        actor=actor,
    )
    full_key, prefix, secret = generate_key()
    key = ApiKey.objects.create(
        user=owner,
        name=name,
        prefix=prefix,
        secret_hash=secret_digest(secret),
        scopes=granted,
        expires_at=expires_at,
        created_by=person(actor),
        **quota,
    )
    forget_unknown(prefix)
    audit_record(
        kind=AuditKind.API_KEY_CREATED,
        actor=person(actor),
        target=owner,
        client=client,
        payload=_audit_payload(key),
    )
    if owner is not None:
        send_account_email(
            template_prefix=API_KEY_CREATED_EMAIL, user=owner, context={"key": key}
        )
    return key, full_key


def _locked_key(actor: Actor, key_id: uuid.UUID) -> ApiKey:
    """The key, its row locked; ``404 not_found`` for one the actor may not see.

    Only the key's row: PostgreSQL refuses ``FOR UPDATE`` on the nullable side of the
    outer join to its owner (a global key has none)."""
    key = (
        ApiKey.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(pk=key_id)
        .first()
    )
    if key is None or not access.may_see_api_keys_of(actor, key.user):
        raise ApplicationError("not_found", "No such API key.")
    return key


@transaction.atomic
def api_key_quota_set(
    *,
    actor: Actor,
    key_id: uuid.UUID,
    changes: Mapping[str, int | None],
    client: ClientInfo,
) -> ApiKey:
    """Change a key's own quota (``changes``: ``quota_per_hour`` and/or
    ``quota_per_day``; ``None`` goes back to the owner's role's limits). In force from
    the next request on: the key's cached entry is replaced in this transaction.

    ``404 not_found`` for a key the actor may not see; ``403`` for another's key unless
    an admin (``accounts.access.check_api_key_quota_change``); ``400
    validation_error`` above the owner's role's limit unless the actor may set any;
    ``409 conflict`` for a revoked key. A change that changes nothing records nothing."""
    key = _locked_key(actor, key_id)
    access.check_api_key_quota_change(actor, key.user)
    if key.revoked_at is not None:
        raise ApplicationError("conflict", "This key is revoked: it has no quota.")
    current = {field: getattr(key, field) for field in QUOTA_FIELDS}
    quota = _validated_quota(changes, owner=key.user, actor=actor, current=current)
    changed = {
        field: value for field, value in quota.items() if current[field] != value
    }
    if not changed:
        return key
    for field, value in changed.items():
        setattr(key, field, value)
    key.save(update_fields=list(changed))
    audit_record(
        kind=AuditKind.API_KEY_QUOTA_CHANGED,
        actor=person(actor),
        target=key.user,
        client=client,
        payload={**_audit_payload(key), "previous": current},
    )
    replace_entry(key)  # last: nothing after it can roll the change back but the commit
    return key


@transaction.atomic
def api_key_revoke(*, actor: Actor, key_id: uuid.UUID, client: ClientInfo) -> ApiKey:
    """Revoke a key; it is refused from the next request on. ``404 not_found`` for a key
    the actor may not see (another user's, to a user); revoking a revoked key changes
    nothing (no second event or email) and returns it."""
    key = _locked_key(actor, key_id)
    access.check_api_key_revocation(actor, key.user)
    if key.revoked_at is not None:
        return key
    key.revoked_at = timezone.now()
    key.revoked_by = person(actor)
    key.save(update_fields=["revoked_at", "revoked_by"])
    mark_keys_revoked([key.prefix])
    audit_record(
        kind=AuditKind.API_KEY_REVOKED,
        actor=person(actor),
        target=key.user,
        client=client,
        payload=_audit_payload(key),
    )
    if key.user is not None:
        send_account_email(
            template_prefix=API_KEY_REVOKED_EMAIL, user=key.user, context={"key": key}
        )
    return key


def api_keys_erase(*, user: User) -> None:
    """Delete ``user``'s keys, refused from the next request on, and forget them as
    creator or revoker of other keys (``user_delete``'s erasure, in its transaction)."""
    prefixes = list(
        ApiKey.objects.filter(user_id=user.pk).values_list("prefix", flat=True)
    )
    mark_keys_revoked(prefixes)
    ApiKey.objects.filter(user_id=user.pk).delete()
    ApiKey.objects.filter(created_by_id=user.pk).update(created_by=None)
    ApiKey.objects.filter(revoked_by_id=user.pk).update(revoked_by=None)


def api_key_rejection_record(
    *, key_id: str, prefix: str, owner_id: str | None, client: ClientInfo
) -> None:
    """Audit a request that came with a real key's prefix and a wrong secret: someone
    holds part of a key, or is guessing. The secret presented is never recorded."""
    audit_record(
        kind=AuditKind.API_KEY_REJECTED,
        target=User(pk=owner_id) if owner_id else None,
        client=client,
        payload={"key_id": key_id, "prefix": prefix},
    )


def api_key_use_record(*, key_id: str, ip: str | None) -> None:
    """Note when and from where a key was last used (the caller writes at most once a
    minute per key): one ``UPDATE``, no read."""
    ApiKey.objects.filter(pk=key_id).update(
        last_used_at=timezone.now(), last_used_ip=ip
    )
