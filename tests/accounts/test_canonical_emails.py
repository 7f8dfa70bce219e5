"""Email addresses are stored in one canonical form (``canonical_email``) and compared
exactly (issue 12, Low). Before, sign-up and lookups compared three ways (Python's
``lower``, the database's ``LOWER`` in the unique constraint, ``UPPER`` behind
``iexact``): an address spelled with the long s (U+017F) was another account than the
plain one for some checks and the same for others."""

from __future__ import annotations

import importlib
import logging
import unicodedata
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django import forms
from django.apps import apps
from django.core import mail
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

import accounts
from accounts.emails.adapter import AccountAdapter
from accounts.models import (
    InvalidEmailAddress,
    User,
    canonical_email,
    login_lookup,
    normalize_email,
)
from accounts.models.users import _fold_case
from accounts.selectors import user_by_email, user_by_login
from accounts.services.login import lockout_key
from accounts.services.profile import email_change_request
from accounts.services.registration import email_verification_resend, user_register
from config.client import SYSTEM
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.helpers import bearer, log_in, otp_verified_staff_client

LONG_S = "\u017f"  # LATIN SMALL LETTER LONG S: folds to "s"
KELVIN = "\u212a"  # KELVIN SIGN: folds to "k"
DOTLESS_I = "\u0131"  # LATIN SMALL LETTER DOTLESS I: stays itself
FULL_WIDTH_ABC = "\uff21\uff22\uff23"  # FULLWIDTH LATIN CAPITAL LETTERS A, B, C
FULL_WIDTH_AT = "\uff20"
FULL_WIDTH_S = "\uff53"  # FULLWIDTH LATIN SMALL LETTER S
BUECHER = "b\u00fccher"  # "bücher"
SNOWMAN = "\u2603"

PASSWORD = "amber meadows hum with sleepy bees"


@pytest.mark.parametrize(
    ("address", "canonical"),
    [
        ("Alice@Example.COM", "alice@example.com"),
        ("  bob@example.com ", "bob@example.com"),
        (f"{LONG_S}quat@example.com", "squat@example.com"),
        (f"{KELVIN}evin@example.com", "kevin@example.com"),
        ("Stra\u00dfe@example.com", "strasse@example.com"),
        (f"{FULL_WIDTH_ABC}@example.com", "abc@example.com"),
        (f"{FULL_WIDTH_ABC}{FULL_WIDTH_AT}example.com", "abc@example.com"),
        (f"anna@{BUECHER}.example", "anna@xn--bcher-kva.example"),
        (f"anna@{BUECHER.upper()}.Example", "anna@xn--bcher-kva.example"),
        ("anna@xn--bcher-kva.example", "anna@xn--bcher-kva.example"),
        ('"a@b"@example.com', '"a@b"@example.com'),  # split at the last "@"
        ("root@[192.0.2.1]", "root@[192.0.2.1]"),
        ("admin@localhost", "admin@localhost"),
    ],
)
def test_the_canonical_form_of_an_address(address: str, canonical: str) -> None:
    assert canonical_email(address) == canonical
    assert canonical_email(canonical) == canonical  # a canonical form is its own


@pytest.mark.parametrize(
    "address",
    [
        "no-at-sign.example.com",
        "@example.com",
        "alice@",
        f"alice@{SNOWMAN}.net",  # IDNA 2003 took it; UTS 46 refuses it
        "alice@exa mple.com",
        f"{DOTLESS_I}van@example.com",  # not ASCII once folded
        "ivan\u0130@example.com",  # dotted capital I folds to i + a combining dot
    ],
)
def test_an_address_without_a_canonical_form_is_invalid(address: str) -> None:
    with pytest.raises(InvalidEmailAddress):
        canonical_email(address)
    # lookups find nothing for it; the model's validation refuses it
    assert login_lookup(address) is None or "@" not in address
    assert normalize_email(address) == address.strip()


def test_case_folding_is_a_fixed_point_for_every_code_point() -> None:
    # NFKC, casefold, NFKC once more: folding the result again changes nothing, so
    # canonical_email is idempotent whatever the input.
    changed = 0
    for code_point in range(0x110000):
        if 0xD800 <= code_point <= 0xDFFF:  # surrogates are no characters
            continue
        character = chr(code_point)
        folded = _fold_case(character)
        if folded != character:
            changed += 1
            assert _fold_case(folded) == folded, hex(code_point)
    assert changed > 1000
    assert _fold_case("\u210c") == "h"  # black-letter H: NFKC gives "H", then folded
    assert unicodedata.normalize("NFKC", _fold_case("\u1e9e")) == "ss"


