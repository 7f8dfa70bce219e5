"""allauth's adapter: Gatehouse's one customisation point for django-allauth's mail."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django import forms
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest

from accounts.emails.devices import device_description
from accounts.emails.tasks import email_payload, send_email
from accounts.models import INVALID_EMAIL_MESSAGE, InvalidEmailAddress, canonical_email
from config.client_ip import client_ip

if TYPE_CHECKING:
    from allauth.account.models import EmailConfirmation


@dataclass(frozen=True)
class EmailSite:
    """What allauth's templates read from ``current_site``: the site's name and domain."""

    name: str
    domain: str


def frontend_url(path: str, **query: str) -> str:
    """An absolute URL on the frontend, such as ``{FRONTEND_URL}/reset-password?token=...``.

    Values in the URL-safe alphabet go in as they are: a verification key
    (``MQ:1t…:…``, allauth's signed key) keeps its colons, which a query string may hold
    (RFC 3986, section 3.4), so the key a user copies from the link is the key."""
    url = f"{settings.FRONTEND_URL}{path}"
    return f"{url}?{urlencode(query, safe=':')}" if query else url


class AccountAdapter(DefaultAccountAdapter):
    """Gatehouse's one customisation point for django-allauth (``ACCOUNT_ADAPTER``).

    allauth owns email addresses, verification and reset mail; this class makes that mail
    fit an API with a separate frontend. Each override says why it exists.
    """

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Render as allauth does, then queue the message instead of sending it inline.

        allauth's own ``send_mail`` sends during the request, even when the request later
        rolls back, and calls ``get_current_site(request)``, which without
        ``django.contrib.sites`` names the API's host and fails when there is no request
        (a worker, a management command). The context has the keys allauth's has, plus
        ours; ``user`` defaults to ``None`` so that a template never greets whoever is
        signed in to the request (for example when the email goes to someone else's
        address) through the ``auth`` context processor. ``user_agent`` (allauth's
        notifications and ``send_account_email`` put the request's header there) becomes
        a description such as "Chrome on Windows".
        """
        request = allauth_context.request
        ctx: dict[str, Any] = {
            "request": request,
            "email": email,
            "current_site": EmailSite(
                name=settings.SITE_NAME, domain=urlsplit(settings.FRONTEND_URL).netloc
            ),
            "site_name": settings.SITE_NAME,
            "frontend_url": settings.FRONTEND_URL,
            "password_reset_page_url": frontend_url(
                settings.FRONTEND_PASSWORD_RESET_PATH
            ),
            "support_email": settings.SUPPORT_EMAIL,
            "user": None,
        }
        ctx.update(context)
        # Security emails name the device (ua-parser's families), never quote the raw
        # header: some of them anyone can trigger, with any header (``devices``).
        if ctx.get("user_agent"):
            ctx["user_agent"] = device_description(ctx["user_agent"])
        message = self.render_mail(template_prefix, email, ctx)
        payload = email_payload(message)
        # robust: with tasks run inline (no broker) a mail server failure surfaces here, as
        # Celery's Retry since CELERY_TASK_EAGER_PROPAGATES is on; it is logged rather than
        # turning a request that has already committed into a 500.
        transaction.on_commit(partial(send_email.delay, payload), robust=True)

    def send_notification_mail(
        self,
        template_prefix: str,
        user: Any,
        context: dict[str, Any] | None = None,
        email: str | None = None,
    ) -> None:
        """allauth's security notifications ("password changed"), with the ``user``.

        allauth passes only the change and the request's details, so the templates could
        not greet the user by name.
        """
        super().send_notification_mail(
            template_prefix, user, {"user": user, **(context or {})}, email
        )

    def get_email_confirmation_url(
        self, request: HttpRequest | None, emailconfirmation: EmailConfirmation
    ) -> str:
        """The frontend's verification page; it posts the key to ``auth/email/verify/``."""
        return frontend_url(
            settings.FRONTEND_EMAIL_VERIFICATION_PATH, key=emailconfirmation.key
        )

    def get_reset_password_from_key_url(self, key: str) -> str:
        """The frontend's reset page; it posts the token to ``auth/password/reset/confirm/``."""
        return frontend_url(settings.FRONTEND_PASSWORD_RESET_PATH, token=key)

    def send_account_already_exists_mail(self, email: str) -> None:
        """Tell an address's owner that someone tried to register with it.

        allauth's version reverses its own signup and reset pages, which this project does
        not mount (it raises ``NoReverseMatch``); the email points at the frontend instead.
        """
        self.send_mail(
            "account/email/account_already_exists",
            email,
            {"password_reset_url": frontend_url(settings.FRONTEND_PASSWORD_RESET_PATH)},
        )

    def add_message(
        self, request: HttpRequest | None, *args: Any, **kwargs: Any
    ) -> None:
        """allauth's flash messages, left out without a request: a flow run by a command
        or a job (a service called outside a view, e.g. ``email_verify``) has no page to
        show them on, and Django's ``add_message`` refuses ``None``."""
        if request is not None:
            super().add_message(request, *args, **kwargs)

    def clean_email(self, email: str) -> str:
        """The address in the form the account stores (``canonical_email``), so an
        address that reaches allauth's own forms (social sign-up, its email forms) is
        compared as the API compares it, exactly, never by allauth's ``lower()``."""
        try:
            return canonical_email(super().clean_email(email))
        except InvalidEmailAddress:
            raise forms.ValidationError(INVALID_EMAIL_MESSAGE, code="invalid") from None

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        """Registration can be closed with the ``REGISTRATION_OPEN`` setting."""
        return bool(getattr(settings, "REGISTRATION_OPEN", True))

    def get_client_ip(self, request: HttpRequest | None) -> str:
        """The project's client address, which honours ``TRUSTED_PROXY_COUNT``.

        allauth's own reads ``ALLAUTH_TRUSTED_PROXY_COUNT``, so behind a proxy it would see
        the proxy's address in its rate limits and notifications. Without a request (an
        email sent from a worker) there is no address: the templates leave it out.
        """
        return client_ip(request) if request is not None else ""

    def get_http_user_agent(self, request: HttpRequest | None) -> str:
        """As allauth's, and empty without a request."""
        return super().get_http_user_agent(request) if request is not None else ""
