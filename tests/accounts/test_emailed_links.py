"""``password/reset/`` and ``email/resend/`` cost the same for every address: the work only
known addresses need (the lookup, a token, the audit, the mail) runs after the answer."""

from __future__ import annotations

from collections.abc import Callable
from unittest import mock

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.db import connection
from django.http import HttpResponseBase
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts import tasks
from accounts.models import AuditEvent, User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

RESET = "/api/v1/auth/password/reset/"
RESEND = "/api/v1/auth/email/resend/"
KNOWN = "pending@example.com"
UNKNOWN = "nobody@example.com"


@pytest.fixture
def pending(db: None) -> User:
    """An active account whose address awaits verification: both endpoints email it."""
    account = UserFactory(email=KNOWN)
    EmailAddress.objects.create(user=account, email=KNOWN, primary=True, verified=False)
    return account


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> list[Callable[[], object]]:
    """What the views leave for after their response, held instead of run."""
    work: list[Callable[[], object]] = []

    def hold(response: HttpResponseBase, callback: Callable[[], object]) -> None:
        work.append(callback)

    monkeypatch.setattr("accounts.api.auth.common.run_after_response", hold)
    return work


def post(path: str, email: str):
    return APIClient(HTTP_USER_AGENT="Firefox/140.0").post(
        path, {"email": email}, format="json"
    )


@pytest.mark.parametrize("path", [RESET, RESEND])
@pytest.mark.parametrize("email", [KNOWN, UNKNOWN])
def test_the_answer_touches_no_account_and_sends_nothing(
    path: str, email: str, pending: User, held: list
) -> None:
    """Before issue 12 (3d) the lookup, the token and the mail ran before the answer, so a
    known address answered about twice as slowly as an unknown one."""
    with CaptureQueriesContext(connection) as queries:
        response = post(path, email)

    assert response.status_code == 202
    assert queries.captured_queries == []  # the same (no) work for every address
    assert mail.outbox == []
    assert not AuditEvent.objects.exists()
    assert len(held) == 1  # one task for every request, known address or not


@pytest.mark.parametrize(
    ("path", "task", "arguments"),
    [
        (
            RESET,
            tasks.send_password_reset,
            {
                "email": UNKNOWN,
                "client": {
                    "ip": "127.0.0.1",
                    "user_agent": "Firefox/140.0",
                    "request_id": mock.ANY,
                },
            },
        ),
        (RESEND, tasks.send_verification_again, {"email": UNKNOWN}),
    ],
)
def test_after_the_answer_one_task_is_queued_even_for_an_unknown_address(
    path: str, task, arguments: dict, held: list
) -> None:
    post(path, UNKNOWN)
    [work] = held

    with mock.patch.object(task, "delay") as delay:
        work()

    delay.assert_called_once_with(**arguments)


@pytest.mark.parametrize(
    ("path", "audited"), [(RESET, ["password.reset_requested"]), (RESEND, [])]
)
def test_after_the_answer_the_known_address_gets_its_mail(
    path: str,
    audited: list,
    pending: User,
    held: list,
    django_capture_on_commit_callbacks,
) -> None:
    post(path, KNOWN)
    [work] = held

    with django_capture_on_commit_callbacks(execute=True):
        work()  # without a broker the task runs inline, here

    [message] = mail.outbox
    assert message.to == [KNOWN]
    events = AuditEvent.objects.filter(target=pending)
    assert [event.kind for event in events] == audited
    assert all(event.user_agent == "Firefox/140.0" for event in events)


@pytest.mark.parametrize("path", [RESET, RESEND])
def test_through_a_server_the_mail_has_gone_when_the_request_is_over(
    path: str, pending: User
) -> None:
    """The test client closes the response as a server does, which runs the work."""
    post(path, KNOWN)

    [message] = mail.outbox
    assert message.to == [KNOWN]