@pytest.mark.django_db
def test_create_user_stores_the_canonical_form() -> None:
    user = User.objects.create_user("anna", f"Anna@{BUECHER}.example", DEFAULT_PASSWORD)

    assert user.email == "anna@xn--bcher-kva.example"


@pytest.mark.django_db
def test_the_model_refuses_an_address_without_a_canonical_form() -> None:
    user = UserFactory.build(email=f"anna@{SNOWMAN}.net")

    with pytest.raises(ValidationError) as error:
        user.full_clean()

    assert error.value.message_dict["email"] == ["Enter a valid email address."]


@pytest.mark.django_db
def test_the_model_stores_the_canonical_form_when_cleaned() -> None:
    user = UserFactory.build(email=f"{LONG_S}quat@example.com", username="squat")

    user.full_clean()

    assert user.email == "squat@example.com"


# --- Sign-up ---------------------------------------------------------------------------------


def register(**fields: str):
    body = {"username": "squatter", "password": PASSWORD, **fields}
    return APIClient().post("/api/v1/auth/register/", body, format="json")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (f"{LONG_S}quat@example.com", "squat@example.com"),
        (f"{FULL_WIDTH_ABC}@example.com", "abc@example.com"),
        (f"anna@{BUECHER}.example", "anna@xn--bcher-kva.example"),
    ],
)
def test_sign_up_stores_the_canonical_form(typed: str, stored: str) -> None:
    response = register(email=typed)

    assert response.status_code == 201, response.content
    assert response.json()["user"]["email"] == stored
    user = User.objects.get(username="squatter")
    assert user.email == stored
    assert EmailAddress.objects.get(user=user).email == stored
    [message] = mail.outbox
    assert message.to == [stored]


@pytest.mark.django_db
def test_the_long_s_spelling_of_a_taken_address_is_the_duplicate_path() -> None:
    # Given an account for squat@example.com, and a new sign-up for comparison
    squat = UserFactory(username="squat", email="squat@example.com")
    fresh = register(username="fresh", email="fresh@example.com")
    mail.outbox.clear()

    # When someone signs up with the long-s spelling of the taken address
    response = register(email=f"{LONG_S}quat@example.com")

    # Then the answer is a new sign-up's, no account is made, and the owner is told
    # at the stored address
    assert response.status_code == fresh.status_code == 201
    assert set(response.json()["user"]) == set(fresh.json()["user"])
    assert response.json()["user"]["email"] == "squat@example.com"
    assert not User.objects.filter(username="squatter").exists()
    assert list(User.objects.filter(email__endswith="quat@example.com")) == [squat]
    [message] = mail.outbox
    assert message.to == ["squat@example.com"]
    assert "verify-email" not in message.body


@pytest.mark.django_db
def test_the_plain_spelling_after_a_long_s_sign_up_is_the_duplicate_path() -> None:
    register(email=f"{LONG_S}quat@example.com")
    mail.outbox.clear()

    response = register(username="squat", email="squat@example.com")

    assert response.status_code == 201
    assert not User.objects.filter(username="squat").exists()
    [message] = mail.outbox
    assert message.to == ["squat@example.com"]
    assert "verify-email" not in message.body


@pytest.mark.django_db
@pytest.mark.parametrize(
    "address",
    [
        f"anna@{SNOWMAN}.net",  # a domain IDNA (UTS 46) refuses
        f"{DOTLESS_I}van@example.com",  # a local part that is not ASCII once folded
    ],
)
def test_sign_up_refuses_an_address_without_a_canonical_form(address: str) -> None:
    response = register(email=address)

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert response.json()["errors"] == {"email": ["Enter a valid email address."]}
    assert not User.objects.exists()


@pytest.mark.django_db
def test_the_sign_up_service_refuses_an_address_without_a_canonical_form() -> None:

    with pytest.raises(ValidationError) as error:
        user_register(
            username="anna",
            email=f"anna@{SNOWMAN}.net",
            password=PASSWORD,
            client=SYSTEM,
        )

    assert error.value.message_dict == {"email": ["Enter a valid email address."]}


@pytest.mark.django_db
def test_verification_resend_finds_the_address_by_its_canonical_form() -> None:
    register(email="squat@example.com")
    mail.outbox.clear()

    def resend(typed: str) -> int:
        return (
            APIClient()
            .post("/api/v1/auth/email/resend/", {"email": typed}, format="json")
            .status_code
        )

    assert resend(f"{LONG_S}quat@example.com") == 202
    assert resend(f"anna@{SNOWMAN}.net") == 400

    [message] = mail.outbox
    assert message.to == ["squat@example.com"]


