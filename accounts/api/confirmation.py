"""Wrong current passwords, limited per account across every endpoint that asks for one.

Whoever holds a stolen access token must not get to guess the account's password through
the changes confirmed with it (password change, ``DELETE me/``, factors, recovery codes,
email change). Each endpoint's own limit counts all its attempts; this one counts the
wrong passwords of all of them together (``password_confirmation_failures_per_user`` in
``settings.RATE_LIMITS``): read before the password is checked, counted when it was
wrong, ``429 rate_limited`` once reached, whatever the password.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from accounts.authentication import AuthenticatedRequest
from accounts.services.reauthentication import WrongPassword
from config.ratelimits import raise_rate_limited, rate_limit_usage

LIMIT = "password_confirmation_failures_per_user"


@contextmanager
def wrong_passwords_limited(request: AuthenticatedRequest) -> Iterator[None]:
    """Around the service call that checks the caller's current password."""
    key = f"user:{request.user.pk}"
    usage = rate_limit_usage(request, LIMIT, key=key, increment=False)
    if usage is not None and usage.is_reached:
        raise_rate_limited(usage)
    try:
        yield
    except WrongPassword:
        rate_limit_usage(request, LIMIT, key=key, increment=True)
        raise
