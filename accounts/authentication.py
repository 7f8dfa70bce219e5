"""DRF authentication by access token, refused as soon as its session is revoked."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings

from accounts.models import SessionUser
from accounts.session_state import authenticated_user
from accounts.tokens import (
    SESSION_CLAIM,
    AccessToken,
    claimed_amr,
    claimed_auth_time,
)

if TYPE_CHECKING:
    # Not at run time: drf_spectacular.openapi imports DRF's views, which import this
    # module through the DEFAULT_AUTHENTICATION_CLASSES setting.
    from drf_spectacular.openapi import AutoSchema

TokenClaims = Mapping[str, Any]


class AuthenticatedRequest(Request):
    """The request a view behind ``IsAuthenticated`` handles, as the type checker sees it:
    :class:`SessionTokenAuthentication` set ``user`` to the read-only :class:`SessionUser`
    and ``auth`` to the token's claims. An annotation only: DRF builds plain ``Request``
    objects, and these views are never reached anonymously."""

    user: SessionUser
    auth: TokenClaims


def session_id_of(request: AuthenticatedRequest) -> uuid.UUID:
    """The session of the access token that authenticated ``request``."""
    return uuid.UUID(str(request.auth[SESSION_CLAIM]))


@lru_cache(maxsize=8192)
def _verified_claims(raw_token: bytes) -> TokenClaims:
    """The claims of an access token simplejwt accepted (signature, algorithm, expiry,
    ``token_type``). A client sends the same token for its whole life, so each process
    verifies it once: PyJWT's checks cost about a third of an authenticated request.
    Refused tokens raise and are not cached; expiry is checked again on every use.

    Every request with the token gets this one object as ``request.auth``, so it is
    read-only: a request cannot change the claims another one sees. The proxy is
    shallow, which suffices: our tokens' claims are strings and numbers."""
    # simplejwt annotates the argument as a Token; it takes the encoded token (str or bytes).
    token = AccessToken(raw_token)  # type: ignore[arg-type]
    return MappingProxyType(dict(token.payload))


class SessionTokenAuthentication(JWTAuthentication):
    """``Authorization: Bearer <access token>``, header only (never a query string).

    simplejwt validates the token; instead of its per-request user query, the session and
    user are checked against the cached state of :mod:`accounts.session_state`: no query
    once warm. ``request.auth`` is the token's claims, a read-only mapping; the user's
    ``session_amr`` and ``session_auth_time`` are its ``amr`` and ``auth_time``.
    """

    def get_raw_token(self, header: bytes) -> bytes | None:
        # RFC 7235 (section 2.1): the scheme name is case-insensitive, but simplejwt
        # compares it with AUTH_HEADER_TYPES exactly, refusing "bearer" and "BEARER".
        scheme, _, credentials = header.strip().partition(b" ")
        if scheme.lower() == b"bearer":
            header = b"Bearer " + credentials
        return super().get_raw_token(header)

    # request.auth is the claims mapping, not the Token object simplejwt's class returns.
    def authenticate(  # type: ignore[override]
        self, request: Request
    ) -> tuple[SessionUser, TokenClaims] | None:
        header = self.get_header(request)
        if header is None:
            return None
        raw_token = self.get_raw_token(header)
        if raw_token is None:
            return None
        try:
            claims = _verified_claims(raw_token)
            if claims["exp"] <= time.time():
                raise TokenError("Token is expired")
            session_id = uuid.UUID(str(claims[SESSION_CLAIM]))
            user_id = uuid.UUID(str(claims[api_settings.USER_ID_CLAIM]))
        except (TokenError, KeyError, ValueError):
            raise InvalidToken("The access token is invalid or expired.") from None
        user = authenticated_user(session_id, user_id)
        if user is None:
            raise exceptions.AuthenticationFailed(
                "This session has ended. Sign in again.", code="token_invalid"
            )
        # What the session proved goes with the user into the access rules
        # (accounts.access) and the services: a fresh object each request.
        user.session_amr = claimed_amr(claims)
        user.session_auth_time = claimed_auth_time(claims)
        return user, claims


class SessionTokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """Documents the bearer token, and the OAuth2 password flow Swagger UI signs in with."""

    target_class = SessionTokenAuthentication
    name = ["bearerAuth", "oauth2"]

    def get_security_definition(self, auto_schema: AutoSchema) -> list[dict[str, Any]]:
        return [
            {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            {
                "type": "oauth2",
                "flows": {
                    "password": {"tokenUrl": "/api/v1/auth/token/", "scopes": {}}
                },
            },
        ]
