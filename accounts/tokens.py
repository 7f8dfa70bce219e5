"""JSON Web Tokens (simplejwt) bound to an :class:`~accounts.models.AuthSession`.

Every token carries ``sub`` (the user id) and ``sid`` (the session id); access and refresh
tokens also carry how the session was signed in to: ``amr`` (RFC 8176 method values) and
``auth_time`` (epoch seconds), so refreshing keeps them without a query. simplejwt checks the
signature with the one configured algorithm (``alg: none`` and other algorithms are
refused), the expiry and the ``token_type`` claim, so an access token is never accepted
where a refresh token is expected, and the reverse.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from rest_framework_simplejwt import tokens as simplejwt_tokens
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import (
    TokenBackendError,
    TokenBackendExpiredToken,
    TokenError,
)
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token

from accounts.models import AuthSession, User
from config.error_codes import ApplicationError

SESSION_CLAIM = "sid"
AMR_CLAIM = "amr"
AUTH_TIME_CLAIM = "auth_time"


class RotatingTokenBackend(TokenBackend):
    """simplejwt's backend, which signs with ``SIGNING_KEY`` and, unlike simplejwt's,
    also accepts a signature by one of ``JWT_SIGNING_KEY_FALLBACKS`` (the previous
    ``SECRET_KEY``s while ``JWT_SIGNING_KEY`` is unset). So a new key does not sign every
    client out: tokens signed before keep working until they expire, and refreshing
    gives tokens signed with the new key. An expired token stays expired."""

    def decode(self, token: Token, verify: bool = True) -> dict[str, Any]:
        try:
            return super().decode(token, verify)
        except TokenBackendExpiredToken:
            raise
        except TokenBackendError:
            for key in settings.JWT_SIGNING_KEY_FALLBACKS:
                previous = TokenBackend(
                    self.algorithm,
                    key,
                    audience=self.audience,
                    issuer=self.issuer,
                    leeway=self.leeway,
                )
                try:
                    return previous.decode(token, verify)
                except TokenBackendExpiredToken:
                    raise
                except TokenBackendError:
                    continue
            raise


TOKEN_BACKEND = RotatingTokenBackend(
    api_settings.ALGORITHM,
    api_settings.SIGNING_KEY,
    api_settings.VERIFYING_KEY,
    api_settings.AUDIENCE,
    api_settings.ISSUER,
    api_settings.JWK_URL,
    api_settings.LEEWAY,
    api_settings.JSON_ENCODER,
)


class AccessToken(simplejwt_tokens.AccessToken):
    """simplejwt's access token, verified with :data:`TOKEN_BACKEND`."""

    _token_backend = TOKEN_BACKEND


class RefreshToken(simplejwt_tokens.RefreshToken):
    """simplejwt's refresh token, verified with :data:`TOKEN_BACKEND`."""

    _token_backend = TOKEN_BACKEND


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


def new_refresh_jti() -> str:
    return uuid.uuid4().hex


def issue_token_pair(session: AuthSession) -> TokenPair:
    """An access token and the session's current refresh token (``session.refresh_jti``),
    both saying how the session was signed in to (``session.amr``, ``session.auth_time``)."""
    auth_time = int(session.auth_time.timestamp())
    refresh = RefreshToken()
    refresh[api_settings.JTI_CLAIM] = session.refresh_jti
    access = AccessToken()
    for token in (refresh, access):
        token[api_settings.USER_ID_CLAIM] = str(session.user_id)
        token[SESSION_CLAIM] = str(session.pk)
        token[AMR_CLAIM] = list(session.amr)
        token[AUTH_TIME_CLAIM] = auth_time
    return TokenPair(access=str(access), refresh=str(refresh))


def claimed_amr(claims: Mapping[str, Any]) -> tuple[str, ...]:
    """The ``amr`` of a verified token's claims; none for a token issued before the claim
    existed (or malformed), which then proves nothing."""
    amr = claims.get(AMR_CLAIM)
    if not isinstance(amr, list):
        return ()
    return tuple(str(method) for method in amr)


def claimed_auth_time(claims: Mapping[str, Any]) -> int:
    """The ``auth_time`` of a verified token's claims; 0 (long ago) when it has none."""
    auth_time = claims.get(AUTH_TIME_CLAIM)
    return auth_time if isinstance(auth_time, int) else 0


@dataclass(frozen=True)
class RefreshClaims:
    session_id: uuid.UUID
    user_id: uuid.UUID
    jti: str
    amr: tuple[str, ...]
    auth_time: int


def read_refresh_token(raw: str) -> RefreshClaims:
    """The claims of a well-signed, unexpired refresh token; 401 ``token_invalid`` if not."""
    try:
        # simplejwt annotates the argument as a Token; it takes the encoded token.
        token = RefreshToken(raw)  # type: ignore[arg-type]
        return RefreshClaims(
            session_id=uuid.UUID(str(token[SESSION_CLAIM])),
            user_id=uuid.UUID(str(token[api_settings.USER_ID_CLAIM])),
            jti=str(token[api_settings.JTI_CLAIM]),
            amr=claimed_amr(token.payload),
            auth_time=claimed_auth_time(token.payload),
        )
    except (TokenError, KeyError, ValueError):
        raise ApplicationError(
            "token_invalid", "The refresh token is invalid or expired."
        ) from None


class MfaToken(Token):
    """Proof that the password was right, good only for ``login/mfa/``: its own
    ``token_type``, so it is refused as an access or refresh token."""

    token_type = "mfa"  # noqa: S105 (a claim value, not a secret)
    _token_backend = TOKEN_BACKEND

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
