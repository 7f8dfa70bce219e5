"""Password login: constant-time failures, the lockout's audit and email, session creation.

The lockout's counters are kept by the HTTP layer, which alone knows the client (and reports
the counters in ``RateLimit-*`` headers): a view or the admin reads and counts them before
calling :func:`user_login` (``config.ratelimits.LoginFailures``) and, when it raises
:class:`InvalidCredentials`, keeps the count and calls :func:`login_failure_record`;
a success takes the count back and resets the account's
(``config.ratelimits.reset_login_failures``).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone

from accounts.constants import AMR_PASSWORD, AuditKind
from accounts.emails import send_account_email
from accounts.models import AuthSession, User, login_lookup
from accounts.selectors import ban_in_force, mfa_methods
from accounts.services.audit import audit_record
from accounts.services.sessions import session_create
from accounts.session_state import forget_user
from accounts.tokens import TokenPair, issue_mfa_token
from config.client import ClientInfo
from config.error_codes import ApplicationError

if TYPE_CHECKING:
    from accounts.selectors import ProfiledUser


@dataclass(frozen=True)
class LoginResult:
    user: User
    session: AuthSession
    tokens: TokenPair


@cache
def _dummy_password_hash() -> str:
    return make_password(secrets.token_urlsafe(32))


def lockout_key(login: str, user: User | None) -> str:
    """One counter per account whatever name it is reached by (username, email, any case);
    for names that match no account, one per normalised name, so they lock out alike."""
    if user is not None:
        return account_lockout_key(user)
    lookup = login_lookup(login)
    # An address no account can have (an invalid domain) counts under its spelling.
    return f"login:{lookup[1] if lookup else login.strip().lower()}"


def account_lockout_key(user: User) -> str:
    return f"user:{user.pk}"


class InvalidCredentials(ApplicationError):
    """A wrong password, or a login name that matches no account: one answer for both."""

    def __init__(self) -> None:
        super().__init__("invalid_credentials", "The login or password is incorrect.")


@transaction.atomic
def login_failure_record(
    *,
    user: User | None,
    client: ClientInfo,
    locked_after: int | None = None,
    from_device: bool = False,
    kind: AuditKind | None = AuditKind.LOGIN_FAILED,
    payload: Mapping[str, object] | None = None,
) -> None:
    """Audit a failed login. ``locked_after`` is set when this failure is the one that
    locks the account (the caller's counter knows: it is the limit reached); the lockout is
    then audited too and the owner, if the name matched an account, told once.

    ``from_device``: the attempt came with the account's device token (``accounts.devices``)
    and was counted on that device's counter, so a lock locks that device alone: audited,
    not emailed (whoever holds the device token has signed in before; the account and its
    other devices are unaffected).

    ``kind`` and ``payload``: how the failure itself is recorded (the admin's wrong codes
    are ``login.mfa_failed``, with ``{"via": "admin"}``); ``kind=None`` when the caller's
    service already recorded it, and only a lock is left to record."""
    if kind is not None:
        audit_record(
            kind=kind,
            client=client,
            target=user,
            payload={**(payload or {}), **({"device": True} if from_device else {})}
            or None,
        )
    if locked_after is None:
        return
    audit_record(
        kind=AuditKind.LOGIN_LOCKED,
        client=client,
        target=user,
        payload={"device": True} if from_device else None,
    )
    if user is not None and not from_device:
        send_account_email(
            template_prefix="account/email/login_locked",
            user=user,
            context={
                "attempts": locked_after,
                "minutes": settings.LOGIN_LOCKOUT_MINUTES,
                "ip": client.ip,
            },
        )


def user_login(
    *, user: ProfiledUser | None, password: str, client: ClientInfo
) -> LoginResult | MfaChallenge:
    """Check the password of the account a login name designates and open a session.

    ``user`` comes from ``selectors.user_by_login`` (``None`` when the name matches no
    account), whose annotations this reads. Known and unknown accounts cost the same: one
    password-hash verification either way and the same :class:`InvalidCredentials`, which
    the caller counts and records alike.
    """
    if user is None:
        check_password(password, _dummy_password_hash())
        raise InvalidCredentials()
    if not user.check_password(password):  # re-hashes an outdated hash on success
        raise InvalidCredentials()

    # Only now, with the right password, may the answer say anything about the account.
    if not user.is_active:
        raise ApplicationError("account_inactive", "This account is deactivated.")
    raise_if_banned(user)
    if (
        settings.ACCOUNT_EMAIL_VERIFICATION == "mandatory"
        and not user.profile_email_verified
    ):
        raise ApplicationError(
            "email_not_verified",
            "Verify your email address first: follow the link we sent you.",
        )
    challenge = mfa_challenge(user)
    if challenge is not None:
        return challenge  # no session and no tokens until the second factor
    return login_complete(user=user, client=client, amr=AMR_PASSWORD)


@transaction.atomic
def login_complete(
    *, user: User, client: ClientInfo, amr: Sequence[str]
) -> LoginResult:
    """Open a session for a user whose credentials were checked, recording how (``amr``:
    ``AMR_PASSWORD``, or ``AMR_PASSWORD_AND_SECOND_FACTOR`` after ``login/mfa/``)."""
    session, tokens = session_create(user=user, client=client, amr=amr)
    user.last_login = timezone.now()
    User.objects.filter(pk=user.pk).update(last_login=user.last_login)
    transaction.on_commit(lambda: forget_user(user.pk))  # update() sends no post_save
    audit_record(
        kind=AuditKind.LOGIN_SUCCEEDED,
        client=client,
        actor=user,
        target=user,
        payload={"session": str(session.pk)},
    )
    return LoginResult(user=user, session=session, tokens=tokens)


@dataclass(frozen=True)
class MfaChallenge:
    mfa_token: str
    methods: list[str]


def mfa_challenge(user: User) -> MfaChallenge | None:
    """For a user with a second factor, the token that ``login/mfa/`` takes; else None."""
    if not getattr(user, "profile_mfa_enabled", True):  # annotated by user_by_login
        return None
    methods = mfa_methods(user)
    if not methods:
        return None
    return MfaChallenge(mfa_token=issue_mfa_token(user), methods=methods)


def raise_if_banned(user: User) -> None:
    """``403 account_banned`` with ``banned_until`` (``None`` for a permanent ban)."""
    if not getattr(user, "profile_has_unlifted_ban", True):  # annotated: no query
        return
    ban = ban_in_force(user)
    if ban is None:
        return
    ends = f" It ends {ban.until:%Y-%m-%d %H:%M} UTC." if ban.until else ""
    raise ApplicationError(
        "account_banned",
        f"This account is banned.{ends}",
        extra={"banned_until": ban.until},  # the JSON renderer writes it as DRF would
    )
