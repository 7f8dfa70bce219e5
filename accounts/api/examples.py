"""Example bodies of the account endpoints' successful answers, for the OpenAPI schema.

Every success body in the schema has an example (tests/config/test_schema_quality.py);
the shared shapes are written once here. ``response_only`` examples without status codes
apply to 200 and 201 (drf-spectacular's default); a list view's example is one item,
which drf-spectacular wraps in a page.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample

USER_ID = "0b8f0f6e-5d1c-4a86-9a55-2b2f3c1f7e10"
ACCESS = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwYjhm…"
REFRESH = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBl…"

PROFILE: dict[str, Any] = {
    "id": USER_ID,
    "username": "ada",
    "email": "ada@example.com",
    "email_verified": True,
    "display_name": "Ada Lovelace",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "bio": "Engines.",
    "phone": "+441234567890",
    "timezone": "Europe/London",
    "language": "en",
    "avatar_url": f"https://api.example.com/api/v1/users/{USER_ID}/avatar/",
    "roles": ["user"],
    "mfa_enabled": False,
    "date_joined": "2026-01-05T09:30:00Z",
    "last_login": "2026-11-21T09:58:12Z",
}
PUBLIC_PROFILE = {
    key: PROFILE[key] for key in ("id", "username", "display_name", "avatar_url", "bio")
}
SIGNED_IN = {
    "access": ACCESS,
    "refresh": REFRESH,
    "mfa_required": False,
    "user": PROFILE,
    "device_token": "eyJ1c2VyIjoiMGI4ZjBmNmUtNWQxYy00YTg2LTlhNTUtMmIyZjNjMWY3ZTEwIiwi…",
}


def example(name: str, value: Any, *statuses: int) -> OpenApiExample:
    """A response example, for ``statuses`` (200 and 201 when none is given)."""
    return OpenApiExample(
        name,
        value=value,
        response_only=True,
        status_codes=[str(status) for status in statuses] or None,
    )


PROFILE_EXAMPLE = example("profile", PROFILE)
USER_ENVELOPE_EXAMPLE = example("user", {"user": {**PROFILE, "last_login": None}})
SIGNED_IN_EXAMPLE = example("signed in", SIGNED_IN)
MFA_CHALLENGE_EXAMPLE = example(
    "second factor required",
    {
        "mfa_required": True,
        "mfa_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJwdXJwb3Nl…",
        "methods": ["totp", "recovery_code"],
    },
)
TOKEN_PAIR_EXAMPLE = example("tokens", {"access": ACCESS, "refresh": REFRESH})
OAUTH2_TOKEN_EXAMPLE = example(
    "tokens",
    {
        "access_token": ACCESS,
        "token_type": "bearer",
        "refresh_token": REFRESH,
        "expires_in": 300,
    },
)
PUBLIC_PROFILE_EXAMPLE = example("someone else's profile", PUBLIC_PROFILE)
STAFF_USER_EXAMPLE = example(
    "account", {**PROFILE, "is_active": True, "is_banned": False}
)
BAN_EXAMPLE = example(
    "ban",
    {
        "id": "3c9a7e1d-2b4f-4e6a-9c8d-7f1e2d3c4b5a",
        "user": USER_ID,
        "reason": "Spam in the forums.",
        "created_at": "2026-11-21T10:00:00Z",
        "until": "2026-12-21T10:00:00Z",
    },
)
SESSION_EXAMPLE = example(
    "session",
    {
        "id": "5e0c8a4e-51b4-4c2f-a0c4-6f3c1e9b2d77",
        "created_at": "2026-11-21T09:58:12Z",
        "last_used_at": "2026-11-21T10:03:40Z",
        "ip": "203.0.113.5",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
        "current": True,
    },
)
MFA_STATUS_EXAMPLE = example(
    "app and recovery codes",
    {"totp": True, "email": False, "recovery_codes_remaining": 9},
)
TOTP_SETUP_EXAMPLE = example(
    "new secret",
    {
        "secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
        "otpauth_uri": "otpauth://totp/Gatehouse:ada%40example.com"
        "?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Gatehouse",
        "qr_code": "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53…",
    },
)


def accepted_example(detail: str) -> OpenApiExample:
    return example("accepted", {"detail": detail}, 202)
