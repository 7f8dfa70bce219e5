"""Password login: lockout, constant-time failures, session creation."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from rest_framework.request import Request

from accounts.constants import AuditKind
from accounts.emails import send_account_email
from accounts.models import AuthSession, User, normalize_email, normalize_username
from accounts.selectors import ban_in_force, iso_timestamp, mfa_methods, user_by_login
from accounts.services.audit import audit_record
from accounts.services.sessions import session_create
from accounts.session_state import forget_user
from accounts.tokens import TokenPair, issue_mfa_token
from config.client import ClientInfo
from config.errors import ApplicationError
from config.ratelimits import raise_rate_limited, rate_limit_usage


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
        return f"user:{user.pk}"
    login = login.strip()
    return (
        f"login:{normalize_email(login) if '@' in login else normalize_username(login)}"
    )


def _invalid_credentials() -> ApplicationError:
    return ApplicationError(
        "invalid_credentials", "The login or password is incorrect."
    )


def record_login_failure(
    request: HttpRequest | Request, *, key: str, user: User | None, client: ClientInfo
) -> None:
    account = rate_limit_usage(
        request, "login_failures_per_account", key=key, increment=True
    )
    rate_limit_usage(request, "login_failures_per_ip", key="ip", increment=True)
    with transaction.atomic():
        audit_record(kind=AuditKind.LOGIN_FAILED, client=client, target=user)
        if account is not None and account.count == account.limit:
            # The failure that locks the account: tell its owner, once per lockout.
            audit_record(kind=AuditKind.LOGIN_LOCKED, client=client, target=user)
            if user is not None:
                send_account_email(
                    template_prefix="account/email/login_locked",
                    user=user,
                    context={
                        "attempts": account.limit,
                        "minutes": settings.LOGIN_LOCKOUT_MINUTES,
                        "ip": client.ip,
                    },
                )


def check_not_locked(request: HttpRequest | Request, key: str) -> None:
    for name, limit_key in (
        ("login_failures_per_account", key),
        ("login_failures_per_ip", "ip"),
    ):
        usage = rate_limit_usage(request, name, key=limit_key, increment=False)
        if usage is not None and usage.is_reached:
            raise_rate_limited(usage)


def user_login(
    *, request: HttpRequest | Request, login: str, password: str
) -> LoginResult:
    """Check a login name (username or email) and password and open a session.

    Known and unknown accounts cost the same: one password-hash verification either way,
    the same counters, the same audit write, the same answer.
    """
    client = ClientInfo.from_request(request)
    user = user_by_login(login)
    key = lockout_key(login, user)
    check_not_locked(request, key)

    if user is None:
        check_password(password, _dummy_password_hash())
        record_login_failure(request, key=key, user=None, client=client)
        raise _invalid_credentials()
    if not user.check_password(password):  # re-hashes an outdated hash on success
        record_login_failure(request, key=key, user=user, client=client)
        raise _invalid_credentials()

    # Only now, with the right password, may the answer say anything about the account.
    if not user.is_active:
        raise ApplicationError("account_inactive", "This account is deactivated.")
    raise_if_banned(user)
    if (
        settings.ACCOUNT_EMAIL_VERIFICATION == "mandatory"
        and not user.profile_email_verified  # annotated by user_by_login
    ):
        raise ApplicationError(
            "email_not_verified",
            "Verify your email address first: follow the link we sent you.",
        )
    challenge = mfa_challenge(user)
    if challenge is not None:
        return challenge  # no session and no tokens until the second factor
    return login_complete(user=user, client=client)


@transaction.atomic
def login_complete(*, user: User, client: ClientInfo) -> LoginResult:
    """Open a session for a user whose credentials were checked."""
    session, tokens = session_create(user=user, client=client)
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
        extra={"banned_until": iso_timestamp(ban.until)},
    )
