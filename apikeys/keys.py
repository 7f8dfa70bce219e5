"""The shape of an API key, and how its secret is stored.

A key reads ``gth_<prefix>_<secret><checksum>``:

- ``gth_``: lets secret scanners (GitHub's, gitleaks) recognise a leaked key;
- ``<prefix>``: 10 base62 characters, stored in clear: it finds the row and names the
  key in lists;
- ``<secret>``: 32 base62 characters (190 bits), stored only as a keyed HMAC-SHA256
  (a fast hash is right for random secrets; the key is derived from ``SECRET_KEY``, and
  a digest made under one of ``SECRET_KEY_FALLBACKS`` is still accepted);
- ``<checksum>``: 6 base62 characters of the CRC32 of everything before it, as GitHub's
  tokens have: a mistyped or made-up key is rejected without a lookup.
"""

from __future__ import annotations

import hmac
import re
import secrets
import string
import zlib
from dataclasses import dataclass
from typing import Final

from accounts.crypto import keyed_digests

KEY_MARKER: Final = "gth"
PREFIX_LENGTH: Final = 10
SECRET_LENGTH: Final = 32
CHECKSUM_LENGTH: Final = 6
ALPHABET: Final = string.digits + string.ascii_uppercase + string.ascii_lowercase
_PURPOSE: Final = b"gatehouse api keys"
_KEY_PATTERN: Final = re.compile(
    rf"{KEY_MARKER}_(?P<prefix>[0-9A-Za-z]{{{PREFIX_LENGTH}}})_"
    rf"(?P<secret>[0-9A-Za-z]{{{SECRET_LENGTH}}})"
    rf"(?P<checksum>[0-9A-Za-z]{{{CHECKSUM_LENGTH}}})"
)
# The longest a key can be: anything longer is refused before the regular expression.
KEY_LENGTH: Final = (
    len(KEY_MARKER) + 2 + PREFIX_LENGTH + SECRET_LENGTH + CHECKSUM_LENGTH
)


@dataclass(frozen=True)
class ParsedKey:
    prefix: str
    secret: str


def _random(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def _base62(number: int, length: int) -> str:
    digits = []
    for _ in range(length):
        number, digit = divmod(number, len(ALPHABET))
        digits.append(ALPHABET[digit])
    return "".join(reversed(digits))


def checksum(body: str) -> str:
    """The CRC32 of ``body`` (``gth_<prefix>_<secret>``) in 6 base62 characters."""
    return _base62(zlib.crc32(body.encode()), CHECKSUM_LENGTH)


def generate_key() -> tuple[str, str, str]:
    """A new key: ``(full key, prefix, secret)``. Only the full key is given to its owner;
    the prefix is stored, the secret only as :func:`secret_digest`."""
    prefix, secret = _random(PREFIX_LENGTH), _random(SECRET_LENGTH)
    body = f"{KEY_MARKER}_{prefix}_{secret}"
    return body + checksum(body), prefix, secret


def parse_key(raw: str) -> ParsedKey | None:
    """The prefix and secret of ``raw``, or ``None`` when it is not a well-formed key with
    the right checksum. No database access: a made-up key costs no query."""
    if len(raw) != KEY_LENGTH:
        return None
    match = _KEY_PATTERN.fullmatch(raw)
    if match is None:
        return None
    body = raw[:-CHECKSUM_LENGTH]
    if not hmac.compare_digest(checksum(body), match["checksum"]):
        return None
    return ParsedKey(prefix=match["prefix"], secret=match["secret"])


def secret_digest(secret: str) -> str:
    """What is stored for ``secret``: its HMAC under the current ``SECRET_KEY``."""
    return keyed_digests(_PURPOSE, secret.encode())[0]


def secret_matches(secret: str, digest: str) -> bool:
    """Whether ``secret`` is the one stored as ``digest``, under the current key or any
    fallback. Every candidate is compared, in constant time."""
    matched = False
    for candidate in keyed_digests(_PURPOSE, secret.encode()):
        matched |= hmac.compare_digest(candidate, digest)
    return matched
