"""The second step of login under pressure (issue 12, Medium 5): django-otp's throttle
answers 429 instead of calling a right code wrong, an emailed code belongs to the login
that asked for it, emails are spaced by a cooldown, and concurrent wrong codes cannot
outnumber the token's tries.

Before issue 12 a throttled right code answered ``400 mfa_invalid`` and used a try, a
code sent without ``method`` counted a failure on every device, any ``mfa_token`` of the
account could use an emailed code, the code was in the subject and in clear in the
database, every ``login/mfa/email/`` sent a code, and a try was counted only after its
code had been checked: the tests here fail on that code, except those marked as
guarding a rule that already held."""

from __future__ import annotations

import re
import threading
import time
import uuid
from unittest import mock

import pytest
from django.core import mail
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import (
    AuditEvent,
    EmailCodeDevice,
    RecoveryCodeSet,
    TOTPAuthenticator,
    User,
)
from accounts.services.mfa import _reserve_try
from accounts.tokens import MfaClaims, read_mfa_token
from config.error_codes import ApplicationError
from tests.accounts.test_mfa import (
    enable_email_codes,
    enroll_totp,
    password_login,
    second_step,
    totp_code,
)

pytestmark = pytest.mark.django_db


def tries_used(mfa_token: str) -> int:
    return cache.get(f"mfa:attempts:{read_mfa_token(mfa_token).jti}", 0)


def ask_for_email_code(mfa_token: str):
    return APIClient().post(
        "/api/v1/auth/login/mfa/email/", {"mfa_token": mfa_token}, format="json"
    )


def emailed_code(message: mail.EmailMessage) -> str:
    return re.search(r"\b(\d{6})\b", message.body).group(1)


@pytest.fixture
def frozen(time_machine):
    """Time stands still unless a test moves it: django-otp's delays are exact."""
    time_machine.move_to(time.time(), tick=False)
    return time_machine


# --- django-otp's throttle --------------------------------------------------------------


def test_a_right_code_while_codes_are_throttled_answers_429_and_uses_no_try(
    user: User, user_client: APIClient, frozen
) -> None:
    # Given two wrong codes: django-otp now waits 2 seconds before it checks another
    secret, _ = enroll_totp(user_client)
    token = password_login(user)["mfa_token"]
    assert second_step(token, "000000").status_code == 400
    frozen.shift(1)
    assert second_step(token, "000000").status_code == 400

    # When the right code comes before then, again and again
    answers = [second_step(token, totp_code(secret)) for _ in range(6)]

    # Then it is not called wrong: 429 with the wait, no try used, nothing audited
    for answer in answers:
        assert answer.status_code == 429
        assert answer.json()["code"] == "rate_limited"
        assert answer.json()["retry_after"] == 2
        assert answer["Retry-After"] == "2"
    assert tries_used(token) == 2
    assert AuditEvent.objects.filter(kind="login.mfa_failed").count() == 2
    # and once the wait is over, the same code signs in (6 counted tries would have
    # ended the token)
    frozen.shift(2)
    assert second_step(token, totp_code(secret)).status_code == 200


def test_a_recovery_code_without_method_is_not_tried_on_the_app(
    user: User, user_client: APIClient, frozen
) -> None:
    # Given an app whose codes are throttled after a wrong one
    _, codes = enroll_totp(user_client)
    assert second_step(password_login(user)["mfa_token"], "000000").status_code == 400

    # When a recovery code comes without `method`
    answer = second_step(password_login(user)["mfa_token"], codes[0])

    # Then the app's throttle neither holds it up nor counts it as the app's failure
    assert answer.status_code == 200
    app = TOTPAuthenticator.objects.get(user=user)
    assert app.throttling_failure_count == 1


def test_a_recovery_code_without_method_leaves_the_apps_throttle_alone(
    user: User, user_client: APIClient
) -> None:
    _, codes = enroll_totp(user_client)

    assert second_step(password_login(user)["mfa_token"], codes[0]).status_code == 200

    assert TOTPAuthenticator.objects.get(user=user).throttling_failure_count == 0


def test_the_devices_refuse_right_codes_while_throttled_when_called_directly(
    user: User, user_client: APIClient, frozen
) -> None:
    # Guard: the admin's login form (django-otp's) calls verify_token itself, and the
    # models keep refusing while throttled; a code that is no number is a failure
    secret, codes = enroll_totp(user_client)
    app = TOTPAuthenticator.objects.get(user=user)
    recovery = RecoveryCodeSet.objects.get(user=user)
    assert not app.verify_token("not a number")
    assert not recovery.verify_token("wrong")

    assert not app.verify_token(totp_code(secret))
    assert not recovery.verify_token(codes[0])

    assert app.throttling_failure_count == recovery.throttling_failure_count == 1
    assert recovery.codes.count() == 10


# --- concurrent wrong codes -------------------------------------------------------------


