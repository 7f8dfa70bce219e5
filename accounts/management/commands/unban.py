from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.access import SYSTEM_ACTOR
from accounts.selectors import user_by_login
from accounts.services.moderation import user_unban
from config.client import SYSTEM
from config.errors import ApplicationError


class Command(BaseCommand):
    help = "Lift a user's ban (by username or email), as the system actor."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("user", help="Username or email address.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = user_by_login(options["user"])
        if user is None:
            raise CommandError(f"No user {options['user']!r}.")
        try:
            user_unban(user_id=user.pk, actor=SYSTEM_ACTOR, client=SYSTEM)
        except ApplicationError as error:
            raise CommandError(error.detail) from None
        self.stdout.write(f"Unbanned {user.username}.")
