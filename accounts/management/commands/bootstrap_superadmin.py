from __future__ import annotations

import getpass
import os
import sys
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.selectors import user_by_login
from accounts.services.staff import superadmin_bootstrap
from config.client import SYSTEM

USERNAME_VARIABLE = "DJANGO_SUPERUSER_USERNAME"
EMAIL_VARIABLE = "DJANGO_SUPERUSER_EMAIL"
PASSWORD_VARIABLE = "DJANGO_SUPERUSER_PASSWORD"  # noqa: S105 (a variable's name)


class Command(BaseCommand):
    help = (
        "Make sure a superadmin exists who can sign in to the admin (safe to run again). "
        "In a terminal it asks for the username, email and password; with --noinput, or "
        f"without a terminal, it reads {USERNAME_VARIABLE}, {EMAIL_VARIABLE} and "
        f"{PASSWORD_VARIABLE} (the names createsuperuser --noinput reads). An existing "
        "account becomes superuser and staff and keeps its password unless "
        "--reset-password. The address counts as verified. The admin asks for an "
        "authenticator app at the first sign-in."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="Read the environment variables; never prompt.",
        )
        parser.add_argument(
            "--reset-password",
            action="store_true",
            help="Give an existing account the new password too.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        interactive = options["interactive"] and sys.stdin.isatty()
        reset_password = options["reset_password"]
        if interactive:
            username, email, password = self._ask(reset_password=reset_password)
        else:
            username, email, password = self._from_environment()
        try:
            result = superadmin_bootstrap(
                username=username,
                email=email,
                password=password,
                reset_password=reset_password,
                client=SYSTEM,
            )
        except ValidationError as error:
            raise CommandError(_described(error)) from None
        user = result.user
        if result.created:
            self.stdout.write(f"Superadmin {user.username} <{user.email}> created.")
        elif result.changes:
            changes = "; ".join(result.changes)
            self.stdout.write(f"Superadmin {user.username} already existed: {changes}.")
        else:
            self.stdout.write(
                f"Superadmin {user.username} already existed; nothing to change."
            )
        self.stdout.write(_next_step())

    def _from_environment(self) -> tuple[str, str, str | None]:
        username = os.environ.get(USERNAME_VARIABLE, "").strip()
        if not username:
            raise CommandError(
                f"No terminal to ask in, and {USERNAME_VARIABLE} is not set: set "
                f"{USERNAME_VARIABLE}, {EMAIL_VARIABLE} and {PASSWORD_VARIABLE}, or run "
                "this in a terminal."
            )
        return (
            username,
            os.environ.get(EMAIL_VARIABLE, "").strip(),
            os.environ.get(PASSWORD_VARIABLE) or None,
        )

    def _ask(self, *, reset_password: bool) -> tuple[str, str, str | None]:
        username = input("Username: ").strip()
        exists = user_by_login(username) is not None
        if exists and not reset_password:
            return username, "", None
        email = "" if exists else input("Email address: ").strip()
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password (again): ") != password:
            raise CommandError("The two passwords differ.")
        return username, email, password


def _described(error: ValidationError) -> str:
    return " ".join(
        f"{field}: {' '.join(messages)}"
        for field, messages in error.message_dict.items()
    )


def _next_step() -> str:
    host = next(
        (host for host in settings.ALLOWED_HOSTS if host and host[0] not in ".*["),
        "localhost",
    )
    base = (
        "http://localhost:8000"
        if host in {"localhost", "127.0.0.1"}
        else (f"https://{host}")
    )
    if settings.MFA_REQUIRED_FOR_STAFF:
        return (
            f"Sign in at {base}/admin/ — you will be asked to set up an "
            "authenticator app."
        )
    return (
        f"Sign in at {base}/admin/ (MFA_REQUIRED_FOR_STAFF is off here, so no second "
        "factor is asked for)."
    )
