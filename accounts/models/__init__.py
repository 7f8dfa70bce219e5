"""The accounts app's models, one module per concept; import them from here.

``from accounts.models import User`` is the one way in: migrations name
``accounts.models.UserManager``, and the modules below may change without callers noticing.
Models hold data and constraints only: no mail, no cache, no service call (see
docs/architecture.md).
"""

from accounts.models.audit import STAFF_ACTION, AuditEvent
from accounts.models.bans import Ban, BanQuerySet
from accounts.models.blocks import BLOCKED_FROM_PROFILE, ProfilePermission
from accounts.models.mfa import (
    EmailCodeDevice,
    RecoveryCode,
    RecoveryCodeSet,
    TOTPAuthenticator,
)
from accounts.models.password_history import PasswordHistory
from accounts.models.sessions import AuthSession
from accounts.models.users import (
    INVALID_EMAIL_MESSAGE,
    InvalidEmailAddress,
    SessionUser,
    User,
    UserManager,
    canonical_email,
    login_lookup,
    normalize_email,
    normalize_username,
)

__all__ = [
    "BLOCKED_FROM_PROFILE",
    "INVALID_EMAIL_MESSAGE",
    "STAFF_ACTION",
    "AuditEvent",
    "AuthSession",
    "Ban",
    "BanQuerySet",
    "EmailCodeDevice",
    "InvalidEmailAddress",
    "PasswordHistory",
    "ProfilePermission",
    "RecoveryCode",
    "RecoveryCodeSet",
    "SessionUser",
    "TOTPAuthenticator",
    "User",
    "UserManager",
    "canonical_email",
    "login_lookup",
    "normalize_email",
    "normalize_username",
]
