"""``manage.py flags list | on | off | rules | percent | stale | create``: feature flags
from the server's shell.

Runs as the system actor (``accounts.access``), as the other commands do, through the
same services as the API and the admin: every change is in the flag's history (through
``manage.py``, by no person), in the audit log with the ``SYSTEM`` client, and reaches
every worker within a second. Bad input is one line on stderr and exit code 1.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.access import SYSTEM_ACTOR
from config.client import SYSTEM
from config.errors import ApplicationError
from config.terminal import table
from flags.endpoints import API_PREFIX, ENDPOINT_FLAG_PREFIX
from flags.history import (
    everyone_text,
    percent_text,
    rules_text,
    short_note,
    state_of,
)
from flags.models import Flag, FlagChange
from flags.selectors import flag_list, stale_flags
from flags.services import flag_create, flag_update

COLUMNS = ("name", "state", "rules", "updated")
STALE_COLUMNS = ("name", "state", "updated", "note")
# What on, off and rules set ``everyone`` to.
EVERYONE = {"on": True, "off": False, "rules": None}


class Command(BaseCommand):
    help = (
        "List feature flags, switch one on or off for everyone or back to its rules, "
        "set its percentage, list stale ones, create one. Runs as the system actor "
        "(accounts.access), through the same services as the API and the admin: each "
        "change is audited, kept in the flag's history and seen by every worker within "
        "a second."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(
            dest="command",
            required=True,
            metavar="{list,on,off,rules,percent,stale,create}",
        )

        def add(name: str, help: str) -> CommandParser:
            """A subcommand whose ``--help`` says what its line in the list says."""
            parser: CommandParser = commands.add_parser(
                name, help=help, description=help
            )
            return parser

        listing = add(
            "list", help="Every flag: name, state (on, off, rules), rules, last change."
        )
        listing.add_argument(
            "--kind",
            choices=["feature", "endpoint"],
            help="Only feature flags, or only the flags of API routes (api:<path>).",
        )
        listing.add_argument(
            "--json", action="store_true", help="One JSON array, for scripts."
        )
        on = add("on", help="Switch a flag on for everyone.")
        on.add_argument("name", help="The flag's name, as list shows it.")
        off = add(
            "off",
            help=(
                "Switch a flag off for everyone (an endpoint's flag: its route is "
                "refused to every caller)."
            ),
        )
        off.add_argument("name", help="The flag's name, as list shows it.")
        rules = add(
            "rules",
            help=(
                "Neither on nor off for everyone: its roles, users and percentage "
                "decide."
            ),
        )
        rules.add_argument("name", help="The flag's name, as list shows it.")
        percent = add(
            "percent",
            help=(
                "On for this share of signed-in users, always the same ones (with "
                "everyone left as it is: run rules NAME for the share to count)."
            ),
        )
        percent.add_argument("name", help="The flag's name, as list shows it.")
        percent.add_argument("percent", help="0-100, at most one decimal place.")
        stale = add(
            "stale",
            help=(
                "Feature flags nobody changed in --days days that are fully on or "
                "fully off: candidates for removal from the code. Prints none when "
                "there are none (exit code 0 either way)."
            ),
        )
        stale.add_argument(
            "--days", type=int, default=90, help="Unchanged for this long (90)."
        )
        create = add("create", help="A new feature flag, by rules with no rule: off.")
        create.add_argument("name", help="Letters, digits, -, _, :; no spaces.")
        create.add_argument("--note", default="", help="What it is for.")

    def handle(self, *args: Any, **options: Any) -> None:
        run = {
            "list": self.list_flags,
            "on": self.set_everyone,
            "off": self.set_everyone,
            "rules": self.set_everyone,
            "percent": self.set_percent,
            "stale": self.list_stale,
            "create": self.create_flag,
        }[options["command"]]
        try:
            run(options)
        except ApplicationError as error:
            if error.code == "not_found":
                raise CommandError(
                    f"No flag {options.get('name')!r}: list shows every flag."
                ) from None
            raise CommandError(error.detail) from None
        except ValidationError as error:  # the services' checks of the values
            raise CommandError(" ".join(error.messages)) from None

    # --- list, stale -------------------------------------------------------------------

    def list_flags(self, options: dict[str, Any]) -> None:
        flags = flag_list(actor=SYSTEM_ACTOR)
        if options["kind"] is not None:
            flags = flags.filter(is_endpoint=options["kind"] == "endpoint")
        if options["json"]:
            self.stdout.write(json.dumps([json_of(flag) for flag in flags], indent=2))
            return
        rows = [
            (flag.name, state_of(flag), rules_of_flag(flag), when(flag.modified))
            for flag in flags
        ]
        self.stdout.write(table(COLUMNS, rows) if rows else "No flags.")

    def list_stale(self, options: dict[str, Any]) -> None:
        if options["days"] < 1:
            raise CommandError(
                f"--days takes a number of days from 1, not {options['days']}."
            )
        rows = [
            (flag.name, state_of(flag), when(flag.modified), short_note(flag.note))
            for flag in stale_flags(days=options["days"])
        ]
        if not rows:
            self.stdout.write("none")
            return
        self.stdout.write(table(STALE_COLUMNS, rows))

    # --- changes -----------------------------------------------------------------------

    def set_everyone(self, options: dict[str, Any]) -> None:
        everyone = EVERYONE[options["command"]]
        before = Flag.objects.filter(name=options["name"]).first()
        flag = self.update(options["name"], {"everyone": everyone})
        label = everyone_text(everyone).lower()
        if before is not None and before.everyone is everyone:
            self.stdout.write(f"{flag.name}: already {label}.")
            return
        self.stdout.write(f"{flag.name}: now {label}.")
        if flag.is_endpoint and everyone is False:
            route = f"/{API_PREFIX}{flag.name.removeprefix(ENDPOINT_FLAG_PREFIX)}"
            self.stdout.write(f"{route} is refused to every caller until it is on.")

    def set_percent(self, options: dict[str, Any]) -> None:
        flag = self.update(options["name"], {"percent": options["percent"]})
        line = f"{flag.name}: {percent_text(flag.percent)} of signed-in users"
        if flag.everyone is not None:
            line += (
                f", but it is {everyone_text(flag.everyone).lower()}: run "
                f"`flags rules {flag.name}` for the percentage to count"
            )
        self.stdout.write(f"{line}.")

    def update(self, name: str, changes: dict[str, Any]) -> Flag:
        return flag_update(
            name=name,
            changes=changes,
            actor=SYSTEM_ACTOR,
            client=SYSTEM,
            source=FlagChange.Source.COMMAND,
        )

    def create_flag(self, options: dict[str, Any]) -> None:
        flag = flag_create(
            name=options["name"],
            rules={"note": options["note"]} if options["note"] else None,
            actor=SYSTEM_ACTOR,
            client=SYSTEM,
            source=FlagChange.Source.COMMAND,
        )
        self.stdout.write(
            f"Created flag {flag.name}: off (no rule turns it on). Switch it with "
            f"on, percent or the admin."
        )


def rules_of_flag(flag: Flag) -> str:
    return rules_text(
        everyone=flag.everyone,
        percent=flag.percent,
        roles=[group.name for group in flag.groups.all()],
        user_count=len(flag.users.all()),
    )


def json_of(flag: Flag) -> dict[str, Any]:
    return {
        "name": flag.name,
        "kind": "endpoint" if flag.is_endpoint else "feature",
        "state": state_of(flag),
        "rules": rules_of_flag(flag),
        "everyone": flag.everyone,
        "percent": None if flag.percent is None else float(flag.percent),
        "roles": sorted(group.name for group in flag.groups.all()),
        "users": sorted(str(user.pk) for user in flag.users.all()),
        "note": flag.note,
        "updated_at": flag.modified.isoformat(),
    }


def when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"
