"""Argon2id at OWASP's parameters; older hashes verify and are upgraded on login."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import (
    Argon2PasswordHasher,
    BCryptSHA256PasswordHasher,
    PBKDF2PasswordHasher,
    identify_hasher,
    make_password,
)

from accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.real_hasher

PASSWORD = "a passphrase long enough for the policy"


def test_new_hashes_are_argon2id_with_19_mib_2_passes_1_lane() -> None:
    encoded = make_password(PASSWORD)

    assert encoded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "legacy_hash",
    [
        pytest.param(
            lambda: PBKDF2PasswordHasher().encode(PASSWORD, "saltsalt"), id="pbkdf2"
        ),
        pytest.param(
            lambda: BCryptSHA256PasswordHasher().encode(
                PASSWORD, BCryptSHA256PasswordHasher().salt()
            ),
            id="bcrypt_sha256",
        ),
        pytest.param(
            # Django's own Argon2 defaults: 100 MiB and 8 lanes per hash.
            lambda: Argon2PasswordHasher().encode(PASSWORD, "saltsaltsalt"),
            id="argon2_django_defaults",
        ),
    ],
)
def test_an_imported_hash_verifies_and_is_upgraded_on_login(legacy_hash) -> None:
    user = UserFactory()
    User.objects.filter(pk=user.pk).update(password=legacy_hash())
    user.refresh_from_db()

    assert user.check_password(PASSWORD) is True

    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert identify_hasher(user.password).algorithm == "argon2"


@pytest.mark.django_db
def test_a_wrong_password_does_not_upgrade_the_hash() -> None:
    user = UserFactory()
    legacy = PBKDF2PasswordHasher().encode(PASSWORD, "saltsalt")
    User.objects.filter(pk=user.pk).update(password=legacy)
    user.refresh_from_db()

    assert user.check_password("wrong") is False

    user.refresh_from_db()
    assert user.password == legacy
