from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.access import SYSTEM_ACTOR
from accounts.roles import Role
from accounts.selectors import user_by_login
from accounts.services.moderation import roles_set
from config.client import SYSTEM
from config.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Give a user (by username or email) exactly these roles, as PUT "
        "users/{id}/roles/ does; no role makes a plain user. Runs as the system actor "
        "(accounts.access): any account, but the last superadmin keeps the role unless "
        "--force."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("user", help="Username or email address.")
        parser.add_argument(
            "roles",
            nargs="*",
            metavar="role",
            help=", ".join(role.value for role in Role),
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Demote even the last superadmin who can sign in.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        unknown = sorted(set(options["roles"]) - {role.value for role in Role})
        if unknown:
            raise CommandError(f"No role {', '.join(unknown)}.")
        user = user_by_login(options["user"])
        if user is None:
            raise CommandError(f"No user {options['user']!r}.")
        try:
            roles_set(
                user_id=user.pk,
                actor=SYSTEM_ACTOR,
                roles=options["roles"],
                client=SYSTEM,
                force=options["force"],
            )
        except ApplicationError as error:
            raise CommandError(error.detail) from None
        roles = ", ".join(options["roles"]) or "none"
        self.stdout.write(f"Roles of {user.username}: {roles}.")
