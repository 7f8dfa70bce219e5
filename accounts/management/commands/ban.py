from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accounts.access import SYSTEM_ACTOR
from accounts.models import User
from accounts.selectors import user_by_login
from accounts.services.moderation import user_ban
from config.client import SYSTEM
from config.errors import ApplicationError

DURATION = re.compile(r"^(\d+)([smhdw])$")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: str) -> timedelta:
    match = DURATION.match(value.strip().lower())
    if not match or int(match.group(1)) == 0:
        raise CommandError(
            f"--for takes a duration such as 30m, 12h, 7d or 2w, not {value!r}."
        )
    return timedelta(seconds=int(match.group(1)) * UNIT_SECONDS[match.group(2)])


class Command(BaseCommand):
    help = (
        "Ban a user (by username or email), for a while (--for 7d) or for good. Runs as "
        "the system actor (accounts.access): any account, but the last superadmin only "
        "with --force."
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

    def handle(self, *args: Any, **options: Any) -> None:
        user: User | None = user_by_login(options["user"])
        if user is None:
            raise CommandError(f"No user {options['user']!r}.")
        until = (
            timezone.now() + parse_duration(options["duration"])
            if options["duration"]
            else None
        )
        try:
            ban = user_ban(
                user_id=user.pk,
                actor=SYSTEM_ACTOR,
                reason=options["reason"],
                until=until,
                client=SYSTEM,
                force=options["force"],
            )
        except ApplicationError as error:
            raise CommandError(error.detail) from None
        ends = f"until {ban.until:%Y-%m-%d %H:%M} UTC" if ban.until else "for good"
        self.stdout.write(f"Banned {user.username} {ends}.")
