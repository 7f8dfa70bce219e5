"""The console email backend of the embedded default (``EMAIL_URL=console:``).

Django's own prints the whole MIME message: every account email twice (text and HTML),
non-ASCII text quoted-printable, and links broken by ``=`` soft line breaks, so a link
copied from the terminal does not work. This one prints the headers a developer reads and
the text part as written.
"""

from __future__ import annotations

from email.header import decode_header, make_header

from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.backends.console import EmailBackend

# The headers worth reading, in this order; Content-* and MIME-Version are the envelope.
SHOWN_HEADERS = ("Subject", "From", "To", "Cc", "Reply-To", "Date", "Message-ID")


class ConsoleEmailBackend(EmailBackend):
    def write_message(self, message: EmailMessage) -> None:
        mime = message.message()
        for name in SHOWN_HEADERS:
            value = mime.get(name)
            if value is not None:
                # RFC 2047 encoded words (a non-ASCII subject or name) back to text.
                self.stream.write(f"{name}: {make_header(decode_header(str(value)))}\n")
        self.stream.write("\n")
        self.stream.write(f"{message.body.rstrip()}\n")
        alternatives = (
            message.alternatives if isinstance(message, EmailMultiAlternatives) else []
        )
        if any(alternative[1] == "text/html" for alternative in alternatives):
            self.stream.write("\n(HTML part omitted)\n")
        if message.attachments:
            self.stream.write(f"({len(message.attachments)} attachment(s) omitted)\n")
        self.stream.write("-" * 79 + "\n")
