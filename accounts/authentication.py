"""DRF authentication by access token, refused as soon as its session is revoked."""

from __future__ import annotations

import uuid

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token

from accounts.models import SessionUser
from accounts.session_state import authenticated_user
from accounts.tokens import SESSION_CLAIM


class SessionTokenAuthentication(JWTAuthentication):
    """``Authorization: Bearer <access token>``, header only (never a query string).

    simplejwt validates the token (signature, algorithm, expiry, ``token_type: access``);
    instead of its per-request user query, the session and user are checked against the
    cached state of :mod:`accounts.session_state`: no query once warm.
    """

    def authenticate(self, request: Request) -> tuple[SessionUser, Token] | None:
        header = self.get_header(request)
        if header is None:
            return None
        raw_token = self.get_raw_token(header)
        if raw_token is None:
            return None
        token = self.get_validated_token(raw_token)
        try:
            session_id = uuid.UUID(str(token[SESSION_CLAIM]))
            user_id = uuid.UUID(str(token[api_settings.USER_ID_CLAIM]))
        except (KeyError, ValueError):
            raise InvalidToken() from None
        user = authenticated_user(session_id, user_id)
        if user is None:
            raise exceptions.AuthenticationFailed(
                "This session has ended. Sign in again.", code="token_invalid"
            )
        return user, token


class SessionTokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """Documents the bearer token, and the OAuth2 password flow Swagger UI signs in with."""

    target_class = SessionTokenAuthentication
    name = ["bearerAuth", "oauth2"]

    def get_security_definition(self, auto_schema) -> list[dict]:
        return [
            {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            {
                "type": "oauth2",
                "flows": {
                    "password": {"tokenUrl": "/api/v1/auth/token/", "scopes": {}}
                },
            },
        ]
