"""JSON Web Tokens (simplejwt) bound to an :class:`~accounts.models.AuthSession`.

Every token carries ``sub`` (the user id) and ``sid`` (the session id). simplejwt checks the
signature with the one configured algorithm (``alg: none`` and other algorithms are
refused), the expiry and the ``token_type`` claim, so an access token is never accepted
where a refresh token is expected, and the reverse.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.models import AuthSession
from config.errors import ApplicationError

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
        token = RefreshToken(raw)
        return RefreshClaims(
            session_id=uuid.UUID(str(token[SESSION_CLAIM])),
            user_id=uuid.UUID(str(token[api_settings.USER_ID_CLAIM])),
            jti=str(token[api_settings.JTI_CLAIM]),
        )
    except (TokenError, KeyError, ValueError):
        raise ApplicationError(
            "token_invalid", "The refresh token is invalid or expired.", status=401
        ) from None
