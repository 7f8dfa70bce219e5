"""Security emails name the device ("Chrome on Windows"), never quote the raw User-Agent:
some of them anyone can trigger, with any header (issue 12, Low)."""

from __future__ import annotations

import pytest
from allauth.account.adapter import get_adapter
from allauth.core.context import request_context
from django.core import mail
from django.test import RequestFactory
from rest_framework.test import APIClient

from accounts.emails.devices import device_description
from accounts.models import AuditEvent, User

ATTACKER = "<a href=http://evil.example>Click</a> Chrome PleaseCallUs bot +1 555 0100"
WINDOWS_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)


@pytest.mark.parametrize(
    ("user_agent", "description"),
    [
        (WINDOWS_CHROME, "Chrome on Windows"),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.0 Safari/605.1.15",
            "Safari on macOS",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) "
            "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 "
            "Safari/604.1",
            "Mobile Safari on iOS",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0",
            "Firefox on Linux",
        ),
        ("python-requests/2.32", "Python Requests"),
        (
            "Mozilla/5.0 (compatible; Scam Browser 3.0; Windows)",
            "Unknown browser on Windows",
        ),
        # ua-parser's catch-all rules make a family of the header's own words.
        ("PleaseCallUs bot", "Unknown browser"),
        (ATTACKER, "Unknown browser"),
        ("Unspecified", "Unknown browser"),  # allauth's word for a missing header
        ("", ""),  # no request at all (a job): the email leaves the line out
    ],
)
def test_a_user_agent_is_described_by_well_known_families_only(
    user_agent: str, description: str
) -> None:
    assert device_description(user_agent) == description


def mail_text(message: mail.EmailMultiAlternatives) -> str:
    return "\n".join(
        [message.subject, message.body, *(part for part, _ in message.alternatives)]
    )


@pytest.mark.django_db
def test_the_lockout_email_anyone_can_trigger_never_quotes_their_header(
    user: User,
) -> None:
    """Before issue 12 the owner's "sign-in paused" mail quoted the attacker's header."""
    client = APIClient(HTTP_USER_AGENT=ATTACKER)
    for number in range(10):
        client.post(
            "/api/v1/auth/login/",
            {"login": user.username, "password": "wrong password"},
            format="json",
            REMOTE_ADDR=f"198.51.100.{number}",
        )

    [message] = mail.outbox
    text = mail_text(message)
    for fragment in ("evil", "Click", "PleaseCallUs", "555"):
        assert fragment not in text
    assert "Device: Unknown browser" in message.body
    # Staff and the owner still see the header itself, in the audit log.
    locked = AuditEvent.objects.get(kind="login.locked", target=user)
    assert locked.user_agent == ATTACKER


@pytest.mark.django_db
def test_allauths_notifications_name_the_device_too(
    user: User, django_capture_on_commit_callbacks
) -> None:
    request = RequestFactory().get("/", HTTP_USER_AGENT=WINDOWS_CHROME)

    with request_context(request), django_capture_on_commit_callbacks(execute=True):
        get_adapter().send_notification_mail("account/email/password_changed", user)

    [message] = mail.outbox
    assert "- Device: Chrome on Windows" in message.body
    assert '<td style="padding:2px 0;">Chrome on Windows</td>' in mail_text(message)
    assert "AppleWebKit" not in mail_text(message)
