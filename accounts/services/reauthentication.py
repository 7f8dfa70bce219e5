"""Re-authentication: proof, again, that the person holding a session is its owner, before
a change that would let a thief keep the account (a second factor on or off, new recovery
codes, another email, another password, deletion).

Every such service confirms through :func:`reauthenticate`: the current password, or for
turning an authenticator app on, a session signed in at most ``REAUTH_WINDOW_SECONDS``
ago (its ``auth_time``). A wrong password is ``400 validation_error`` under the field's
name, and audited (``password.confirmation_failed``): the service's transaction rolls back,
so the record is written after it by :func:`audits_wrong_password`, which wraps each of
these services.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.constants import AuditKind
from accounts.models import SessionUser, User
from accounts.services.audit import audit_record
from config.client import ClientInfo

PASSWORD_AGAIN = "Enter your password again to continue."  # noqa: S105 (a message)

Parameters = ParamSpec("Parameters")
Result = TypeVar("Result")


class WrongPassword(ValidationError):
    """A wrong current password: ``400 validation_error`` under ``field``, remembering
    whose it was so that :func:`audits_wrong_password` can record it after the rollback."""

    def __init__(
        self, *, user: User, client: ClientInfo, field: str, action: str
    ) -> None:
        message = (
            "The current password is incorrect."
            if field == "current_password"
            else "The password is incorrect."
        )
        super().__init__({field: [message]})
        self.user = user
        self.client = client
        self.action = action


def signed_in_recently(actor: User) -> bool:
    """Whether the actor's session signed in (``auth_time``) within
    ``REAUTH_WINDOW_SECONDS``. A user not acting through a session never did."""
    if not isinstance(actor, SessionUser):
        return False
    return time.time() - actor.session_auth_time <= settings.REAUTH_WINDOW_SECONDS


def reauthenticate(
    *,
    actor: User,
    user: User,
    password: str | None,
    client: ClientInfo,
    action: str,
    field: str = "password",
    recent_sign_in_suffices: bool = False,
) -> None:
    """Check that the owner of ``user`` (the actor's account, loaded from the database)
    is the one acting: ``password`` must be theirs. Without one, a session that signed
    in recently suffices where ``recent_sign_in_suffices``; otherwise it is ``400``
    under ``field`` asking for the password. ``action`` names the change in the audit
    event of a wrong password."""
    if password is None:
        if recent_sign_in_suffices and signed_in_recently(actor):
            return
        raise ValidationError({field: [PASSWORD_AGAIN]})
    if not user.check_password(password):
        raise WrongPassword(user=user, client=client, field=field, action=action)


def audits_wrong_password(
    service: Callable[Parameters, Result],
) -> Callable[Parameters, Result]:
    """Wrap a service that calls :func:`reauthenticate` (outside its transaction): a
    wrong password is audited once the service's own transaction has rolled back."""

    @functools.wraps(service)
    def audited(*args: Parameters.args, **kwargs: Parameters.kwargs) -> Result:
        try:
            return service(*args, **kwargs)
        except WrongPassword as failure:
            with transaction.atomic():
                audit_record(
                    kind=AuditKind.PASSWORD_CONFIRMATION_FAILED,
                    client=failure.client,
                    actor=failure.user,
                    target=failure.user,
                    payload={"action": failure.action},
                )
            raise

    return audited
