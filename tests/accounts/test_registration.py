"""``register/``, ``email/verify/`` and ``email/resend/``."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from unittest import mock

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.hashers import Argon2idPasswordHasher
from accounts.models import AuditEvent, User
from tests.helpers import verification_key

pytestmark = pytest.mark.django_db

PASSWORD = "amber meadows hum with sleepy bees"
REGISTER = "/api/v1/auth/register/"
ARGON2ID_ENCODE = Argon2idPasswordHasher.encode


def register(**fields: str):
    body = {
        "username": "grace",
        "email": "grace@example.com",
        "password": PASSWORD,
        **fields,
    }
    return APIClient().post(REGISTER, body, format="json")


def test_register_creates_an_unverified_account_and_sends_a_verification_link() -> None:
    response = register(display_name="Grace H.")

    assert response.status_code == 201
    user = User.objects.get(username="grace")
    assert response.json()["user"]["id"] == str(user.pk)
    assert response.json()["user"]["display_name"] == "Grace H."
    address = EmailAddress.objects.get(user=user)
    assert (address.email, address.primary, address.verified) == (
        "grace@example.com",
        True,
        False,
    )
    [message] = mail.outbox
    assert message.to == ["grace@example.com"]
    assert "http://localhost:3000/verify-email?key=" in message.body
    assert {alternative[1] for alternative in message.alternatives} == {"text/html"}
    assert AuditEvent.objects.filter(kind="user.registered", target=user).exists()


def test_an_email_with_an_account_gets_the_same_answer_and_its_owner_is_told() -> None:
    first = register()
    mail.outbox.clear()

    second = register(username="impostor", email="GRACE@example.com")

    assert second.status_code == first.status_code == 201
    # Only what the caller typed (the display name defaults to the username) and what is
    # new on every sign-up differ.
    differs = {"id", "username", "email", "display_name", "date_joined", "avatar_url"}
    first_user, second_user = first.json()["user"], second.json()["user"]
    assert set(second_user) == set(first_user)
    assert {key: value for key, value in second_user.items() if key not in differs} == {
        key: value for key, value in first_user.items() if key not in differs
    }
    assert second_user["username"] == second_user["display_name"] == "impostor"
    assert second_user["roles"] == ["user"]
    assert second_user["avatar_url"].endswith(f"/users/{second_user['id']}/avatar/")
    assert not User.objects.filter(username="impostor").exists()
    [message] = mail.outbox
    assert message.to == ["grace@example.com"]
    assert "verify-email" not in message.body


@pytest.mark.parametrize("email_had_an_account", [False, True])
def test_a_username_tried_again_is_taken_whether_or_not_the_email_had_an_account(
    email_had_an_account: bool,
) -> None:
    """Before issue 12 (3b) a sign-up with an address that had an account left its
    username free, so trying the username again told the two apart (201 vs 400)."""
    if email_had_an_account:
        register(username="owner", email="taken@example.com")
    first = register(email="taken@example.com")

    again = register(email="someone.else@example.com")

    assert first.status_code == 201
    assert again.status_code == 400
    assert again.json() == {
        "type": "about:blank",
        "title": "Bad Request",
        "status": 400,
        "code": "validation_error",
        "detail": "This username is taken.",
        "errors": {"username": ["This username is taken."]},
    }
    assert User.objects.filter(username="grace").exists() is not email_had_an_account


# The in-process cache follows the test's clock; Redis expires keys by its own.
@override_settings(
    CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
)
def test_the_reserved_username_is_free_again_once_a_verification_link_would_expire(
    time_machine,
) -> None:
    time_machine.move_to(timezone.now(), tick=False)
    register(username="owner", email="taken@example.com")
    register(email="taken@example.com")

    time_machine.shift(timedelta(days=3, seconds=1))  # EXPIRE_DAYS is 3
    response = register(email="someone.else@example.com")

    assert response.status_code == 201
    assert User.objects.get(username="grace").email == "someone.else@example.com"


@pytest.mark.real_hasher
def test_an_email_with_an_account_costs_one_argon2id_hash_as_a_new_one() -> None:
    with mock.patch.object(
        Argon2idPasswordHasher, "encode", autospec=True, side_effect=ARGON2ID_ENCODE
    ) as encode:
        assert register().status_code == 201
        new = encode.call_count
        assert (
            register(username="impostor", email="grace@example.com").status_code == 201
        )
        existing = encode.call_count - new

    # The same hasher at the same cost: the answer's timing does not tell them apart.
    assert new == existing == 1


@pytest.mark.parametrize(
    "display_name",
    ["evil\u202egnp.exe", "zero\u200bwidth", "two\nlines", "bell\x07"],
)
def test_a_display_name_with_control_or_bidi_characters_is_refused(
    display_name: str,
) -> None:
    response = register(display_name=display_name)

    assert response.status_code == 400
    assert "display_name" in response.json()["errors"]
    assert not User.objects.exists()


@override_settings(DISPLAY_NAME_FREE=False)
def test_without_free_display_names_a_sign_up_takes_the_usernames_spelling() -> None:
    refused = register(display_name="Someone Else")
    accepted = register(display_name="Grace")

    assert refused.status_code == 400
    assert "display_name" in refused.json()["errors"]
    assert accepted.status_code == 201
    assert accepted.json()["user"]["display_name"] == "Grace"


def test_a_taken_username_is_a_field_error() -> None:
    register()

    response = register(email="someone.else@example.com")

    assert response.status_code == 400
    assert response.json()["errors"] == {"username": ["This username is taken."]}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"username": "ab"}, "username"),
        ({"username": "Has-Dash"}, "username"),
        ({"email": "not-an-email"}, "email"),
        ({"password": "short"}, "password"),
        ({"password": "grace grace grace grace"}, "password"),
    ],
)
def test_invalid_fields_are_refused_and_nothing_is_created(
    fields: dict, field: str
) -> None:
    response = register(**fields)

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not User.objects.exists()
    assert mail.outbox == []


@override_settings(ACCOUNT_EMAIL_VERIFICATION="none")
def test_without_verification_a_sign_up_sends_no_link() -> None:
    response = register()

    assert response.status_code == 201
    assert mail.outbox == []
    assert AuditEvent.objects.filter(kind="user.registered").exists()


def test_username_case_is_folded() -> None:
    response = register(username="GraceHopper")

    assert response.status_code == 201
    assert response.json()["user"]["username"] == "gracehopper"


@override_settings(REGISTRATION_OPEN=False)
def test_registration_can_be_closed() -> None:
    response = register()

    assert response.status_code == 403
    assert response.json()["code"] == "registration_closed"
    assert not User.objects.exists()


def test_verification_link_works_once() -> None:
    register()
    key = verification_key(mail.outbox[0])
    client = APIClient()

    assert (
        client.post(
            "/api/v1/auth/email/verify/", {"key": key}, format="json"
        ).status_code
        == 200
    )
    reused = client.post("/api/v1/auth/email/verify/", {"key": key}, format="json")

    assert reused.status_code == 400
    assert reused.json()["code"] == "invalid_key"


@pytest.mark.parametrize("key", ["garbage", "a" * 60, "MQ:1abc:xyz"])
def test_a_wrong_verification_key_is_invalid_key(key: str) -> None:
    response = APIClient().post(
        "/api/v1/auth/email/verify/", {"key": key}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_key"


def test_an_expired_verification_key_is_invalid_key(time_machine) -> None:
    register()
    key = verification_key(mail.outbox[0])

    time_machine.move_to(timezone.now(), tick=False)

    time_machine.shift(60 * 60 * 24 * 4)  # EMAIL_VERIFICATION_EXPIRE_DAYS is 3
    response = APIClient().post(
        "/api/v1/auth/email/verify/", {"key": key}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_key"


def test_resend_answers_202_for_known_and_unknown_addresses_alike() -> None:
    register()
    mail.outbox.clear()
    client = APIClient()

    known = client.post(
        "/api/v1/auth/email/resend/", {"email": "grace@example.com"}, format="json"
    )
    unknown = client.post(
        "/api/v1/auth/email/resend/", {"email": "nobody@example.com"}, format="json"
    )

    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    [message] = mail.outbox
    assert message.to == ["grace@example.com"]


@pytest.mark.django_db(transaction=True)  # threads on their own connections
@pytest.mark.skipif(connection.vendor == "sqlite", reason="SQLite serialises writers")
def test_concurrent_sign_ups_with_one_username_create_one_account() -> None:
    statuses = _race(
        lambda number: {"username": "racer", "email": f"racer{number}@example.com"}
    )

    assert statuses.count(201) == 1
    assert sorted(statuses)[1:] == [400] * 4
    assert User.objects.filter(username="racer").count() == 1


@pytest.mark.django_db(transaction=True)  # threads on their own connections
@pytest.mark.skipif(connection.vendor == "sqlite", reason="SQLite serialises writers")
def test_concurrent_sign_ups_with_one_email_end_with_one_account() -> None:
    statuses = _race(
        lambda number: {"username": f"racer{number}", "email": "race@example.com"}
    )

    assert statuses == [201] * 5
    assert User.objects.filter(email="race@example.com").count() == 1


def _race(fields_for) -> list[int]:
    statuses: list[int] = []
    barrier = threading.Barrier(5)

    def sign_up(number: int) -> None:
        barrier.wait()
        statuses.append(register(**fields_for(number)).status_code)
        connection.close()

    threads = [threading.Thread(target=sign_up, args=(n,)) for n in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


@contextmanager
def another_sign_up_commits_first(**fields: str) -> Iterator[list]:
    """When a sign-up has passed its checks and opens the transaction that inserts its
    account, another sign-up takes the username or the address first: the race that the
    unique constraints decide. The list holds the other sign-up's answer."""
    answers: list = []
    raced: list[bool] = []
    enter = transaction.Atomic.__enter__

    def enter_after_the_other_sign_up(atomic: transaction.Atomic) -> None:
        if not raced:
            raced.append(True)
            answers.append(register(**fields))
        enter(atomic)

    with mock.patch.object(
        transaction.Atomic, "__enter__", enter_after_the_other_sign_up
    ):
        yield answers


