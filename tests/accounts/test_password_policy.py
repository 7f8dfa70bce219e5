"""The password policy: each rule through ``validate_password``, with its error code."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from zxcvbn import zxcvbn

from accounts.models import PasswordHistory, User
from accounts.password_strength import STRENGTH_WINDOW, password_strength
from accounts.passwords import PasswordHistoryValidator, StrengthValidator
from accounts.services.password import password_history_record
from tests.factories import DEFAULT_PASSWORD, UserFactory

STRONG_PASSPHRASE = "quiet violet kettle marches north"
LONG_PASSPHRASE = (
    "quiet violet kettle marches north under amber lanterns while seven copper "
    "herons argue about the ferry timetable beside a sleepy lighthouse"
)
# Every symbol zxcvbn reads as a letter: 736 l33t substitution tables to try.
L33T_SYMBOLS = "4@8({[<3691!|70$5+%2"


def error_codes(password: str, user: User | None = None) -> list[str]:
    try:
        validate_password(password, user)
    except ValidationError as error:
        return [item.code for item in error.error_list]
    return []


@pytest.mark.parametrize(
    ("password", "codes"),
    [
        pytest.param("Xq7!vR2#mK9@pL4", [], id="15 random characters"),
        pytest.param("Xq7!vR2#mK9@pL", ["password_too_short"], id="14 characters"),
        pytest.param(LONG_PASSPHRASE[:128], [], id="128 characters"),
        pytest.param(LONG_PASSPHRASE[:129], ["password_too_long"], id="129 characters"),
        pytest.param(
            "1q2w3e4r5t6y7u8i",
            ["password_too_common", "password_too_weak"],
            id="on the common list",
        ),
        pytest.param("password123password", ["password_too_weak"], id="common words"),
        pytest.param(
            "aaaaaaaaaaaaaaaa", ["password_too_weak"], id="one repeated letter"
        ),
        pytest.param("abcdefghijklmnopq", ["password_too_weak"], id="a sequence"),
        pytest.param(STRONG_PASSPHRASE, [], id="passphrase"),
        pytest.param(
            "aaaaaaa",
            ["password_too_short", "password_too_common", "password_too_weak"],
            id="every broken rule is reported",
        ),
    ],
)
def test_password_rules(password: str, codes: list[str]) -> None:
    assert error_codes(password) == codes


@pytest.mark.django_db
def test_a_strong_passphrase_is_accepted_for_a_user(user: User) -> None:
    assert error_codes(STRONG_PASSPHRASE, user) == []


@pytest.mark.django_db
def test_a_password_like_the_username_is_refused() -> None:
    user = UserFactory(username="margaret_thornbury")

    assert "password_too_similar" in error_codes("margaret_thornbury1", user)


@pytest.mark.django_db
def test_strength_counts_the_users_own_details_as_guessable() -> None:
    # An uncommon name is strong for anyone else, weak for its owner.
    password = "zanzibarquokka2024!"
    owner = UserFactory(username="zanzibarquokka")

    StrengthValidator(min_score=3).validate(password, UserFactory())
    with pytest.raises(ValidationError) as refused:
        StrengthValidator(min_score=3).validate(password, owner)

    assert refused.value.code == "password_too_weak"


def test_a_weak_password_is_told_why() -> None:
    with pytest.raises(ValidationError) as refused:
        StrengthValidator(min_score=3).validate("aaaaaaaaaaaaaaaa")

    assert refused.value.messages == [
        'This password is too easy to guess. Repeats like "aaa" are easy to guess. '
        "Add another word or two. Uncommon words are better. "
        "Avoid repeated words and characters."
    ]


def test_too_long_names_the_limit() -> None:
    with pytest.raises(ValidationError) as refused:
        validate_password("x" * 129)

    assert "at most 128 characters" in refused.value.messages[0]


@pytest.mark.parametrize(
    "password",
    [
        "p@ssw0rd",
        "P4$$w0rd1234567",
        "Tr0ub4dor&3",
        "correct horse battery staple",
        "j0hn_sm1th_1990!",
        "user_7user_7user_7",
        "qwertyuiopasdfgh",
        "19901231abcabc",
        "aabaabaab",  # a repeat whose unit repeats itself
        "zanzibarquokka2024!",
        "Xq7!vR2#mK9@pL4",
    ],
)
def test_scores_match_zxcvbn_within_the_bounds(password: str) -> None:
    user_inputs = ["user_7", "user_7@example.com", "zanzibarquokka"]

    strength = password_strength(password, user_inputs=user_inputs)

    assert strength.score == zxcvbn(password, user_inputs=user_inputs)["score"]


def test_a_stricter_minimum_refuses_without_advice_when_zxcvbn_has_none() -> None:
    # zxcvbn gives advice only below score 3; this passphrase scores exactly 3.
    assert password_strength("violet kettle").score == 3

    with pytest.raises(ValidationError) as refused:
        StrengthValidator(min_score=4).validate("violet kettle")

    assert refused.value.messages == ["This password is too easy to guess."]


def test_only_the_first_characters_are_scored() -> None:
    weak_start = "a" * STRENGTH_WINDOW + "Xq7!vR2#mK9@pL4 quiet violet"

    assert password_strength(weak_start).score == 0


def test_the_slowest_inputs_are_scored_quickly() -> None:
    # zxcvbn() itself takes several seconds on this password; the bounds keep it to
    # milliseconds. The limit is loose so that a busy CI machine does not fail it.
    password = (L33T_SYMBOLS * 7)[:128]

    started = time.perf_counter()
    StrengthValidator(min_score=3).validate(password)
    elapsed = time.perf_counter() - started

    assert elapsed < 0.5


# --- History -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_current_password_cannot_be_reused(user: User) -> None:
    assert error_codes(DEFAULT_PASSWORD, user) == ["password_reused"]


@pytest.mark.django_db
def test_a_password_from_the_history_cannot_be_reused(user: User) -> None:
    old_password = "an old passphrase from last spring"
    password_history_record(user=user, encoded_password=make_password(old_password))

    assert error_codes(old_password, user) == ["password_reused"]


@pytest.mark.django_db
def test_only_the_last_history_size_passwords_are_refused(user: User) -> None:
    # Given three remembered passwords, oldest first
    for password in ("first", "second", "third"):
        PasswordHistory.objects.create(user=user, password=make_password(password))
    validator = PasswordHistoryValidator(history_size=2)

    # Then the two newest are refused and the oldest is allowed again
    validator.validate("first", user)
    for password in ("second", "third"):
        with pytest.raises(ValidationError) as refused:
            validator.validate(password, user)
        assert refused.value.code == "password_reused"


@pytest.mark.django_db
def test_without_history_only_the_current_password_is_refused(user: User) -> None:
    old_password = "an old passphrase from last spring"
    password_history_record(user=user, encoded_password=make_password(old_password))
    validator = PasswordHistoryValidator(history_size=0)

    validator.validate(old_password, user)
    with pytest.raises(ValidationError):
        validator.validate(DEFAULT_PASSWORD, user)
    assert validator.get_help_text() == (
        "Your password must differ from your current password."
    )


@pytest.mark.django_db
def test_a_user_being_created_has_no_history(django_assert_num_queries) -> None:
    user = User(username="newcomer", email="newcomer@example.com")

    with django_assert_num_queries(0):
        PasswordHistoryValidator(history_size=5).validate(STRONG_PASSPHRASE, user)


@pytest.mark.django_db
def test_history_is_pruned_to_the_setting_with_one_delete(
    user: User, settings, django_assert_max_num_queries
) -> None:
    settings.PASSWORD_HISTORY_SIZE = 3
    hashes = [f"argon2$fake${number}" for number in range(5)]
    for encoded in hashes[:4]:
        password_history_record(user=user, encoded_password=encoded)

    with django_assert_max_num_queries(4) as captured:
        password_history_record(user=user, encoded_password=hashes[4])

    deletes = [query for query in captured if query["sql"].startswith("DELETE")]
    assert len(deletes) == 1
    assert list(user.password_history.values_list("password", flat=True)) == [
        hashes[4],
        hashes[3],
        hashes[2],
    ]


@pytest.mark.django_db
def test_pruning_keeps_other_users_history(user: User, settings) -> None:
    settings.PASSWORD_HISTORY_SIZE = 1
    other = UserFactory()
    PasswordHistory.objects.create(user=other, password="argon2$fake$other")

    password_history_record(user=user, encoded_password="argon2$fake$1")
    password_history_record(user=user, encoded_password="argon2$fake$2")

    assert user.password_history.count() == 1
    assert other.password_history.count() == 1


@pytest.mark.django_db
def test_a_history_size_of_zero_keeps_nothing(user: User, settings) -> None:
    PasswordHistory.objects.create(user=user, password="argon2$fake$old")
    settings.PASSWORD_HISTORY_SIZE = 0

    password_history_record(user=user, encoded_password="argon2$fake$new")

    assert not user.password_history.exists()
