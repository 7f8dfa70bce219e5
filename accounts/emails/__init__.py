"""Account email: allauth's adapter, Gatehouse's own account emails, and how both are sent.

Every email to a user goes through ``AccountAdapter.send_mail``: it is rendered from
``templates/account/email/<name>_{subject.txt,message.txt,message.html}`` (both a plain-text
and an HTML part, on the layouts in ``templates/email/``), then queued to the Celery task
``accounts.emails.tasks.send_email`` once the current transaction commits. A request that rolls
back sends nothing, and a slow mail server never holds up a response.

Templates always receive ``site_name``, ``frontend_url``, ``password_reset_page_url``,
``support_email`` (``SUPPORT_EMAIL``, may be empty),
``email`` (the recipient), ``user`` (``None`` when the email is to an address rather than
to a known user) and ``current_site`` (``name`` and ``domain``, for allauth's own
templates). Links point at the frontend (``FRONTEND_URL``), never at this API.

The package: ``adapter`` (allauth's ``AccountAdapter``), ``messages`` (Gatehouse's own
emails, ``send_account_email``) and ``tasks`` (the worker's side: ``send_email``).
"""

from accounts.emails.adapter import AccountAdapter, frontend_url
from accounts.emails.messages import LOGIN_LOCKED_EMAIL, send_account_email

__all__ = ["LOGIN_LOCKED_EMAIL", "AccountAdapter", "frontend_url", "send_account_email"]
