"""The key's shape: a recognisable marker, a visible prefix, a secret stored as a keyed
digest, and a checksum that refuses mistyped and made-up keys without a lookup."""

from __future__ import annotations

import pytest

from apikeys.keys import (
    KEY_LENGTH,
    checksum,
    generate_key,
    parse_key,
    secret_digest,
    secret_matches,
)


def test_a_new_key_reads_gth_prefix_secret_checksum() -> None:
    full, prefix, secret = generate_key()

    assert full.startswith(f"gth_{prefix}_{secret}")
    assert len(full) == KEY_LENGTH
    parsed = parse_key(full)
    assert parsed is not None
    assert (parsed.prefix, parsed.secret) == (prefix, secret)


def test_keys_are_random() -> None:
    assert len({generate_key()[0] for _ in range(50)}) == 50


def mistyped(key: str, position: int) -> str:
    replacement = "A" if key[position] != "A" else "B"
    return key[:position] + replacement + key[position + 1 :]


@pytest.mark.parametrize("position", [4, 10, 20, 40, -1])
def test_a_mistyped_key_fails_its_checksum(position: int) -> None:
    full = generate_key()[0]

    assert parse_key(mistyped(full, position)) is None


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "gth_",
        "Bearer something",
        "x" * 53,
        "ghp_" + "a" * 48,  # the right length, another marker
        "gth_abcdefghij-" + "a" * 38,  # a separator that is not one
    ],
)
def test_malformed_keys_are_refused(raw: str) -> None:
    assert parse_key(raw) is None


def test_a_made_up_key_with_a_valid_shape_fails_its_checksum() -> None:
    body = "gth_" + "a" * 10 + "_" + "b" * 32
    wrong = "000000" if checksum(body) != "000000" else "000001"

    assert parse_key(body + wrong) is None
    assert parse_key(body + checksum(body)) is not None


def test_only_the_stored_digest_matches_its_secret() -> None:
    _, _, secret = generate_key()
    digest = secret_digest(secret)

    assert secret not in digest
    assert len(digest) == 64
    assert secret_matches(secret, digest)
    assert not secret_matches(secret[:-1] + "x", digest)


def test_a_digest_made_before_a_secret_key_rotation_still_matches(settings) -> None:
    _, _, secret = generate_key()
    digest = secret_digest(secret)

    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a brand new secret key, long and random enough " * 2

    assert secret_digest(secret) != digest
    assert secret_matches(secret, digest)
    settings.SECRET_KEY_FALLBACKS = []
    assert not secret_matches(secret, digest)


@pytest.mark.django_db
def test_a_key_reads_as_staff_expect_in_the_admin() -> None:
    from accounts.access import SYSTEM_ACTOR
    from apikeys.services import api_key_create
    from config.client import SYSTEM
    from tests.helpers import account

    owner = account(username="ada")
    made = {
        "actor": SYSTEM_ACTOR,
        "expires_at": None,
        "client": SYSTEM,
    }
    own, _ = api_key_create(owner_id=owner.pk, name="laptop", scopes=None, **made)
    service, _ = api_key_create(owner_id=None, name="ci", scopes=["users:read"], **made)

    assert str(own) == f"API key 'laptop' (gth_{own.prefix}_…) of ada"
    assert str(service) == f"Global API key 'ci' (gth_{service.prefix}_…)"
