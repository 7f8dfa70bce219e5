"""Sign in the schema fuzzer's two callers through the API and print their access tokens.

Usage: ``fuzz_accounts.py BASE_URL STAFF_USERNAME STAFF_PASSWORD``. The staff account must
exist (``manage.py createsuperuser``); the plain user is registered here. The staff member
turns an authenticator app on (``mfa/totp/setup/`` then ``confirm/`` with a code computed
from the secret) and signs in again in two steps, with a recovery code as the second
factor, as staff must. Prints ``USER_TOKEN=…`` and ``STAFF_TOKEN=…`` lines for the shell.

Only the standard library, and only the HTTP API: the script does not depend on how the
application is laid out inside.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import struct
import sys
import time
import urllib.error
import urllib.request
from typing import Any

USER = {
    "username": "fuzz_user",
    "email": "fuzz_user@example.com",
    "password": "a fuzzing user's long password 7",
}


def call(base: str, path: str, body: dict[str, Any], token: str | None = None) -> Any:
    request = urllib.request.Request(  # noqa: S310 (an http:// URL on loopback)
        f"{base}/api/v1/{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request) as response:  # noqa: S310
            content = response.read()
    except urllib.error.HTTPError as error:
        sys.exit(f"POST {path} answered {error.code}: {error.read().decode()}")
    return json.loads(content) if content else None


def totp_code(secret: str, step: int = 30, digits: int = 6) -> str:
    """RFC 6238 with HMAC-SHA1, as authenticator apps compute it."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(time.time()) // step), hashlib.sha1)
    offset = digest.digest()[-1] & 0x0F
    number = struct.unpack(">I", digest.digest()[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


def main(base: str, staff_username: str, staff_password: str) -> None:
    call(base, "auth/register/", USER)
    user = call(
        base, "auth/login/", {"login": USER["username"], "password": USER["password"]}
    )

    login = {"login": staff_username, "password": staff_password}
    first = call(base, "auth/login/", login)
    setup = call(base, "auth/mfa/totp/setup/", {}, first["access"])
    recovery_codes = call(
        base,
        "auth/mfa/totp/confirm/",
        {"code": totp_code(setup["secret"])},
        first["access"],
    )["recovery_codes"]
    challenge = call(base, "auth/login/", login)
    if not challenge.get("mfa_required"):
        sys.exit(f"the staff member's second sign-in asked for no code: {challenge}")
    staff = call(
        base,
        "auth/login/mfa/",
        {
            "mfa_token": challenge["mfa_token"],
            "code": recovery_codes[0],
            "method": "recovery_code",
        },
    )
    sys.stdout.write(f"USER_TOKEN={user['access']}\nSTAFF_TOKEN={staff['access']}\n")


if __name__ == "__main__":
    main(*sys.argv[1:4])
