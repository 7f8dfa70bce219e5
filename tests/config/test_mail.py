"""The embedded default's console stays readable (issue 13): one email is its headers and
its text part, and sending it logs no kombu warning."""

from __future__ import annotations

import io
import logging

import pytest
from celery import Celery
from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives

from config.mail import ConsoleEmailBackend

LINK = "http://localhost:3000/verify-email?key=MQ:1tAbCd:" + "x" * 60 + "=="


def printed(message: EmailMessage) -> str:
    stream = io.StringIO()
    ConsoleEmailBackend(stream=stream).send_messages([message])
    return stream.getvalue()


def test_console_email_prints_the_text_part_and_leaves_out_the_html() -> None:
    message = EmailMultiAlternatives(
        "[Gatehouse] Vérifiez votre adresse",
        f"Bonjour Zoë,\n\nOpen this link:\n{LINK}\n",
        "Gatehouse <noreply@localhost>",
        ["zoe@example.com"],
    )
    message.attach_alternative("<p>Bonjour <b>Zoë</b></p>", "text/html")

    output = printed(message)

    assert "Subject: [Gatehouse] Vérifiez votre adresse\n" in output
    assert "To: zoe@example.com\n" in output
    assert "Bonjour Zoë," in output  # not quoted-printable
    assert f"\n{LINK}\n" in output  # whole, as a developer copies it
    assert "<p>" not in output
    assert "(HTML part omitted)" in output
    assert "Content-Type" not in output
    assert output.endswith("-" * 79 + "\n")


def test_a_plain_message_says_nothing_of_parts_it_does_not_have() -> None:
    message = EmailMessage("Hello", "Just text.", "a@localhost", ["b@example.com"])
    message.attach("notes.txt", "attached", "text/plain")

    output = printed(message)

    assert "Just text.\n" in output
    assert "HTML" not in output
    assert "(1 attachment(s) omitted)" in output


def test_console_email_url_selects_this_backend() -> None:
    from config.env import Settings

    assert Settings().email("EMAIL_URL", "console:") == {
        "EMAIL_BACKEND": "config.mail.ConsoleEmailBackend"
    }


def test_an_inline_task_logs_no_kombu_warning(caplog: pytest.LogCaptureFixture) -> None:
    """On the embedded default each email logged kombu's "No hostname was supplied"
    (the broker URL was a bare memory://). A fresh app, as the first email of a process."""
    app = Celery("inline", broker=settings.CELERY_BROKER_URL, set_as_current=False)
    app.conf.task_always_eager = True

    @app.task
    def add(a: int, b: int) -> int:
        return a + b

    with caplog.at_level(logging.WARNING):
        assert add.delay(1, 2).get() == 3

    assert [
        record for record in caplog.records if record.name.startswith("kombu")
    ] == []


def test_inline_tasks_log_no_success_line_per_email() -> None:
    # The tests run tasks inline, as the embedded default does.
    assert settings.CELERY_TASK_ALWAYS_EAGER is True
    assert settings.LOGGING["loggers"]["celery.app.trace"]["level"] == "WARNING"
