"""Enumerations of the accounts app: roles, audit event kinds, session revocation reasons."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Final

from django.db import models


class AuditKind(models.TextChoices):
    USER_REGISTERED = "user.registered", "Account created"
    REGISTRATION_DUPLICATE_EMAIL = (
        "user.registration_duplicate_email",
        "Someone tried to register with this email address",
    )
    EMAIL_VERIFIED = "email.verified", "Email address verified"
    LOGIN_SUCCEEDED = "login.succeeded", "Signed in"
    LOGIN_FAILED = "login.failed", "Failed sign-in attempt"
    LOGIN_LOCKED = "login.locked", "Sign-in locked after repeated failures"
    LOGOUT = "session.logout", "Signed out"
    SESSION_REVOKED = "session.revoked", "Session revoked"
    SESSIONS_REVOKED_ALL = "session.revoked_all", "Signed out everywhere"
    TOKEN_REUSE_DETECTED = "session.token_reuse", "A spent refresh token was reused"
    PASSWORD_CHANGED = "password.changed", "Password changed"
    PASSWORD_RESET_REQUESTED = "password.reset_requested", "Password reset requested"
    PASSWORD_RESET = "password.reset", "Password reset"
    PROFILE_UPDATED = "user.profile_updated", "Profile updated"
    EMAIL_CHANGE_REQUESTED = "email.change_requested", "Email address change requested"
    EMAIL_CHANGED = "email.changed", "Email address changed"
    USER_DELETED = "user.deleted", "Account deleted"
    MFA_ENABLED = "mfa.enabled", "Two-factor method turned on"
    MFA_DISABLED = "mfa.disabled", "Two-factor method turned off"
    MFA_RECOVERY_CODES_REGENERATED = "mfa.recovery_codes", "New recovery codes created"
    MFA_FAILED = "login.mfa_failed", "Wrong two-factor code at sign-in"
    USER_BANNED = "user.banned", "Banned"
    USER_UNBANNED = "user.unbanned", "Ban lifted"
    USER_BAN_KEPT = (
        "user.ban_kept",
        "Shorter ban not placed: a longer one is in force",
    )
    ROLES_CHANGED = "user.roles_changed", "Roles changed"
    USER_DEACTIVATED = "user.deactivated", "Account deactivated"
    USER_REACTIVATED = "user.reactivated", "Account reactivated"
    PASSWORD_CONFIRMATION_FAILED = (
        "password.confirmation_failed",
        "Wrong password when confirming a sensitive change",
    )
    API_KEY_CREATED = "apikey.created", "API key created"
    API_KEY_REVOKED = "apikey.revoked", "API key revoked"
    API_KEY_REJECTED = (
        "apikey.rejected",
        "An API key was presented with a wrong secret",
    )
    API_KEY_QUOTA_CHANGED = "apikey.quota_changed", "API key quota changed"
    FLAG_CREATED = "flag.created", "Feature flag created"
    FLAG_CHANGED = "flag.changed", "Feature flag changed"
    FLAG_DELETED = "flag.deleted", "Feature flag deleted"
    FILE_UPLOADED = "file.uploaded", "File uploaded"
    FILE_DELETED = "file.deleted", "File deleted"
    FILE_SHARED = "file.shared", "File shared"
    FILE_UNSHARED = "file.unshared", "File no longer shared"
    AVATAR_CHANGED = "avatar.changed", "Avatar changed"
    AVATAR_REMOVED = "avatar.removed", "Avatar removed"
    # Issue 17: a client address barred (``limits``: automatically, or by staff).
    ADDRESS_BANNED = "address.banned", "Address banned"
    ADDRESS_UNBANNED = "address.unbanned", "Address ban lifted"


# The reason of every automatic ban (``limits.services``): of an account, through
# ``user_ban`` by the system, or of an anonymous client's address. Here, so that the
# accounts admin can find automatic bans without importing ``limits``.
AUTO_BAN_REASON: Final = "automatic: rate limit abuse"


class MfaMethod(models.TextChoices):
    TOTP = "totp", "Authenticator app"
    EMAIL = "email", "Code by email"
    RECOVERY_CODE = "recovery_code", "Recovery code"


class RevokeReason(models.TextChoices):
    LOGOUT = "logout", "Signed out"
    LOGOUT_ALL = "logout_all", "Signed out everywhere"
    REVOKED = "revoked", "Revoked by the user"
    TOKEN_REUSE = "token_reuse", "Refresh token reuse detected"
    PASSWORD_CHANGED = "password_changed", "Password changed"
    PASSWORD_RESET = "password_reset", "Password reset"
    ACCOUNT_DEACTIVATED = "account_deactivated", "Account deactivated"
    ACCOUNT_DELETED = "account_deleted", "Account deleted"
    MFA_DISABLED = "mfa_disabled", "Two-factor authentication turned off"
    BANNED = "banned", "Account banned"
    SESSION_LIMIT = "session_limit", "Session limit reached"


class Role(StrEnum):
    USER = "user"
    TESTER = "tester"
    MODERATOR = "moderator"
    ADMIN = "admin"
    SUPERADMIN = "superadmin"


ROLE_ORDER = list(Role)
RANK = {role: rank for rank, role in enumerate(ROLE_ORDER)}


def roles_of(group_names: Iterable[str], *, is_superuser: bool) -> list[str]:
    """The user's roles, lowest first, from its group names."""
    names = set(group_names)
    if is_superuser:
        names.add(Role.SUPERADMIN)
    return [role.value for role in ROLE_ORDER if role.value in names]


# How a session was signed in to (RFC 8176 "amr" values), recorded on the session and
# carried by its tokens. Every second factor (authenticator app, emailed code, recovery
# code) is a one-time code, so all of them read "otp".
AMR_PASSWORD: Final = ("pwd",)
AMR_PASSWORD_AND_SECOND_FACTOR: Final = ("pwd", "otp", "mfa")
AMR_MULTI_FACTOR: Final = "mfa"
# The API key scope that carries its (staff) owner's powers (``apikeys.scopes.Scope``).
API_KEY_ADMIN_SCOPE: Final = "admin"