@pytest.mark.django_db
def test_the_resend_service_ignores_an_address_without_a_canonical_form() -> None:

    register(email="anna@example.com")
    mail.outbox.clear()

    email_verification_resend(email=f"anna@{SNOWMAN}.net")

    assert mail.outbox == []


# --- Login and password reset ----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "typed",
    [
        f"{LONG_S}quat@example.com",
        "SQUAT@EXAMPLE.COM",
        f"squat{FULL_WIDTH_AT}example.com",
        "squat@EXAMPLE.com",
    ],
)
def test_login_by_any_spelling_of_the_address(typed: str) -> None:
    squat = UserFactory(username="squat", email="squat@example.com")

    response = APIClient().post(
        "/api/v1/auth/login/",
        {"login": typed, "password": DEFAULT_PASSWORD},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["user"]["id"] == str(squat.pk)


@pytest.mark.django_db
def test_login_by_a_unicode_domain() -> None:
    anna = UserFactory(username="anna", email="anna@xn--bcher-kva.example")

    assert user_by_login(f"Anna@{BUECHER.upper()}.example") == anna
    assert user_by_email(f"anna@{BUECHER}.example") == anna
    assert user_by_login(f"anna@{SNOWMAN}.net") is None
    assert user_by_email(f"anna@{SNOWMAN}.net") is None


def test_spellings_of_one_address_share_one_lockout_counter() -> None:
    names = [f"{LONG_S}quat@example.com", "SQUAT@example.com", "squat@example.com"]

    assert {lockout_key(name, None) for name in names} == {"login:squat@example.com"}
    # an address no account can have counts under its own spelling
    assert lockout_key(f"Anna@{SNOWMAN}.net", None) == f"login:anna@{SNOWMAN}.net"


@pytest.mark.django_db
def test_a_reset_for_the_long_s_spelling_goes_to_the_stored_address() -> None:
    squat = UserFactory(username="squat", email="squat@example.com")

    response = APIClient().post(
        "/api/v1/auth/password/reset/",
        {"email": f"{LONG_S}quat@example.com"},
        format="json",
    )

    assert response.status_code == 202
    [message] = mail.outbox
    assert message.to == [squat.email] == ["squat@example.com"]


@pytest.mark.django_db
def test_spellings_of_one_address_share_its_reset_limit() -> None:
    # The per-address limit counts the canonical form: respelling the address (5/h by
    # default) does not buy more emails to its owner.
    UserFactory(username="squat", email="squat@example.com")
    spellings = ["squat@example.com", f"{LONG_S}quat@example.com", "SQUAT@example.com"]
    client = APIClient()

    statuses = [
        client.post(
            "/api/v1/auth/password/reset/",
            {"email": spellings[attempt % len(spellings)]},
            format="json",
        ).status_code
        for attempt in range(6)
    ]

    assert statuses == [202] * 5 + [429]
    assert len(mail.outbox) == 5


# --- Email change ----------------------------------------------------------------------------


def change_email(client: APIClient, new_email: str):
    return client.post(
        "/api/v1/users/me/email/",
        {"new_email": new_email, "password": DEFAULT_PASSWORD},
        format="json",
    )


@pytest.mark.django_db
def test_changing_to_a_spelling_of_a_taken_address_is_treated_as_taken(
    user: User,
) -> None:
    # Given another account at squat@example.com
    UserFactory(username="squat", email="squat@example.com")
    client = bearer(log_in(user)["access"])

    response = change_email(client, f"{LONG_S}quat@example.com")

    # Then the answer is the usual 202, its owner is told, and nothing is claimed
    assert response.status_code == 202
    [message] = mail.outbox
    assert message.to == ["squat@example.com"]
    assert "verify-email" not in message.body
    assert EmailAddress.objects.filter(user=user).count() == 1


@pytest.mark.django_db
def test_an_email_change_claims_the_canonical_form(user: User) -> None:
    client = bearer(log_in(user)["access"])

    response = change_email(client, f"Anna@{BUECHER}.example")

    assert response.status_code == 202
    assert EmailAddress.objects.filter(
        user=user, email="anna@xn--bcher-kva.example", verified=False
    ).exists()
    [message] = mail.outbox
    assert message.to == ["anna@xn--bcher-kva.example"]


@pytest.mark.django_db
def test_changing_to_a_spelling_of_ones_own_address_is_a_field_error(
    user: User,
) -> None:
    client = bearer(log_in(user)["access"])
    local, domain = user.email.split("@")

    response = change_email(client, f"{local.upper()}{FULL_WIDTH_AT}{domain}")

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "new_email": ["This is already your email address."]
    }


