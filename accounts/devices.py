"""Device tokens: OWASP's "device cookies" against lockouts by others.

Every successful login answers a ``device_token``, signed (``django.core.signing``, salt of
its own) over the account's id and a random nonce. A later login for that account that
presents it is counted on the device's own failure counter instead of the account's, so
that a stranger's wrong passwords, which lock the account, do not lock out its owner on a
device they have signed in from. A token that is forged, expired (``DEVICE_TOKEN_DAYS``)
or another account's is no token at all: the attempt is counted as any other, and answered
alike. Nothing is stored: the counters live in the cache under ``device:<nonce>``.

A token also carries a mark of the password it was earned with (an HMAC of the stored
hash, as Django's password reset tokens do): changing or resetting the password, the
first thing an owner does after a compromise, ends every device token issued before, so a
device that signed in with the old password is counted with everyone else again.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts.models import User

SALT = "gatehouse.accounts.device-token"


def _password_mark(password_hash: str) -> str:
    return salted_hmac(
        f"{SALT}.password", password_hash, algorithm="sha256"
    ).hexdigest()[:32]


def device_token_issue(user: User) -> str:
    """A new device token for ``user`` (a fresh nonce: a fresh counter), good while the
    password stays the one it was earned with."""
    return signing.dumps(
        {
            "user": str(user.pk),
            "device": secrets.token_urlsafe(16),
            "password": _password_mark(user.password),
        },
        salt=SALT,
    )


def device_lockout_key(token: str | None, user: User | None) -> str | None:
    """The lockout key of the device ``token`` names, if it is a valid, unexpired token
    of ``user``'s; else ``None`` (the login is counted on the account's counter)."""
    if not token:
        return None
    try:
        # Checked for unknown names too: the same work whether or not the name matched.
        payload = signing.loads(
            token, salt=SALT, max_age=settings.DEVICE_TOKEN_DAYS * 24 * 3600
        )
    except signing.BadSignature:  # forged, altered or expired
        return None
    # The mark is computed for unknown names too: the same work either way.
    mark = _password_mark(user.password if user is not None else "")
    if user is None or payload["user"] != str(user.pk):
        return None
    if not constant_time_compare(str(payload.get("password", "")), mark):
        return None  # earned with a password since changed (or before marks existed)
    return f"device:{payload['device']}"
