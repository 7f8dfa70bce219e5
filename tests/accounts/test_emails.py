"""Account email: rendered in both parts, linking to the frontend, queued after commit."""

from __future__ import annotations

import json
import re
import smtplib
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.account.adapter import get_adapter
from allauth.account.forms import ResetPasswordForm
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from allauth.account.utils import user_pk_to_url_str
from allauth.core.context import request_context
from django.contrib.auth.models import AnonymousUser
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.locmem import EmailBackend
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.emails import LOGIN_LOCKED_EMAIL, AccountAdapter, send_account_email
from accounts.emails.tasks import email_payload, send_email
from accounts.models import User
from config.celery import app as celery_app
from tests.factories import UserFactory

LOCK_CONTEXT = {"attempts": 10, "minutes": 15}


def html_part(message: EmailMultiAlternatives) -> str:
    [(content, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return content


def links(text: str) -> list[str]:
    return re.findall(r"https?://[^\s<>\"]+", text)


# --- Gatehouse's own emails ----------------------------------------------------------------


@pytest.mark.django_db
def test_send_account_email_sends_one_message_with_text_and_html(
    user: User, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        send_account_email(
            template_prefix=LOGIN_LOCKED_EMAIL, user=user, context=LOCK_CONTEXT
        )
        # Nothing leaves before the transaction commits.
        assert mailoutbox == []

    [message] = mailoutbox
    assert message.to == [user.email]
    assert message.subject == "[Gatehouse] Sign-in to your account is paused"
    assert message.body.startswith(f"Hi {user.display_name},")
    assert "10 failed sign-in attempts" in message.body
    assert "paused for 15 minutes" in message.body
    assert "http://localhost:3000/reset-password" in links(message.body)
    html = html_part(message)
    assert "<strong>10 failed sign-in attempts</strong>" in html
    assert 'href="http://localhost:3000/reset-password"' in html


@pytest.mark.django_db
def test_send_account_email_names_the_request_it_came_from(
    user: User,
    allauth_request: HttpRequest,
    mailoutbox,
    django_capture_on_commit_callbacks,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        send_account_email(
            template_prefix=LOGIN_LOCKED_EMAIL, user=user, context=LOCK_CONTEXT
        )

    [message] = mailoutbox
    assert "- IP address: 203.0.113.5" in message.body
    assert "- Device: Unknown browser" in message.body  # TestBrowser/1.0 is no browser


@pytest.mark.django_db
def test_send_account_email_without_a_request_leaves_the_address_out(
    user: User, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        send_account_email(
            template_prefix=LOGIN_LOCKED_EMAIL, user=user, context=LOCK_CONTEXT
        )

    [message] = mailoutbox
    assert "- When: " in message.body
    assert "IP address" not in message.body
    assert "Device" not in message.body


@pytest.mark.django_db
def test_send_account_email_goes_to_the_primary_address(
    mailoutbox, django_capture_on_commit_callbacks
) -> None:
    user = UserFactory()
    EmailAddress.objects.create(
        user=user, email="primary@example.com", primary=True, verified=True
    )

    with django_capture_on_commit_callbacks(execute=True):
        send_account_email(
            template_prefix=LOGIN_LOCKED_EMAIL, user=user, context=LOCK_CONTEXT
        )

    assert [message.to for message in mailoutbox] == [["primary@example.com"]]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_sends_nothing(mailoutbox) -> None:
    user = UserFactory()

    def request_that_fails() -> None:
        with transaction.atomic():
            send_account_email(
                template_prefix=LOGIN_LOCKED_EMAIL, user=user, context=LOCK_CONTEXT
            )
            raise RuntimeError("the request failed")

    with pytest.raises(RuntimeError, match="the request failed"):
        request_that_fails()

    assert mailoutbox == []


@pytest.mark.django_db(transaction=True)
def test_a_committed_transaction_sends_after_the_commit(mailoutbox) -> None:
    user = UserFactory()

    with transaction.atomic():
        send_account_email(
            template_prefix=LOGIN_LOCKED_EMAIL, user=user, context=LOCK_CONTEXT
        )
        assert mailoutbox == []

    assert len(mailoutbox) == 1


# --- allauth's emails through the adapter ----------------------------------------------------


def test_the_adapter_is_allauths() -> None:
    assert isinstance(get_adapter(), AccountAdapter)


@pytest.mark.django_db
def test_adapter_send_mail_sends_one_message_with_text_and_html(
    mailoutbox, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        get_adapter().send_mail(
            "account/email/account_already_exists", "someone@example.com", {}
        )

    [message] = mailoutbox
    assert message.to == ["someone@example.com"]
    assert message.subject.startswith("[Gatehouse] ")
    assert "Gatehouse" in message.body
    assert "<!DOCTYPE html>" in html_part(message)


@pytest.mark.django_db
@pytest.mark.parametrize("signup", [True, False])
def test_the_confirmation_link_points_at_the_frontend(
    user: User,
    signup: bool,
    settings,
    allauth_request: HttpRequest,
    mailoutbox,
    django_capture_on_commit_callbacks,
    time_machine,
) -> None:
    # The key is signed with the current second: a second boundary between the email and
    # the assertion would change it.
    time_machine.move_to("2026-11-21T12:00:00Z", tick=False)
    settings.FRONTEND_URL = "https://app.example.org"
    address = EmailAddress.objects.get(user=user, primary=True)
    confirmation = EmailConfirmationHMAC(address)

    with django_capture_on_commit_callbacks(execute=True):
        get_adapter().send_confirmation_mail(allauth_request, confirmation, signup)

    [message] = mailoutbox
    assert message.to == [user.email]
    assert message.subject == "[Gatehouse] Confirm your email address"
    [link] = [url for url in links(message.body) if "/verify-email" in url]
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        "https://app.example.org/verify-email"
    )
    assert parse_qs(parts.query) == {"key": [confirmation.key]}
    assert f'href="{link}"' in html_part(message)


@pytest.mark.django_db
def test_the_reset_link_points_at_the_frontend(
    user: User,
    allauth_request: HttpRequest,
    mailoutbox,
    django_capture_on_commit_callbacks,
) -> None:
    form = ResetPasswordForm(data={"email": user.email})
    assert form.is_valid(), form.errors

    with django_capture_on_commit_callbacks(execute=True):
        form.save(allauth_request)

    [message] = mailoutbox
    assert message.subject == "[Gatehouse] Reset your password"
    [link] = [url for url in links(message.body) if "token=" in url]
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        "http://localhost:3000/reset-password"
    )
    [token] = parse_qs(parts.query)["token"]
    assert token.startswith(f"{user_pk_to_url_str(user)}-")
    assert f'href="{link}"' in html_part(message)


def test_links_encode_their_key() -> None:
    adapter = get_adapter()

    assert adapter.get_reset_password_from_key_url("a b&c") == (
        "http://localhost:3000/reset-password?token=a+b%26c"
    )


@pytest.mark.django_db
def test_account_already_exists_links_the_reset_page_and_greets_nobody(
    mailoutbox, django_capture_on_commit_callbacks, allauth_request: HttpRequest
) -> None:
    # Whoever is signed in to the request is not the address's owner.
    allauth_request.user = UserFactory(display_name="Somebody Else")

    with django_capture_on_commit_callbacks(execute=True):
        get_adapter().send_account_already_exists_mail("owner@example.com")

    [message] = mailoutbox
    assert message.body.startswith("Hello,")
    assert "Somebody Else" not in message.body
    assert "Somebody Else" not in html_part(message)
    assert "http://localhost:3000/reset-password" in links(message.body)


@pytest.mark.django_db
def test_a_notification_without_a_request_greets_the_user(
    user: User, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        get_adapter().send_notification_mail("account/email/password_changed", user)

    [message] = mailoutbox
    assert message.subject == "[Gatehouse] Your password was changed"
    assert message.body.startswith(f"Hi {user.display_name},")


@pytest.mark.django_db
def test_a_notification_names_the_client_behind_a_trusted_proxy(
    user: User, rf, settings, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    request.user = AnonymousUser()

    with request_context(request), django_capture_on_commit_callbacks(execute=True):
        get_adapter().send_notification_mail("account/email/password_reset", user)

    [message] = mailoutbox
    assert "- IP address: 198.51.100.7" in message.body


@pytest.mark.parametrize("is_open", [True, False])
def test_signup_follows_registration_open(is_open: bool, settings) -> None:
    settings.REGISTRATION_OPEN = is_open

    assert get_adapter().is_open_for_signup(HttpRequest()) is is_open


TEMPLATE_CONTEXTS = {
    "email_confirmation_signup": {"activate_url": "https://app.example.org/v?key=k"},
    "email_confirmation": {"activate_url": "https://app.example.org/v?key=k"},
    "account_already_exists": {"password_reset_url": "https://app.example.org/r"},
    "password_reset_key": {
        "password_reset_url": "https://app.example.org/r?token=t",
        "username": "ada",
    },
    "password_changed": {},
    "password_reset": {},
    "email_changed": {"from_email": "old@example.com", "to_email": "new@example.com"},
    "login_locked": LOCK_CONTEXT,
}


@pytest.mark.parametrize("name", TEMPLATE_CONTEXTS)
def test_every_email_renders_a_subject_a_text_and_an_html_part(name: str) -> None:
    user = User(username="ada", display_name="Ada <O'Neil>", email="ada@example.com")
    context = {
        "user": None if name == "account_already_exists" else user,
        "email": user.email,
        "site_name": "Gatehouse",
        "frontend_url": "https://app.example.org",
        "password_reset_page_url": "https://app.example.org/reset-password",
        "timestamp": timezone.now(),
        "ip": "203.0.113.5",
        "user_agent": "TestBrowser/1.0",
        **TEMPLATE_CONTEXTS[name],
    }

    message = get_adapter().render_mail(f"account/email/{name}", user.email, context)

    assert message.subject.startswith("[Gatehouse] ")
    assert "\n" not in message.subject
    html = html_part(message)
    for part in (message.body, html):
        assert "Gatehouse" in part
        assert "{{" not in part
        assert "{%" not in part
    assert "<p" not in message.body
    assert html.startswith("<!DOCTYPE html>")
    # Names are escaped in HTML only.
    greets_the_user = context["user"] is not None
    assert message.body.startswith("Hi Ada <O'Neil>," if greets_the_user else "Hello,")
    assert ("Hi Ada &lt;O&#x27;Neil&gt;," in html) is greets_the_user


# --- The sending task ------------------------------------------------------------------------


def sample_message() -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        "[Gatehouse] Subject",
        "Plain text",
        "Gatehouse <noreply@localhost>",
        ["ada@example.com"],
        headers={"X-Gatehouse": "yes"},
    )
    message.attach_alternative("<p>HTML</p>", "text/html")
    return message


def test_the_payload_is_json_and_rebuilds_the_same_message(mailoutbox) -> None:
    payload = json.loads(json.dumps(email_payload(sample_message())))

    send_email.delay(payload)

    [message] = mailoutbox
    assert message.subject == "[Gatehouse] Subject"
    assert message.body == "Plain text"
    assert message.from_email == "Gatehouse <noreply@localhost>"
    assert message.to == ["ada@example.com"]
    assert message.extra_headers == {"X-Gatehouse": "yes"}
    assert html_part(message) == "<p>HTML</p>"


@pytest.fixture
def worker_like_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run tasks inline but retry them as a worker does.

    Tests propagate a task's exceptions to the caller (``CELERY_TASK_EAGER_PROPAGATES``),
    and Celery then raises ``Retry`` instead of running the retries.
    """
    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", False)


@pytest.mark.usefixtures("worker_like_retries")
def test_the_task_retries_after_an_smtp_error(mailoutbox) -> None:
    send_messages = EmailBackend.send_messages
    attempts: list[int] = []

    def fails_once(backend: EmailBackend, messages: list) -> int:
        attempts.append(len(messages))
        if len(attempts) == 1:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return send_messages(backend, messages)

    with mock.patch.object(EmailBackend, "send_messages", fails_once):
        result = send_email.delay(email_payload(sample_message()))

    assert result.successful()
    assert attempts == [1, 1]
    assert len(mailoutbox) == 1


@pytest.mark.usefixtures("worker_like_retries")
def test_the_task_gives_up_after_five_retries(mailoutbox) -> None:
    error = smtplib.SMTPException("mail is down")

    with mock.patch.object(EmailBackend, "send_messages", side_effect=error) as send:
        result = send_email.delay(email_payload(sample_message()))

    assert result.failed()
    assert isinstance(result.result, smtplib.SMTPException)
    assert send.call_count == 6
    assert mailoutbox == []


def test_other_errors_are_not_retried(mailoutbox) -> None:
    error = ValueError("not a mail server error")

    with (
        mock.patch.object(EmailBackend, "send_messages", side_effect=error) as send,
        pytest.raises(ValueError, match="not a mail server error"),
    ):
        send_email.delay(email_payload(sample_message()))

    assert send.call_count == 1
