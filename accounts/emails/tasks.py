"""The worker's side of account email: a rendered message, sent with retries.

Emails are rendered in the request, where the user, the language and the links are known,
and handed to the worker as plain JSON (``email_payload``): a message survives the broker,
and a slow or failing mail server never holds up a response.
"""

from __future__ import annotations

import smtplib
from typing import Any

from celery import shared_task
from django.core.mail import EmailMessage, EmailMultiAlternatives


def email_payload(message: EmailMessage) -> dict[str, Any]:
    """A rendered message as JSON-serialisable data; ``send_email`` rebuilds it.

    Attachments are not carried: no account email has any.
    """
    if message.attachments:
        raise ValueError("Account emails are queued without attachments.")
    return {
        "subject": str(message.subject),
        "body": str(message.body),
        "from_email": message.from_email,
        "to": list(message.to),
        "cc": list(message.cc),
        "bcc": list(message.bcc),
        "reply_to": list(message.reply_to),
        "headers": dict(message.extra_headers),
        "content_subtype": message.content_subtype,
        "alternatives": [
            [str(content), mimetype]
            for content, mimetype in getattr(message, "alternatives", [])
        ],
    }


# SMTPException is an OSError already; it is named for the reader. OSError also covers a
# refused connection, a timeout and Anymail's HTTP errors (requests' IOError).
# The name is the one the task had in accounts/tasks.py: messages queued before a deploy
# still find it.
@shared_task(
    name="accounts.tasks.send_email",
    autoretry_for=(OSError, smtplib.SMTPException),
    retry_backoff=True,
    max_retries=5,
)
def send_email(payload: dict[str, Any]) -> None:
    """Send a message built by ``email_payload``, retrying with backoff while mail is down."""
    message = EmailMultiAlternatives(
        subject=payload["subject"],
        body=payload["body"],
        from_email=payload["from_email"],
        to=payload["to"],
        cc=payload.get("cc"),
        bcc=payload.get("bcc"),
        reply_to=payload.get("reply_to"),
        headers=payload.get("headers"),
    )
    message.content_subtype = payload.get("content_subtype", "plain")
    for content, mimetype in payload.get("alternatives", []):
        message.attach_alternative(content, mimetype)
    message.send()
