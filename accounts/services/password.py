"""Password change and reset. Both end other sessions and tell the owner by email.

allauth's mail reads the current request (for the notification's address and user agent)
from ``allauth.core.context``, which its middleware sets around every view; without one (a
command, a job) the mail leaves those out.
"""

from __future__ import annotations

import uuid

from allauth.account.adapter import get_adapter
from allauth.account.utils import url_str_to_user_pk, user_pk_to_url_str
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.access import Action, target_for
from accounts.constants import AuditKind, RevokeReason
from accounts.models import PasswordHistory, User
from accounts.selectors import user_by_email
from accounts.services.audit import audit_record
from accounts.services.reauthentication import audits_wrong_password, reauthenticate
from accounts.services.sessions import sessions_revoke_all
from config.client import ClientInfo
from config.error_codes import ApplicationError


def _set_password(user: User, field: str, password: str) -> None:
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise ValidationError({field: error.error_list}) from None
    user.set_password(password)
    user.save(update_fields=["password"])
    password_history_record(user=user, encoded_password=user.password)


@audits_wrong_password
def password_change(
    *,
    actor: User,
    current_password: str,
    new_password: str,
    current_session_id: uuid.UUID,
    client: ClientInfo,
) -> None:
    """The actor changes their password knowing the current one; every *other* session
    ends."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=actor.pk)
        reauthenticate(
            actor=actor,
            user=user,
            password=current_password,
            client=client,
            action="password_change",
            field="current_password",
        )
        _set_password(user, "new_password", new_password)
        _password_changed(
            user=user, actor=user, client=client, keep_session_id=current_session_id
        )


def _password_changed(
    *,
    user: User,
    actor: User,
    client: ClientInfo,
    keep_session_id: uuid.UUID | None = None,
    payload: dict[str, bool] | None = None,
) -> None:
    """What follows any password change: the other sessions end, it is audited and the
    owner is told by email."""
    sessions_revoke_all(
        user=user,
        reason=RevokeReason.PASSWORD_CHANGED,
        client=client,
        keep_session_id=keep_session_id,
        audit=False,
    )
    audit_record(
        kind=AuditKind.PASSWORD_CHANGED,
        client=client,
        actor=actor,
        target=user,
        payload=payload,
    )
    get_adapter().send_notification_mail("account/email/password_changed", user)


def password_set_by_staff(
    *,
    actor: User,
    user_id: uuid.UUID,
    new_password: str | None,
    client: ClientInfo,
) -> User:
    """The admin's password page: a staff member sets an account's password, or turns
    password sign-in off (``new_password=None``), without knowing the current one.

    On someone else's account it needs ``set_password`` (``accounts.access``), asserted on
    the locked row. Either way it is a password change like any other: the policy and the
    history apply, every API session of the account ends (a staff member's own admin
    session is kept by the admin), the change is audited with the staff member as actor,
    and the owner is told by email.
    """
    with transaction.atomic():
        if actor.pk == user_id:
            user = User.objects.select_for_update().get(pk=user_id)
        else:
            user = target_for(actor, Action.SET_PASSWORD, user_id, for_update=True)
        if new_password is None:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        else:
            _set_password(user, "password1", new_password)
        _password_changed(
            user=user,
            actor=actor,
            client=client,
            payload={
                "by_staff": actor.pk != user.pk,
                "usable": new_password is not None,
            },
        )
    return user


def password_reset_token(user: User) -> str:
    """``<user id>-<Django reset token>``: opaque to clients; dies once the password changes
    (the token hashes the current password) or after ``PASSWORD_RESET_TIMEOUT``."""
    return f"{user_pk_to_url_str(user)}-{default_token_generator.make_token(user)}"


def password_reset_request(*, email: str, client: ClientInfo) -> None:
    """Email a reset link if ``email`` belongs to an active account; the caller answers 202
    either way."""
    user = user_by_email(email)
    if user is None or not user.is_active:
        return
    adapter = get_adapter()
    with transaction.atomic():
        audit_record(
            kind=AuditKind.PASSWORD_RESET_REQUESTED, client=client, target=user
        )
        url = adapter.get_reset_password_from_key_url(password_reset_token(user))
        adapter.send_password_reset_mail(
            user,
            user.email,
            {"user": user, "password_reset_url": url},
        )


def _invalid_token() -> ApplicationError:
    return ApplicationError(
        "invalid_token", "This password reset link is invalid, expired or already used."
    )


def password_reset_confirm(
    *, token: str, new_password: str, client: ClientInfo
) -> None:
    """Set a new password from an emailed token; every session ends."""
    user_part, _, django_token = token.partition("-")
    # A UUID primary key raises Django's ValidationError, an integer one ValueError.
    try:
        user_id = url_str_to_user_pk(user_part)
    except (ValidationError, ValueError, TypeError):
        raise _invalid_token() from None
    with transaction.atomic():
        user = (
            User.objects.select_for_update().filter(pk=user_id, is_active=True).first()
        )
        if user is None or not default_token_generator.check_token(user, django_token):
            raise _invalid_token()
        _set_password(user, "new_password", new_password)
        sessions_revoke_all(
            user=user, reason=RevokeReason.PASSWORD_RESET, client=client, audit=False
        )
        audit_record(
            kind=AuditKind.PASSWORD_RESET, client=client, actor=user, target=user
        )
        get_adapter().send_notification_mail("account/email/password_reset", user)


@transaction.atomic
def password_history_record(*, user: User, encoded_password: str) -> None:
    """Remember a password's hash after it was set; keep the newest ``PASSWORD_HISTORY_SIZE``.

    Call it with the new hash (``user.password`` after ``set_password``), in the same
    transaction that saves the user. With a history size of 0 nothing is kept.
    """
    size = settings.PASSWORD_HISTORY_SIZE
    if size > 0:
        PasswordHistory.objects.create(user=user, password=encoded_password)
    newest = PasswordHistory.objects.filter(user=user).order_by("-created_at", "-id")
    PasswordHistory.objects.filter(user=user).exclude(
        id__in=newest.values("id")[:size]
    ).delete()
