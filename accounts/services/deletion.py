"""Deleting an account: personal data erased, the row kept as an anonymous shell."""

from __future__ import annotations

import uuid

from django.db import transaction

from accounts.access import Action, check
from accounts.constants import AuditKind, RevokeReason
from accounts.emails import send_account_email
from accounts.models import User
from accounts.services.audit import audit_record
from accounts.services.reauthentication import audits_wrong_password, reauthenticate
from accounts.services.sessions import sessions_revoke_all
from accounts.user_data import user_data_registry
from config.client import ClientInfo
from config.error_codes import ApplicationError

ACCOUNT_DELETED_EMAIL = "account/email/account_deleted"


@transaction.atomic
def user_delete(*, user_id: uuid.UUID, actor: User, client: ClientInfo) -> None:
    """Erase an account's personal data and end every way into it.

    The row stays, anonymised, so that audit events keep pointing at one (now anonymous)
    account; the username and email are free again at once. Every session is revoked
    (tokens refused from the next request), every model's data goes as its entry in
    ``accounts.user_data`` declares (other apps' too), and the owner is told at the
    address the account had. ``actor`` is the user themselves or a staff member handling
    a data-subject request, whom ``accounts.access`` must allow to erase the account.
    """
    user = User.objects.select_for_update().get(pk=user_id)
    by_staff = actor.pk != user.pk
    if by_staff:
        check(actor, Action.ERASE, user)
    if not user.is_active and user.username.startswith("deleted_"):
        raise ApplicationError("not_found", "No such account.")

    send_account_email(
        template_prefix=ACCOUNT_DELETED_EMAIL, user=user, context={"by_staff": by_staff}
    )
    sessions_revoke_all(
        user=user, reason=RevokeReason.ACCOUNT_DELETED, client=client, audit=False
    )
    # What every model declared in accounts.user_data: rows deleted or anonymised, other
    # apps' data first, the account row itself (anonymised) last.
    user_data_registry.erase(user)
    audit_record(
        kind=AuditKind.USER_DELETED,
        client=client if by_staff else ClientInfo(ip=None, user_agent=""),
        actor=actor if by_staff else None,
        target=user,
        payload={"by_staff": by_staff},
    )


@audits_wrong_password
def user_delete_own(*, actor: User, password: str, client: ClientInfo) -> None:
    """The actor deletes their own account, confirmed with their password."""
    user = User.objects.get(pk=actor.pk)
    reauthenticate(
        actor=actor,
        user=user,
        password=password,
        client=client,
        action="account_deletion",
    )
    user_delete(user_id=user.pk, actor=user, client=client)
