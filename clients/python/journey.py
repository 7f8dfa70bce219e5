"""A Python program's journey through Gatehouse with a client generated from /api/schema/.

openapi-python-client generates the ``gatehouse_client`` package (`.ci/clients`); this script
registers, verifies the email, signs in, reads and edits the profile, makes an API key, uses
and revokes it, refreshes, lists sessions, turns an authenticator app on, signs out, signs
in again with the second factor and signs out everywhere; then reads one error of each
family through the typed ``Problem``.

Usage: ``python journey.py BASE_URL OUTBOX_DIR``. Type-checked with ``mypy --strict``
together with the generated package: no cast, no ``Any`` of its own, no ``type: ignore``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import struct
import sys
import time
from pathlib import Path
from typing import TypeVar
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

from gatehouse_client import AuthenticatedClient, Client
from gatehouse_client.api.api_keys import create_api_key, list_api_keys, revoke_api_key
from gatehouse_client.api.auth import (
    confirm_totp,
    list_sessions,
    login,
    login_mfa,
    logout,
    logout_all,
    refresh_token,
    register,
    resend_verification,
    revoke_session,
    setup_totp,
    verify_email,
)
from gatehouse_client.api.users import get_me, update_me
from gatehouse_client.models import (
    ApiKeyCreateInputRequest,
    ApiKeyScopeEnum,
    EmailedLinkInputRequest,
    EmailVerifyInputRequest,
    ErrorCodeEnum,
    FieldErrors,
    LoginInputRequest,
    LoginMfaInputRequest,
    LoginResponse,
    MfaChallenge,
    MfaMethodEnum,
    PatchedMeUpdateRequest,
    Problem,
    RefreshInputRequest,
    RegisterInputRequest,
    TotpConfirmInputRequest,
)
from gatehouse_client.types import Response

T = TypeVar("T")


def say(line: str) -> None:
    sys.stdout.write(line + "\n")


def ok(step: str, answer: Response[T | Problem]) -> T:
    """The parsed success body, or the failure with its problem."""
    if answer.parsed is None or isinstance(answer.parsed, Problem):
        sys.exit(f"{step}: {answer.status_code} {answer.content.decode()}")
    say(f"ok   {step}")
    return answer.parsed


def no_content(step: str, answer: Response[object]) -> None:
    if answer.status_code != 204:
        sys.exit(f"{step}: {answer.status_code} {answer.content.decode()}")
    say(f"ok   {step}")


def failure(step: str, answer: Response[T | Problem], status: int) -> Problem:
    """The typed problem of an answer expected to fail with ``status``."""
    if answer.status_code != status or not isinstance(answer.parsed, Problem):
        sys.exit(
            f"{step}: expected {status}, got {answer.status_code} {answer.content!r}"
        )
    say(f"ok   {step}: {status}")
    return answer.parsed


def check(condition: bool, message: str) -> None:
    if not condition:
        sys.exit(message)


def verification_key(outbox: Path, email: str) -> str:
    """The key of the newest verification link mailed to ``email`` (file email backend)."""
    key = None
    for path in sorted(outbox.iterdir()):
        for message in re.split(r"^-{79}$", path.read_text(), flags=re.MULTILINE):
            link = re.search(r"https?://\S+/verify-email\?key=[^\s\"<]+", message)
            if link and f"\nTo: {email}\n" in message:
                key = parse_qs(urlsplit(link.group()).query)["key"][0]
    if key is None:
        sys.exit(f"no verification email to {email} in {outbox}")
    return key


def totp(secret: str, at: float | None = None) -> str:
    """RFC 6238 (HMAC-SHA1, 6 digits), as an authenticator app computes it."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = int(time.time() if at is None else at) // 30
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def main(base_url: str, outbox: Path) -> None:
    public = Client(base_url=base_url, raise_on_unexpected_status=True)
    suffix = secrets.token_hex(4)
    username, email = f"py_{suffix}", f"py_{suffix}@example.com"
    password = f"a Python journey's passphrase {suffix}"

    # Sign up, then follow the emailed link.
    registered = ok(
        "register",
        register.sync_detailed(
            client=public,
            body=RegisterInputRequest(
                username=username, email=email, password=password
            ),
        ),
    )
    check(
        not registered.user.email_verified, "a new account's email is not verified yet"
    )
    verified = ok(
        "verify email",
        verify_email.sync_detailed(
            client=public,
            body=EmailVerifyInputRequest(key=verification_key(outbox, email)),
        ),
    )
    check(verified.user.email_verified, "the email is verified")

    # Sign in: no second factor yet, so the answer carries the tokens.
    # The answer is the tokens or, with a second factor on, the MFA challenge.
    first = login.sync_detailed(
        client=public, body=LoginInputRequest(login=username, password=password)
    ).parsed
    if not isinstance(first, LoginResponse):
        sys.exit(f"login: {first}")
    say("ok   login")
    # Kept for later logins from this device: others' failures do not lock it out.
    device_token = first.device_token
    user = AuthenticatedClient(
        base_url=base_url, token=first.access, raise_on_unexpected_status=True
    )

    me = ok("get me", get_me.sync_detailed(client=user))
    check(me.username == username and me.email_verified, "me/ is the new account")
    updated = ok(
        "update me",
        update_me.sync_detailed(
            client=user,
            body=PatchedMeUpdateRequest(
                bio="Generated, not hand-written.", language="en"
            ),
        ),
    )
    check(updated.bio == "Generated, not hand-written.", "the profile changed")

    # An API key for a script: made with the session, shown once, sent as
    # "Authorization: Api-Key"; it acts as its owner, and stops working once revoked.
    made = ok(
        "create api key",
        create_api_key.sync_detailed(
            client=user, body=ApiKeyCreateInputRequest(name="journey")
        ),
    )
    check(made.key.startswith(f"gth_{made.prefix}_"), "a gth_ key, shown once")
    check(ApiKeyScopeEnum.ADMIN not in made.scopes, "no admin scope by default")
    keyed = AuthenticatedClient(
        base_url=base_url,
        token=made.key,
        prefix="Api-Key",
        raise_on_unexpected_status=True,
    )
    by_key = ok("get me with the key", get_me.sync_detailed(client=keyed))
    check(by_key.username == username, "the key acts as its owner")
    keys = ok("list api keys", list_api_keys.sync_detailed(client=user))
    check(
        keys.count == 1 and keys.results[0].prefix == made.prefix,
        "the key is listed, without its secret",
    )
    no_content(
        "revoke api key",
        revoke_api_key.sync_detailed(key_id=made.id, client=user),
    )
    revoked_key = failure("revoked api key", get_me.sync_detailed(client=keyed), 401)
    check(
        revoked_key.code is ErrorCodeEnum.NOT_AUTHENTICATED,
        f"not_authenticated, got {revoked_key.code}",
    )

    refreshed = ok(
        "refresh",
        refresh_token.sync_detailed(
            client=public, body=RefreshInputRequest(refresh=first.refresh)
        ),
    )
    user = AuthenticatedClient(
        base_url=base_url, token=refreshed.access, raise_on_unexpected_status=True
    )

    sessions = ok("list sessions", list_sessions.sync_detailed(client=user))
    check(
        sessions.count == 1 and sessions.results[0].current,
        "one session, the current one",
    )

    # Turn an authenticator app on: the code is computed from the secret, as the app would.
    setup = ok("totp setup", setup_totp.sync_detailed(client=user))
    check(setup.otpauth_uri.startswith("otpauth://totp/"), "an otpauth:// URI")
    confirmed = ok(
        "totp confirm",
        confirm_totp.sync_detailed(
            client=user, body=TotpConfirmInputRequest(code=totp(setup.secret))
        ),
    )
    check(len(confirmed.recovery_codes) == 10, "ten recovery codes")

    no_content(
        "logout",
        logout.sync_detailed(
            client=user, body=RefreshInputRequest(refresh=refreshed.refresh)
        ),
    )

    # Signing in again asks for the second factor. A code is accepted once: the next
    # step's code (within the server's one-step tolerance) answers the challenge.
    challenge = login.sync_detailed(
        client=public,
        body=LoginInputRequest(
            login=email, password=password, device_token=device_token
        ),
    ).parsed
    if not isinstance(challenge, MfaChallenge):
        sys.exit(f"the second sign-in asked for no code: {challenge}")
    say("ok   login (MFA challenge)")
    check(MfaMethodEnum.TOTP in challenge.methods, "the authenticator app is offered")
    second = ok(
        "login mfa",
        login_mfa.sync_detailed(
            client=public,
            body=LoginMfaInputRequest(
                mfa_token=challenge.mfa_token,
                code=totp(setup.secret, time.time() + 30),
                method=MfaMethodEnum.TOTP,
            ),
        ),
    )
    check(second.user.mfa_enabled, "the profile says MFA is on")
    check(bool(second.device_token), "a device token with the tokens")
    user = AuthenticatedClient(
        base_url=base_url, token=second.access, raise_on_unexpected_status=True
    )

    missing = failure(
        "not found",
        revoke_session.sync_detailed(
            session_id=UUID("00000000-0000-4000-8000-000000000000"), client=user
        ),
        404,
    )
    check(missing.code is ErrorCodeEnum.NOT_FOUND, f"not_found, got {missing.code}")

    no_content("logout everywhere", logout_all.sync_detailed(client=user))

    # The errors of each family are read through the typed problem body.
    revoked = failure("revoked token", get_me.sync_detailed(client=user), 401)
    check(
        revoked.code is ErrorCodeEnum.TOKEN_INVALID,
        f"token_invalid, got {revoked.code}",
    )

    invalid = failure(
        "validation",
        register.sync_detailed(
            client=public,
            body=RegisterInputRequest(
                username="x", email="not an address", password=password[:5]
            ),
        ),
        400,
    )
    check(
        invalid.code is ErrorCodeEnum.VALIDATION_ERROR,
        f"validation_error, got {invalid.code}",
    )
    check(
        isinstance(invalid.errors, FieldErrors) and "email" in invalid.errors,
        "the email field has its messages",
    )

    # The verification email may be asked for a few times an hour per address.
    for _ in range(10):
        answer = resend_verification.sync_detailed(
            client=public, body=EmailedLinkInputRequest(email=email)
        )
        if answer.status_code == 429:
            break
    throttled = failure("rate limited", answer, 429)
    check(
        throttled.code is ErrorCodeEnum.RATE_LIMITED,
        f"rate_limited, got {throttled.code}",
    )
    retry_after = int(answer.headers["Retry-After"])
    check(retry_after > 0, "Retry-After says how long to wait")
    check(throttled.retry_after == retry_after, "the problem repeats Retry-After")
    say(f"     Retry-After: {retry_after}s")

    say("Python journey: done")


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
