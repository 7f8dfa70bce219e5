"""Secrets at rest: TOTP keys encrypted (rotatable), recovery codes as keyed digests.

Keys come from ``MFA_ENCRYPTION_KEYS`` (Fernet keys, newest first; the first encrypts, all
decrypt). Without it, one key is derived from ``SECRET_KEY``, so a fresh install works;
rotating means putting a new key first and running ``manage.py rotate_mfa_keys``.
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


def _derive(info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(
        settings.SECRET_KEY.encode()
    )


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        keys = (base64.urlsafe_b64encode(_derive(b"gatehouse mfa secrets")).decode(),)
    return MultiFernet([Fernet(key.encode()) for key in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.MFA_ENCRYPTION_KEYS))


def encrypt_secret(secret: bytes) -> str:
    return _current().encrypt(secret).decode()


def decrypt_secret(ciphertext: str) -> bytes:
    try:
        return _current().decrypt(ciphertext.encode())
    except InvalidToken:
        raise ValueError(
            "The secret cannot be decrypted with MFA_ENCRYPTION_KEYS."
        ) from None


def reencrypt_secret(ciphertext: str) -> str:
    """The same secret under the newest key (``MultiFernet.rotate``)."""
    return _current().rotate(ciphertext.encode()).decode()


def recovery_code_digest(code: str) -> str:
    """A keyed SHA-256 of a normalised recovery code. The codes are random (50 bits), so a
    fast keyed hash is as safe as a slow one, and a login can check ten in microseconds."""
    normalised = code.replace("-", "").replace(" ", "").lower().encode()
    return hmac.new(
        _derive(b"gatehouse recovery codes"), normalised, hashlib.sha256
    ).hexdigest()


def email_code_digest(code: str, *, login_id: str) -> str:
    """What an email device stores for a ``code`` emailed during the login ``login_id``
    (its ``mfa_token``'s ``jti``): a keyed SHA-256 of both. So the code is accepted only
    with that login's token (it is checked as ``email_code_digest(typed, login_id=…)``),
    and the database holds no usable code. Cut to the 16 characters of django-otp's
    ``token`` column: 64 bits, against codes of 6 to 8 digits."""
    message = f"{login_id}:{code}".encode()
    return hmac.new(
        _derive(b"gatehouse emailed codes"), message, hashlib.sha256
    ).hexdigest()[:16]
