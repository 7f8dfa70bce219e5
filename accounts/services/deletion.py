"""Deleting an account: personal data erased, the row kept as an anonymous shell."""

from __future__ import annotations

import uuid

from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django_otp.plugins.otp_email.models import EmailDevice

from accounts.constants import AuditKind, RevokeReason
from accounts.emails import send_account_email
from accounts.erasure import registered_erasers
from accounts.models import (
    AuditEvent,
    AuthSession,
    PasswordHistory,
    RecoveryCodeSet,
    TOTPAuthenticator,
    User,
)
from accounts.services.audit import audit_record
from accounts.services.sessions import sessions_revoke_all
from config.client import ClientInfo
from config.errors import ApplicationError

ACCOUNT_DELETED_EMAIL = "account/email/account_deleted"


@transaction.atomic
def user_delete(*, user_id: uuid.UUID, actor: User, client: ClientInfo) -> None:
    """Erase an account's personal data and end every way into it.

    The row stays, anonymised, so that audit events keep pointing at one (now anonymous)
    account; the username and email are free again at once. Every session is revoked
    (tokens refused from the next request), other apps' data goes through the registered
    erasers, and the owner is told at the address the account had. ``actor`` is the user
    themselves or a staff member handling a data-subject request.
    """
    user = User.objects.select_for_update().get(pk=user_id)
    if not user.is_active and user.username.startswith("deleted_"):
        raise ApplicationError("not_found", "No such account.")
    by_staff = actor.pk != user.pk

    send_account_email(
        template_prefix=ACCOUNT_DELETED_EMAIL, user=user, context={"by_staff": by_staff}
    )
    sessions_revoke_all(
        user=user, reason=RevokeReason.ACCOUNT_DELETED, client=client, audit=False
    )
    AuthSession.objects.filter(user=user).delete()
    for eraser in registered_erasers().values():
        eraser(user)
    EmailAddress.objects.filter(user=user).delete()
    PasswordHistory.objects.filter(user=user).delete()
    TOTPAuthenticator.objects.filter(user=user).delete()
    EmailDevice.objects.filter(user=user).delete()
    RecoveryCodeSet.objects.filter(user=user).delete()
    # The timeline keeps its events, but not where they came from or what they named.
    AuditEvent.objects.filter(Q(target=user) | Q(actor=user)).update(
        ip=None, user_agent="", payload={}
    )
    user.groups.clear()
    user.user_permissions.clear()

    anonymous = uuid.uuid4().hex
    user.username = f"deleted_{anonymous[:24]}"
    user.email = f"deleted-{anonymous}@deleted.invalid"
    for field in ("first_name", "last_name", "bio", "phone"):
        setattr(user, field, "")
    user.display_name = "Deleted user"
    user.is_active = user.is_staff = user.is_superuser = False
    user.set_unusable_password()
    user.save()
    audit_record(
        kind=AuditKind.USER_DELETED,
        client=client if by_staff else ClientInfo(ip=None, user_agent=""),
        actor=actor if by_staff else None,
        target=user,
        payload={"by_staff": by_staff},
    )


def user_delete_own(*, actor: User, password: str, client: ClientInfo) -> None:
    """The actor deletes their own account, confirmed with their password."""
    user = User.objects.get(pk=actor.pk)
    if not user.check_password(password):
        raise ValidationError({"password": ["The password is incorrect."]})
    user_delete(user_id=user.pk, actor=user, client=client)
