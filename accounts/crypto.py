"""Secrets at rest: TOTP keys encrypted (rotatable), recovery codes as keyed digests.

Keys come from ``MFA_ENCRYPTION_KEYS`` (Fernet keys, newest first; the first encrypts, all
decrypt). Without it, one key is derived from ``SECRET_KEY`` and one from each of
``SECRET_KEY_FALLBACKS``, so a fresh install works and a new ``SECRET_KEY`` (the old one kept
as a fallback) still reads every secret. ``manage.py rotate_mfa_keys`` re-encrypts them all
under the newest key, after which the old key can go.

Recovery codes and emailed codes are stored as HMACs keyed from ``SECRET_KEY``: they are
checked against the digests of the current key and of each fallback, and stored with the
current one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


class UndecryptableSecret(ValueError):
    """No configured key decrypts a stored secret: the key that sealed it is gone."""


def _secret_keys() -> tuple[str, ...]:
    """``SECRET_KEY`` then each of ``SECRET_KEY_FALLBACKS``: the newest first."""
    return (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS)


@cache
def _derive(info: bytes, secret_key: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(
        secret_key.encode()
    )


@cache
def _fernet(keys: tuple[str, ...], secret_keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        keys = tuple(
            base64.urlsafe_b64encode(_derive(b"gatehouse mfa secrets", key)).decode()
            for key in secret_keys
        )
    return MultiFernet([Fernet(key.encode()) for key in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.MFA_ENCRYPTION_KEYS), _secret_keys())


def encrypt_secret(secret: bytes) -> str:
    return _current().encrypt(secret).decode()


def decrypt_secret(ciphertext: str) -> bytes:
    try:
        return _current().decrypt(ciphertext.encode())
    except InvalidToken:
        raise UndecryptableSecret(
            "The secret cannot be decrypted with MFA_ENCRYPTION_KEYS, or (when that is "
            "not set) with SECRET_KEY and SECRET_KEY_FALLBACKS."
        ) from None


def reencrypt_secret(ciphertext: str) -> str:
    """The same secret under the newest key (``MultiFernet.rotate``)."""
    try:
        return _current().rotate(ciphertext.encode()).decode()
    except InvalidToken:
        raise UndecryptableSecret(
            "The secret cannot be decrypted with any configured key."
        ) from None


def _normalised_recovery_code(code: str) -> bytes:
    return code.replace("-", "").replace(" ", "").lower().encode()


def recovery_code_digest(code: str) -> str:
    """A keyed SHA-256 of a normalised recovery code, keyed from the current
    ``SECRET_KEY``. The codes are random (50 bits), so a fast keyed hash is as safe as a
    slow one, and a login can check ten in microseconds."""
    return recovery_code_digests(code)[0]


def recovery_code_digests(code: str) -> list[str]:
    """The digests ``code`` may be stored under: with the current ``SECRET_KEY`` first,
    then with each of ``SECRET_KEY_FALLBACKS`` (codes made before a rotation)."""
    normalised = _normalised_recovery_code(code)
    return [
        hmac.new(
            _derive(b"gatehouse recovery codes", key), normalised, hashlib.sha256
        ).hexdigest()
        for key in _secret_keys()
    ]


def email_code_digest(code: str, *, login_id: str) -> str:
    """What an email device stores for a ``code`` emailed during the login ``login_id``
    (its ``mfa_token``'s ``jti``): a keyed SHA-256 of both. So the code is accepted only
    with that login's token (it is checked through :func:`email_code_digest_matching`),
    and the database holds no usable code. Cut to the 16 characters of django-otp's
    ``token`` column: 64 bits, against codes of 6 to 8 digits."""
    return _email_code_digests(code, login_id=login_id)[0]


def _email_code_digests(code: str, *, login_id: str) -> list[str]:
    message = f"{login_id}:{code}".encode()
    return [
        hmac.new(
            _derive(b"gatehouse emailed codes", key), message, hashlib.sha256
        ).hexdigest()[:16]
        for key in _secret_keys()
    ]


def email_code_digest_matching(code: str, *, login_id: str, stored: str | None) -> str:
    """The digest of ``code`` to hand to the device, which compares it with the
    ``stored`` one: the digest under whichever key (current or fallback) matches
    ``stored`` (compared in constant time), else the current key's."""
    digests = _email_code_digests(code, login_id=login_id)
    for digest in digests:
        if stored and hmac.compare_digest(digest, stored):
            return digest
    return digests[0]


def keyed_digests(purpose: bytes, message: bytes) -> list[str]:
    """The HMAC-SHA256 (hex) of ``message`` under a key derived for ``purpose`` from the
    current ``SECRET_KEY`` first, then from each of ``SECRET_KEY_FALLBACKS``: store the
    first, accept any (for random secrets such as API keys, where a fast hash is right)."""
    return [
        hmac.new(_derive(purpose, key), message, hashlib.sha256).hexdigest()
        for key in _secret_keys()
    ]
