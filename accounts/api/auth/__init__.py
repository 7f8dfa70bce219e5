"""``/api/v1/auth/``: registration, verification, login, tokens, sessions, passwords."""

from accounts.api.auth.login import (
    LoginApi,
    LogoutAllApi,
    LogoutApi,
    OAuth2TokenApi,
    TokenRefreshApi,
)
from accounts.api.auth.passwords import (
    PasswordChangeApi,
    PasswordResetApi,
    PasswordResetConfirmApi,
)
from accounts.api.auth.registration import EmailResendApi, EmailVerifyApi, RegisterApi
from accounts.api.auth.sessions import SessionDetailApi, SessionListApi

__all__ = [
    "EmailResendApi",
    "EmailVerifyApi",
    "LoginApi",
    "LogoutAllApi",
    "LogoutApi",
    "OAuth2TokenApi",
    "PasswordChangeApi",
    "PasswordResetApi",
    "PasswordResetConfirmApi",
    "RegisterApi",
    "SessionDetailApi",
    "SessionListApi",
    "TokenRefreshApi",
]