def test_losing_a_race_for_a_username_is_the_taken_username_error() -> None:
    with another_sign_up_commits_first(email="winner@example.com") as answers:
        response = register()

    assert answers[0].status_code == 201
    assert response.status_code == 400
    assert response.json()["errors"] == {"username": ["This username is taken."]}
    assert list(User.objects.values_list("email", flat=True)) == ["winner@example.com"]


def test_losing_a_race_for_an_email_answers_as_a_sign_up_and_tells_the_owner() -> None:
    with another_sign_up_commits_first(username="winner") as answers:
        response = register()

    assert answers[0].status_code == 201
    assert response.status_code == 201
    assert response.json()["user"]["username"] == "grace"
    assert list(User.objects.values_list("username", flat=True)) == ["winner"]
    verification, already_exists = mail.outbox
    assert "verify-email" in verification.body
    assert already_exists.to == ["grace@example.com"]
    assert "verify-email" not in already_exists.body


def test_a_stand_in_reads_as_the_new_account_it_pretends_to_be(
    user_client: APIClient,
) -> None:
    """The stand-in's id is in the answer: its public profile and its avatar (both
    readable by anyone who has the id) must answer as a new account's do, or they would
    tell that the address had an account."""
    real = register(username="newcomer", email="new@example.com").json()["user"]
    register(username="owner", email="taken@example.com")
    stand_in = register(username="prober", email="TAKEN@example.com").json()["user"]
    anonymous = APIClient()

    for account in (real, stand_in):
        avatar = anonymous.get(f"/api/v1/users/{account['id']}/avatar/")
        assert (avatar.status_code, avatar["Content-Type"]) == (200, "image/png")
        profile = user_client.get(f"/api/v1/users/{account['id']}/")
        assert profile.status_code == 200
        assert set(profile.json()) == {
            "id",
            "username",
            "display_name",
            "avatar_url",
            "bio",
        }
        assert profile.json()["username"] == account["username"]
    assert not User.objects.filter(pk=stand_in["id"]).exists()
    # Unknown ids stay unknown.
    assert anonymous.get(f"/api/v1/users/{uuid.uuid4()}/avatar/").status_code == 404