@pytest.mark.django_db
def test_an_email_change_refuses_an_address_without_a_canonical_form(
    user: User,
) -> None:

    client = bearer(log_in(user)["access"])

    response = change_email(client, f"anna@{SNOWMAN}.net")

    assert response.status_code == 400
    assert response.json()["errors"] == {"new_email": ["Enter a valid email address."]}
    with pytest.raises(ValidationError) as error:
        email_change_request(
            actor=user,
            new_email=f"anna@{SNOWMAN}.net",
            password=DEFAULT_PASSWORD,
            client=SYSTEM,
        )
    assert error.value.message_dict == {"new_email": ["Enter a valid email address."]}
    assert mail.outbox == []


# --- allauth ---------------------------------------------------------------------------------


def test_allauths_forms_get_the_canonical_form_through_the_adapter() -> None:
    adapter = AccountAdapter()

    assert adapter.clean_email(f"{LONG_S}quat@Example.com") == "squat@example.com"
    with pytest.raises(forms.ValidationError):
        adapter.clean_email(f"anna@{SNOWMAN}.net")


# --- The migration of existing rows ----------------------------------------------------------


def canonicalise_emails():
    """The data migration's function (found by name: the lead renumbers migrations)."""
    [path] = Path(accounts.__file__).parent.glob("migrations/*_canonical_emails.py")
    module = importlib.import_module(f"accounts.migrations.{path.stem}")
    return module.canonicalise_emails


@pytest.mark.django_db
def test_the_migration_canonicalises_rows_and_leaves_collisions_as_they_are(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given rows written before canonical forms (bypassing the model, as old code did)
    plain = UserFactory(username="anna", email=f"anna@{BUECHER}.example")
    squat = UserFactory(username="squat", email="squat@example.com")
    squatter = UserFactory(username="squatter", email=f"{LONG_S}quat@example.com")
    broken = UserFactory(username="broken", email=f"broken@{SNOWMAN}.net")
    # (spellings that LOWER, on either database, leaves apart)
    first = UserFactory(username="first", email=f"{FULL_WIDTH_S}am@example.com")
    second = UserFactory(username="second", email=f"{LONG_S}am@example.com")
    for account in (plain, squat, squatter, broken, first, second):
        EmailAddress.objects.create(
            user=account, email=account.email, primary=True, verified=True
        )
    pending = EmailAddress.objects.create(
        user=plain, email=f"Other@{BUECHER}.example", verified=False
    )

    with caplog.at_level(logging.WARNING):
        canonicalise_emails()(apps, None)

    def email_of(account: User) -> str:
        account.refresh_from_db()
        assert EmailAddress.objects.get(user=account, primary=True).email == (
            account.email
        )
        return account.email

    assert email_of(plain) == "anna@xn--bcher-kva.example"
    pending.refresh_from_db()
    assert pending.email == "other@xn--bcher-kva.example"
    # the account already at the canonical form keeps it; the other is left alone
    assert email_of(squat) == "squat@example.com"
    assert email_of(squatter) == f"{LONG_S}quat@example.com"
    # of two that canonicalise alike, the first to join gets it
    assert email_of(first) == "sam@example.com"
    assert email_of(second) == f"{LONG_S}am@example.com"
    assert email_of(broken) == f"broken@{SNOWMAN}.net"
    warnings = caplog.text
    for account in (squatter, second, broken):
        assert str(account.pk) in warnings
    # and a lookup of the address finds the account that holds its canonical form
    assert user_by_login(f"{LONG_S}quat@example.com") == squat


# --- The admin -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_admin_adds_a_user_at_the_canonical_form_and_refuses_a_taken_one() -> None:

    client = otp_verified_staff_client()[0]
    UserFactory(username="squat", email="squat@example.com")

    def add(username: str, email: str):
        password = "a long enough password here"
        return client.post(
            "/admin/accounts/user/add/",
            {
                "username": username,
                "email": email,
                "usable_password": "true",
                "password1": password,
                "password2": password,
            },
        )

    taken = add("squatter", f"{LONG_S}quat@example.com")
    added = add("anna", f"Anna@{BUECHER}.example")

    assert taken.status_code == 200
    assert "An account with this email address already exists." in taken.text
    assert not User.objects.filter(username="squatter").exists()
    assert added.status_code == 302
    assert User.objects.get(username="anna").email == "anna@xn--bcher-kva.example"