def test_concurrent_wrong_codes_check_no_more_codes_than_the_token_has_tries(
    user: User, user_client: APIClient
) -> None:
    # Given one sign-in, and ten requests with wrong codes that all arrive while the
    # others are being checked (each check lets the next requests in before it ends)
    enroll_totp(user_client)
    token = password_login(user)["mfa_token"]
    verify = TOTPAuthenticator.verify_token
    checked: list[str] = []
    answers = []

    def verify_while_the_next_request_arrives(device, code: str) -> bool:
        checked.append(code)
        while len(answers) < 9:
            answers.append(None)  # a place in line, filled when the request ends
            index = len(answers) - 1
            answers[index] = second_step(token, "000000", "totp")
        return verify(device, code)

    # When they run
    with mock.patch.object(
        TOTPAuthenticator,
        "verify_token",
        autospec=True,
        side_effect=verify_while_the_next_request_arrives,
    ):
        answers.append(second_step(token, "000000", "totp"))

    # Then five codes were checked, and the other five requests found the token spent
    assert len(checked) == 5
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [400] * 5 + [401] * 5
    assert AuditEvent.objects.filter(kind="login.mfa_failed").count() == 5


def test_reserving_tries_from_many_threads_at_once_grants_only_five() -> None:
    # Guard: the cache's add+incr under real threads; ten at a barrier, five get a try
    claims = MfaClaims(user_id=uuid.uuid4(), jti="one-sign-in")
    barrier = threading.Barrier(10)
    outcomes: list[str] = []

    def reserve() -> None:
        barrier.wait()
        try:
            _reserve_try(claims)
        except ApplicationError as refused:
            outcomes.append(refused.code)
        else:
            outcomes.append("granted")

    threads = [threading.Thread(target=reserve) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["granted"] * 5 + ["token_invalid"] * 5


# --- emailed codes ----------------------------------------------------------------------


def test_an_emailed_code_works_only_with_the_mfa_token_that_asked_for_it(
    user: User, user_client: APIClient, frozen
) -> None:
    # Given two sign-ins with the password, and a code emailed for the first
    assert enable_email_codes(user_client).status_code == 204
    asking = password_login(user)["mfa_token"]
    other = password_login(user)["mfa_token"]
    mail.outbox.clear()
    assert ask_for_email_code(asking).status_code == 202
    code = emailed_code(mail.outbox[-1])

    # When the other sign-in sends the code (with or without `method`)
    with_method = second_step(other, code, "email")
    frozen.shift(1)  # django-otp's delay after that wrong code
    without_method = second_step(other, code)

    # Then it is wrong there, and still good for the sign-in that asked for it, once
    assert with_method.status_code == 400
    assert with_method.json()["code"] == "mfa_invalid"
    assert without_method.status_code == 400
    frozen.shift(2)
    assert second_step(asking, code, "email").status_code == 200
    assert second_step(password_login(user)["mfa_token"], code).status_code == 400


def test_the_database_does_not_hold_the_emailed_code(
    user: User, user_client: APIClient
) -> None:
    assert enable_email_codes(user_client).status_code == 204
    mail.outbox.clear()

    assert ask_for_email_code(password_login(user)["mfa_token"]).status_code == 202

    stored = EmailCodeDevice.objects.get(user=user).token
    assert stored
    assert emailed_code(mail.outbox[-1]) not in stored


def test_the_emailed_code_is_in_the_body_not_the_subject(
    user: User, user_client: APIClient
) -> None:
    assert enable_email_codes(user_client).status_code == 204
    mail.outbox.clear()

    assert ask_for_email_code(password_login(user)["mfa_token"]).status_code == 202

    [message] = mail.outbox
    code = emailed_code(message)
    assert code not in message.subject
    assert message.subject.endswith("Your sign-in code")
    assert all(code in html for html, _ in message.alternatives)


def test_another_code_is_emailed_only_after_the_cooldown(
    user: User, user_client: APIClient, frozen
) -> None:
    # Given a code just emailed
    assert enable_email_codes(user_client).status_code == 204
    token = password_login(user)["mfa_token"]
    mail.outbox.clear()
    assert ask_for_email_code(token).status_code == 202
    first_code = emailed_code(mail.outbox[-1])

    # When this sign-in, or another, asks again within the 60 seconds
    frozen.shift(20)
    again = ask_for_email_code(token)
    other = ask_for_email_code(password_login(user)["mfa_token"])

    # Then nothing is sent, and the answer says how long to wait
    for answer in (again, other):
        assert answer.status_code == 429
        assert answer.json()["code"] == "rate_limited"
        assert answer["Retry-After"] == "40"
    assert len(mail.outbox) == 1
    # and after the cooldown a new code replaces the first
    frozen.shift(41)
    assert ask_for_email_code(token).status_code == 202
    assert len(mail.outbox) == 2
    new_code = emailed_code(mail.outbox[-1])
    if new_code != first_code:  # one in a million draws the same code
        assert second_step(token, first_code, "email").status_code == 400
        frozen.shift(1)
    assert second_step(token, new_code, "email").status_code == 200


def test_signing_in_with_an_emailed_code_ends_its_cooldown(
    user: User, user_client: APIClient
) -> None:
    assert enable_email_codes(user_client).status_code == 204
    token = password_login(user)["mfa_token"]
    mail.outbox.clear()
    assert ask_for_email_code(token).status_code == 202
    assert second_step(token, emailed_code(mail.outbox[-1])).status_code == 200

    # Guard: the next sign-in may ask at once (django-otp's cooldown_reset on success)
    assert ask_for_email_code(password_login(user)["mfa_token"]).status_code == 202
    assert len(mail.outbox) == 2
