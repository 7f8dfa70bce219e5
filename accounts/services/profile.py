"""Profile changes and email address changes."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress
from allauth.core import context as allauth_context
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.access import Action, Actor, person, target_for
from accounts.constants import AuditKind
from accounts.models import (
    INVALID_EMAIL_MESSAGE,
    InvalidEmailAddress,
    User,
    canonical_email,
)
from accounts.services.audit import audit_record
from accounts.services.reauthentication import audits_wrong_password, reauthenticate
from accounts.validators import normalize_phone, validate_display_name
from config.client import ClientInfo

PROFILE_FIELDS = frozenset(User.PROFILE_FIELDS)


def profile_changes_clean(user: User, changes: dict[str, Any]) -> dict[str, Any]:
    """``changes`` to ``user``'s profile fields, normalised (phone in E.164, display name
    stripped); raises ``ValidationError`` naming each bad field. Nothing is saved."""
    errors: dict[str, list[str]] = {}
    cleaned = dict(changes)
    if "phone" in cleaned:
        try:
            cleaned["phone"] = normalize_phone(cleaned["phone"])
        except ValidationError as error:
            errors["phone"] = error.messages
    if "display_name" in cleaned:
        cleaned["display_name"] = cleaned["display_name"].strip()
        try:
            validate_display_name(cleaned["display_name"], username=user.username)
        except ValidationError as error:
            errors["display_name"] = error.messages
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def user_profile_update(
    *, user_id: uuid.UUID, changes: dict[str, Any], client: ClientInfo
) -> User:
    """Change profile fields (and only those): phone numbers are stored in E.164, display
    names follow ``DISPLAY_NAME_FREE``, then the model's own validation runs."""
    unknown = set(changes) - PROFILE_FIELDS
    if unknown:
        raise ValidationError(
            {field: ["This field cannot be changed here."] for field in sorted(unknown)}
        )
    user = User.objects.select_for_update().get(pk=user_id)
    changes = profile_changes_apply(user, changes)
    profile_changes_save(user=user, fields=changes, actor=user, client=client)
    return user


def profile_changes_apply(user: User, changes: dict[str, Any]) -> dict[str, Any]:
    """Clean ``changes`` (``profile_changes_clean``), set them on ``user`` and run the
    model's validation of those fields; returns the cleaned changes. Nothing is saved."""
    cleaned = profile_changes_clean(user, changes)
    for field, value in cleaned.items():
        setattr(user, field, value)
    user.full_clean(
        exclude=[field.name for field in User._meta.fields if field.name not in cleaned]
    )
    return cleaned


def profile_changes_save(
    *, user: User, fields: Iterable[str], actor: User | None, client: ClientInfo
) -> None:
    """Save the applied profile ``fields`` of ``user`` and audit the change (nothing when
    there is none). Call it in the transaction that locked the row."""
    names = sorted(fields)
    if names:
        user.save(update_fields=names)
        audit_record(
            kind=AuditKind.PROFILE_UPDATED,
            client=client,
            actor=actor,
            target=user,
            payload={"fields": names},
        )


@audits_wrong_password
def email_change_request(
    *, actor: User, new_email: str, password: str, client: ClientInfo
) -> None:
    """Send a verification link to ``new_email`` for the actor's account; the address
    changes only once it is followed (``auth/email/verify/``, allauth's change-email flow),
    and the old address is then told. The caller answers 202 whether or not the new
    address is free: if another account has it, that account's owner is told instead, and
    nothing changes."""
    user = User.objects.get(pk=actor.pk)
    reauthenticate(
        actor=actor, user=user, password=password, client=client, action="email_change"
    )
    _email_change_send(
        user=user,
        new_email=new_email,
        actor=user,
        client=client,
        same_message="This is already your email address.",
    )


@transaction.atomic
def email_change_by_staff(
    *, actor: Actor, user_id: uuid.UUID, new_email: str, client: ClientInfo
) -> None:
    """Start the verified change of another account's email address, as its owner would
    (``email_change_request``), by ``accounts.access`` (``change_email``) instead of the
    owner's password: a link goes to ``new_email``, the address changes only once it is
    followed, and the old address is then told. The event names the staff member. When
    another account has the address, its owner is told and nothing changes; staff hear
    the same as when it is free."""
    user = target_for(actor, Action.CHANGE_EMAIL, user_id, for_update=True)
    _email_change_send(
        user=user,
        new_email=new_email,
        actor=person(actor),
        client=client,
        same_message="This is already the account's email address.",
    )


def _email_change_send(
    *,
    user: User,
    new_email: str,
    actor: User | None,
    client: ClientInfo,
    same_message: str,
) -> None:
    try:
        new_email = canonical_email(new_email)
    except InvalidEmailAddress:
        raise ValidationError({"new_email": [INVALID_EMAIL_MESSAGE]}) from None
    if new_email == user.email:
        raise ValidationError({"new_email": [same_message]})
    adapter = get_adapter()
    with transaction.atomic():
        audit_record(
            kind=AuditKind.EMAIL_CHANGE_REQUESTED,
            client=client,
            actor=actor,
            target=user,
            payload={"new_email": new_email},
        )
        if User.objects.filter(email=new_email).exclude(pk=user.pk).exists():
            adapter.send_account_already_exists_mail(new_email)
            return
        # One pending change at a time: a new request replaces an unconfirmed one.
        EmailAddress.objects.filter(user=user, verified=False).exclude(
            email=user.email
        ).delete()
        address = EmailAddress.objects.create(
            user=user, email=new_email, primary=False, verified=False
        )
        address.send_confirmation(allauth_context.request, signup=False)
