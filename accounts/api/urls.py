from __future__ import annotations

from django.urls import include, path

from accounts.api import auth, data, directory, staff, users
from accounts.api.auth import mfa

auth_urlpatterns = [
    path("register/", auth.RegisterApi.as_view(), name="register"),
    path("email/verify/", auth.EmailVerifyApi.as_view(), name="email-verify"),
    path("email/resend/", auth.EmailResendApi.as_view(), name="email-resend"),
    path("login/", auth.LoginApi.as_view(), name="login"),
    path("token/", auth.OAuth2TokenApi.as_view(), name="token"),
    path("token/refresh/", auth.TokenRefreshApi.as_view(), name="token-refresh"),
    path("logout/", auth.LogoutApi.as_view(), name="logout"),
    path("logout/all/", auth.LogoutAllApi.as_view(), name="logout-all"),
    path("password/change/", auth.PasswordChangeApi.as_view(), name="password-change"),
    path("password/reset/", auth.PasswordResetApi.as_view(), name="password-reset"),
    path(
        "password/reset/confirm/",
        auth.PasswordResetConfirmApi.as_view(),
        name="password-reset-confirm",
    ),
    path("sessions/", auth.SessionListApi.as_view(), name="sessions"),
    path(
        "sessions/<uuid:session_id>/", auth.SessionDetailApi.as_view(), name="session"
    ),
    path("login/mfa/", mfa.LoginMfaApi.as_view(), name="login-mfa"),
    path("login/mfa/email/", mfa.LoginMfaEmailApi.as_view(), name="login-mfa-email"),
    path("mfa/", mfa.MfaStatusApi.as_view(), name="mfa"),
    path("mfa/totp/setup/", mfa.TotpSetupApi.as_view(), name="mfa-totp-setup"),
    path("mfa/totp/confirm/", mfa.TotpConfirmApi.as_view(), name="mfa-totp-confirm"),
    path("mfa/totp/", mfa.TotpApi.as_view(), name="mfa-totp"),
    path("mfa/email/", mfa.EmailCodesApi.as_view(), name="mfa-email"),
    path(
        "mfa/recovery-codes/", mfa.RecoveryCodesApi.as_view(), name="mfa-recovery-codes"
    ),
]

users_urlpatterns = [
    path("", directory.UserListApi.as_view(), name="user-list"),
    path("<uuid:user_id>/", directory.UserDetailApi.as_view(), name="user-detail"),
    path("<uuid:user_id>/block/", directory.UserBlockApi.as_view(), name="user-block"),
    path("<uuid:user_id>/ban/", staff.UserBanApi.as_view(), name="user-ban"),
    path("<uuid:user_id>/roles/", staff.UserRolesApi.as_view(), name="user-roles"),
    path("me/", users.MeApi.as_view(), name="me"),
    path("me/email/", users.MeEmailChangeApi.as_view(), name="me-email"),
    path("me/export/", data.MeExportApi.as_view(), name="me-export"),
    path("me/activity/", data.MeActivityApi.as_view(), name="me-activity"),
]

# Mounted under /api/v1/ by config/api_urls.py.
urlpatterns = [
    path("auth/", include((auth_urlpatterns, "auth"))),
    path("users/", include((users_urlpatterns, "users"))),
]
