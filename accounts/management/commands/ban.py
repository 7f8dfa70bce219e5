from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accounts.access import SYSTEM_ACTOR
from accounts.models import User
from accounts.selectors import user_by_login
from accounts.services.moderation import BanPlacement, ends_later, user_ban
from config.client import SYSTEM
from config.errors import ApplicationError
from config.terminal import parse_duration


class Command(BaseCommand):
    help = (
        "Ban a user (by username or email), for a while (--for 7d) or for good. Runs as "
        "the system actor (accounts.access): any account, but the last superadmin only "
        "with --force. A longer ban in force is kept unless --replace; a shorter one is "
        "replaced."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("user", help="Username or email address.")
        parser.add_argument(
            "--for", dest="duration", help="30m, 12h, 7d, 2w; omit: permanent."
        )
        parser.add_argument("--reason", required=True)
        parser.add_argument(
            "--force",
            action="store_true",
            help="Ban even the last superadmin who can sign in.",
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Replace a longer ban in force by this shorter one.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user: User | None = user_by_login(options["user"])
        if user is None:
            raise CommandError(f"No user {options['user']!r}.")
        until = (
            timezone.now() + parse_duration(options["duration"], option="--for")
            if options["duration"]
            else None
        )
        try:
            placement = user_ban(
                user_id=user.pk,
                actor=SYSTEM_ACTOR,
                reason=options["reason"],
                until=until,
                client=SYSTEM,
                force=options["force"],
                replace=options["replace"],
            )
        except ApplicationError as error:
            raise CommandError(error.detail) from None
        self.stdout.write(ban_placement_message(user.username, placement, until))


def ends(until: datetime | None) -> str:
    return f"until {until:%Y-%m-%d %H:%M} UTC" if until else "for good"


def ban_placement_message(
    username: str, placement: BanPlacement, until: datetime | None
) -> str:
    """What the command says it did, ``until`` being the end it was asked for: banned
    (replacing the ban in force), or kept the ban in force, which lasts as long."""
    ban, replaced = placement.ban, placement.replaced
    if not placement.placed:
        longer = "longer ban" if ends_later(ban.until, until) else "ban as long"
        return (
            f"A {longer} of {username} is in force {ends(ban.until)}; kept. "
            "Use --replace to shorten it."
        )
    if replaced is None:
        return f"Banned {username} {ends(ban.until)}."
    if ends_later(replaced.until, until):
        replacing = "the longer ban"
    elif ends_later(until, replaced.until):
        replacing = "the shorter ban"
    else:
        replacing = "the ban"
    return (
        f"Banned {username} {ends(ban.until)}, replacing {replacing} in force "
        f"{ends(replaced.until)}."
    )
