"""JSON Web Tokens (simplejwt) bound to an :class:`~accounts.models.AuthSession`.

Every token carries ``sub`` (the user id) and ``sid`` (the session id). simplejwt checks the
signature with the one configured algorithm (``alg: none`` and other algorithms are
refused), the expiry and the ``token_type`` claim, so an access token is never accepted
where a refresh token is expected, and the reverse.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken, Token

from accounts.models import AuthSession, User
from config.error_codes import ApplicationError

SESSION_CLAIM = "sid"


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


def new_refresh_jti() -> str:
    return uuid.uuid4().hex


def issue_token_pair(session: AuthSession) -> TokenPair:
    """An access token and the session's current refresh token (``session.refresh_jti``)."""
    refresh = RefreshToken()
    refresh[api_settings.JTI_CLAIM] = session.refresh_jti
    refresh[api_settings.USER_ID_CLAIM] = str(session.user_id)
    refresh[SESSION_CLAIM] = str(session.pk)
    access = AccessToken()
    access[api_settings.USER_ID_CLAIM] = str(session.user_id)
    access[SESSION_CLAIM] = str(session.pk)
    return TokenPair(access=str(access), refresh=str(refresh))


@dataclass(frozen=True)
class RefreshClaims:
    session_id: uuid.UUID
    user_id: uuid.UUID
    jti: str


def read_refresh_token(raw: str) -> RefreshClaims:
    """The claims of a well-signed, unexpired refresh token; 401 ``token_invalid`` if not."""
    try:
        # simplejwt annotates the argument as a Token; it takes the encoded token.
        token = RefreshToken(raw)  # type: ignore[arg-type]
        return RefreshClaims(
            session_id=uuid.UUID(str(token[SESSION_CLAIM])),
            user_id=uuid.UUID(str(token[api_settings.USER_ID_CLAIM])),
            jti=str(token[api_settings.JTI_CLAIM]),
        )
    except (TokenError, KeyError, ValueError):
        raise ApplicationError(
            "token_invalid", "The refresh token is invalid or expired."
        ) from None


class MfaToken(Token):
    """Proof that the password was right, good only for ``login/mfa/``: its own
    ``token_type``, so it is refused as an access or refresh token."""

    token_type = "mfa"  # noqa: S105 (a claim value, not a secret)

    # simplejwt declares lifetime a class attribute; a property reads the setting when used.
    @property
    def lifetime(self) -> timedelta:  # type: ignore[override]
        return timedelta(seconds=settings.MFA_TOKEN_LIFETIME)


@dataclass(frozen=True)
class MfaClaims:
    user_id: uuid.UUID
    jti: str


def issue_mfa_token(user: User) -> str:
    token = MfaToken()
    token[api_settings.USER_ID_CLAIM] = str(user.pk)
    return str(token)


def read_mfa_token(raw: str) -> MfaClaims:
    try:
        token = MfaToken(raw)  # type: ignore[arg-type]  # as in read_refresh_token
        return MfaClaims(
            user_id=uuid.UUID(str(token[api_settings.USER_ID_CLAIM])),
            jti=str(token[api_settings.JTI_CLAIM]),
        )
    except (TokenError, KeyError, ValueError):
        raise ApplicationError(
            "token_invalid", "This sign-in attempt expired. Sign in again."
        ) from None
