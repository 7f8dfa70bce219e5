"""Writes of API keys: make one, revoke one, revoke every key of a user.

Who may do which goes through ``accounts.access`` (the API, the admin and ``manage.py``
ask the same table); every creation and revocation is audited and emailed to the owner
(a global key has none: the audit event is the record).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts import access
from accounts.access import Actor, person
from accounts.constants import AuditKind
from accounts.emails import send_account_email
from accounts.models import User
from accounts.roles import is_staff_member
from accounts.services.audit import audit_record
from apikeys.keys import generate_key, secret_digest
from apikeys.models import ApiKey
from apikeys.scopes import DEFAULT_SCOPES, Scope
from apikeys.state import forget_unknown, mark_keys_revoked
from config.client import ClientInfo
from config.error_codes import ApplicationError

API_KEY_CREATED_EMAIL = "account/email/apikey_created"
API_KEY_REVOKED_EMAIL = "account/email/apikey_revoked"
NAME_MAX_LENGTH = 100


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


def _audit_payload(key: ApiKey) -> dict[str, object]:
    return {
        "key_id": str(key.pk),
        "prefix": key.prefix,
        "name": key.name,
        "scopes": key.scopes,
        "global": key.is_global,
        "expires_at": key.expires_at.isoformat() if key.expires_at else None,
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
) -> tuple[ApiKey, str]:
    """Make a key for ``owner_id`` (``None``: a global service key) and return it with
    the full key, the only time it exists outside the client."""
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
    full_key, prefix, secret = generate_key()
    key = ApiKey.objects.create(
        user=owner,
        name=name,
        prefix=prefix,
        secret_hash=secret_digest(secret),
        scopes=granted,
        expires_at=expires_at,
        created_by=person(actor),
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


@transaction.atomic
def api_key_revoke(*, actor: Actor, key_id: uuid.UUID, client: ClientInfo) -> ApiKey:
    """Revoke a key; it is refused from the next request on. ``404 not_found`` for a key
    the actor may not see (another user's, to a user); revoking a revoked key changes
    nothing (no second event or email) and returns it."""
    # Lock the key's row only: PostgreSQL refuses FOR UPDATE on the nullable side of the
    # outer join to its owner (a global key has none).
    key = (
        ApiKey.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(pk=key_id)
        .first()
    )
    if key is None or not access.may_see_api_keys_of(actor, key.user):
        raise ApplicationError("not_found", "No such API key.")
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
