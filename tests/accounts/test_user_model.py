"""The custom user model's rules, enforced by validation and by the database itself."""

from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, transaction

from accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_primary_key_is_a_uuid() -> None:
    user = UserFactory()

    assert isinstance(user.pk, uuid.UUID)


def test_create_user_folds_username_and_email_to_lowercase() -> None:
    user = User.objects.create_user("Alice_1", "Alice@Example.COM", "x" * 20)

    assert user.username == "alice_1"
    assert user.email == "alice@example.com"


def test_display_name_defaults_to_the_username() -> None:
    user = User.objects.create_user("bob", "bob@example.com", "x" * 20)

    assert user.display_name == "bob"


def test_an_explicit_display_name_is_kept() -> None:
    user = User.objects.create_user(
        "bob", "bob@example.com", display_name="Bobby Tables"
    )

    assert user.display_name == "Bobby Tables"


@pytest.mark.parametrize("username", ["abc", "a" * 32, "user_01", "___", "0123"])
def test_valid_usernames(username: str) -> None:
    UserFactory.build(username=username).full_clean()


@pytest.mark.parametrize(
    "username", ["ab", "a" * 33, "has-dash", "has space", "dot.name", "émile", "a@b"]
)
def test_invalid_usernames_are_refused_by_validation(username: str) -> None:
    user = UserFactory.build(username=username)

    with pytest.raises(ValidationError) as error:
        user.full_clean()

    assert "username" in error.value.message_dict


@pytest.mark.parametrize("username", ["ab", "Upper", "has-dash", "a" * 33])
def test_the_database_refuses_malformed_usernames_written_around_validation(
    username: str,
) -> None:
    with pytest.raises(DatabaseError), transaction.atomic():
        User.objects.bulk_create([User(username=username, email="x@example.com")])


def test_a_taken_username_is_refused_by_validation() -> None:
    UserFactory(username="carol")

    duplicate = UserFactory.build(username="carol", email="other@example.com")
    with pytest.raises(ValidationError) as error:
        duplicate.full_clean()

    assert error.value.message_dict["username"] == ["This username is taken."]


def test_usernames_are_unique_whatever_the_case() -> None:
    UserFactory(username="carol")

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("CaRoL", "other@example.com")


def test_emails_are_unique_whatever_the_case_in_validation() -> None:
    UserFactory(email="dave@example.com")

    duplicate = UserFactory.build(username="dave2", email="DAVE@Example.com")
    with pytest.raises(ValidationError) as error:
        duplicate.full_clean()

    assert "An account with this email address already exists." in str(error.value)


def test_emails_are_unique_whatever_the_case_in_the_database() -> None:
    UserFactory(email="erin@example.com")

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.bulk_create([User(username="erin2", email="ERIN@example.com")])


def test_an_email_is_required_by_the_database() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.bulk_create([User(username="noemail", email="")])


@pytest.mark.parametrize(
    ("field", "value", "valid"),
    [
        ("timezone", "Europe/Paris", True),
        ("timezone", "America/Argentina/Buenos_Aires", True),
        ("timezone", "UTC", True),
        ("timezone", "Mars/Olympus_Mons", False),
        ("timezone", "europe/paris", False),
        ("language", "en", True),
        ("language", "xx", False),
        ("bio", "b" * 500, True),
        ("bio", "b" * 501, False),
    ],
)
def test_profile_field_rules(field: str, value: str, valid: bool) -> None:
    user = UserFactory.build(**{field: value})

    if valid:
        user.full_clean()
    else:
        with pytest.raises(ValidationError) as error:
            user.full_clean()
        assert field in error.value.message_dict


def test_profile_defaults() -> None:
    user = UserFactory()

    assert (user.timezone, user.language) == ("UTC", "en")
    assert (user.bio, user.phone, user.first_name, user.last_name) == ("", "", "", "")


def test_login_lookup_ignores_case() -> None:
    user = UserFactory(username="frank")

    assert User.objects.get_by_natural_key("FRANK") == user


def test_createsuperuser_command_creates_a_usable_superuser(monkeypatch) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a long enough admin password")

    call_command(
        "createsuperuser",
        "--noinput",
        "--username",
        "root_admin",
        "--email",
        "Root@Example.com",
        verbosity=0,
    )

    admin = User.objects.get(username="root_admin")
    assert admin.is_superuser
    assert admin.is_staff
    assert admin.email == "root@example.com"
    assert admin.check_password("a long enough admin password")


def test_allauth_email_addresses_point_at_the_user() -> None:
    from allauth.account.models import EmailAddress

    user = UserFactory()
    address = EmailAddress.objects.create(user=user, email=user.email, primary=True)

    assert address.verified is False
    assert list(user.emailaddress_set.all()) == [address]
