"""Issue 12: every address is stored in its canonical form (``canonical_email``), and
every lookup compares it exactly.

Existing rows are canonicalised: the users' addresses, then allauth's ``EmailAddress``
rows (the account's own address follows the account's; other, pending ones are
canonicalised on their own). A row is left exactly as it is, with a warning naming its
id, when its address has no canonical form (a domain IDNA refuses) or when another row
already holds, or is given, the same canonical form: of the accounts sharing one, the
one whose address is already canonical keeps it, else the earliest to join. A row left
so is never found by an address lookup (they compare canonical forms), only by its
username; staff decide what to do with it. Nothing is ever merged or deleted.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from django.db import IntegrityError, migrations, models, transaction

import accounts.models.users
from accounts.models.users import InvalidEmailAddress, canonical_email

logger = logging.getLogger(__name__)


def _canonical_or_none(address: str) -> str | None:
    try:
        return canonical_email(address)
    except InvalidEmailAddress:
        return None


def _update(model: Any, pk: Any, email: str) -> bool:
    """Set one row's email, in a savepoint: False when a unique constraint refuses it."""
    try:
        with transaction.atomic():
            model.objects.filter(pk=pk).update(email=email)
    except IntegrityError:
        return False
    return True


def canonicalise_emails(apps: Any, schema_editor: Any) -> None:
    User = apps.get_model("accounts", "User")
    EmailAddress = apps.get_model("account", "EmailAddress")

    claimants: dict[str, list[tuple[Any, str]]] = defaultdict(list)
    for pk, email in User.objects.order_by("date_joined", "pk").values_list(
        "pk", "email"
    ):
        canonical = _canonical_or_none(email)
        if canonical is None:
            logger.warning(
                "User %s keeps the address %r: it has no canonical form.", pk, email
            )
        else:
            claimants[canonical].append((pk, email))

    for canonical, rows in claimants.items():
        # Already canonical first, then the order of joining (sorted is stable).
        rows = sorted(rows, key=lambda row: row[1] != canonical)
        (winner, email), others = rows[0], rows[1:]
        for pk, _ in others:
            logger.warning(
                "User %s keeps its address: its canonical form %r belongs to user %s.",
                pk,
                canonical,
                winner,
            )
        if email != canonical and not _update(User, winner, canonical):
            logger.warning(
                "User %s keeps its address: %r is refused by a unique constraint.",
                winner,
                canonical,
            )

    # An account's own address says what the account now says (canonical, or kept as
    # it was); any other (a pending change) is canonicalised on its own.
    account_email = dict(User.objects.values_list("pk", "email"))
    addresses = EmailAddress.objects.order_by("pk").values_list(
        "pk", "user_id", "email"
    )
    for pk, user_id, email in addresses:
        if email == account_email[user_id]:
            continue
        target = _canonical_or_none(email)
        if target is None or target == email:
            continue
        if not _update(EmailAddress, pk, target):
            logger.warning(
                "Email address %s keeps %r: its canonical form %r is taken.",
                pk,
                email,
                target,
            )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0014_session_amr_auth_time_and_confirmation_audit"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [
        migrations.AlterField(
            model_name="user",
            name="email",
            field=models.EmailField(
                max_length=254,
                validators=[accounts.models.users.validate_canonical_email],
                verbose_name="email address",
            ),
        ),
        migrations.RunPython(canonicalise_emails, migrations.RunPython.noop),
    ]
