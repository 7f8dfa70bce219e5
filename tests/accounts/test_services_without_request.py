"""Services called outside a request (a command, a job, the shell): no allauth context.

The views run inside allauth's middleware, which puts the request in
``allauth.core.context``; these call the services with no request anywhere and check that
allauth's flows and mails still work (their address and user agent are then left out).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from urllib.parse import unquote

import pytest
from allauth.account.models import EmailAddress
from allauth.core import context as allauth_context
from django.core import mail

from accounts.models import AuditEvent, User
from accounts.services.deletion import user_delete_own
from accounts.services.password import (
    password_change,
    password_reset_confirm,
    password_reset_request,
)
from accounts.services.profile import email_change_request
from accounts.services.registration import (
    email_verification_resend,
    email_verify,
    user_register,
)
from config.client import SYSTEM
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "amber meadows hum with sleepy bees"


@pytest.fixture(autouse=True)
def _no_request() -> None:
    assert allauth_context.request is None


def sent(capture: Callable, call: Callable[[], object]) -> list[mail.EmailMessage]:
    """Run ``call``, commit, and return the mail it sent."""
    mail.outbox.clear()
    with capture(execute=True):
        call()
    return list(mail.outbox)


def verification_key(message: mail.EmailMessage) -> str:
    match = re.search(r"/verify-email\?key=([^\s\"<&]+)", message.body)
    assert match, message.body
    return unquote(match.group(1))


def test_sign_up_and_verify_without_a_request(
    django_capture_on_commit_callbacks: Callable,
) -> None:
    [message] = sent(
        django_capture_on_commit_callbacks,
        lambda: user_register(
            username="grace",
            email="grace@example.com",
            password=NEW_PASSWORD,
            client=SYSTEM,
        ),
    )
    assert message.to == ["grace@example.com"]

    user = email_verify(key=verification_key(message), client=SYSTEM)

    assert EmailAddress.objects.get(user=user).verified
    event = AuditEvent.objects.get(kind="email.verified", target=user)
    assert (event.ip, event.user_agent) == (None, "")


def test_a_taken_address_is_told_without_a_request(
    user: User, django_capture_on_commit_callbacks: Callable
) -> None:
    [message] = sent(
        django_capture_on_commit_callbacks,
        lambda: user_register(
            username="someone_new",
            email=user.email,
            password=NEW_PASSWORD,
            client=SYSTEM,
        ),
    )

    assert message.to == [user.email]
    assert not User.objects.filter(username="someone_new").exists()


def test_verification_resend_without_a_request(
    django_capture_on_commit_callbacks: Callable,
) -> None:
    account = User.objects.create_user("ada", "ada@example.com", NEW_PASSWORD)
    EmailAddress.objects.create(user=account, email=account.email, primary=True)

    [message] = sent(
        django_capture_on_commit_callbacks,
        lambda: email_verification_resend(email="ADA@example.com"),
    )

    assert message.to == ["ada@example.com"]


def test_password_reset_without_a_request(
    user: User, django_capture_on_commit_callbacks: Callable
) -> None:
    [link] = sent(
        django_capture_on_commit_callbacks,
        lambda: password_reset_request(email=user.email, client=SYSTEM),
    )
    token = unquote(re.search(r"token=([^\s\"<&]+)", link.body).group(1))

    [notice] = sent(
        django_capture_on_commit_callbacks,
        lambda: password_reset_confirm(
            token=token, new_password=NEW_PASSWORD, client=SYSTEM
        ),
    )

    assert notice.to == [user.email]
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_password_change_without_a_request(
    user: User, django_capture_on_commit_callbacks: Callable
) -> None:
    [notice] = sent(
        django_capture_on_commit_callbacks,
        lambda: password_change(
            actor=user,
            current_password=DEFAULT_PASSWORD,
            new_password=NEW_PASSWORD,
            current_session_id=uuid.uuid4(),
            client=SYSTEM,
        ),
    )

    assert notice.to == [user.email]


def test_email_change_and_its_confirmation_without_a_request(
    user: User, django_capture_on_commit_callbacks: Callable
) -> None:
    previous = user.email
    [link] = sent(
        django_capture_on_commit_callbacks,
        lambda: email_change_request(
            actor=user,
            new_email="new.address@example.com",
            password=DEFAULT_PASSWORD,
            client=SYSTEM,
        ),
    )
    assert link.to == ["new.address@example.com"]

    [notice] = sent(
        django_capture_on_commit_callbacks,
        lambda: email_verify(key=verification_key(link), client=SYSTEM),
    )

    assert notice.to == [previous]  # allauth's "your address changed"
    user.refresh_from_db()
    assert user.email == "new.address@example.com"


def test_own_deletion_without_a_request(
    user: User, django_capture_on_commit_callbacks: Callable
) -> None:
    [notice] = sent(
        django_capture_on_commit_callbacks,
        lambda: user_delete_own(actor=user, password=DEFAULT_PASSWORD, client=SYSTEM),
    )

    assert notice.to == [user.email]
    user.refresh_from_db()
    assert user.username.startswith("deleted_")
