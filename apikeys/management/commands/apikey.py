"""``manage.py apikey create | list | quota | revoke``: API keys from the server's shell.

Runs as the system actor (``accounts.access``), as the other commands do: it creates keys
for any account and global service keys, gives any key any quota, and revokes any key,
through the same services as the API and the admin (audited with no actor and the
``SYSTEM`` client, the owner emailed). The full key is printed once, by ``create``, and
never logged.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accounts.access import SYSTEM_ACTOR
from accounts.selectors import user_by_login
from apikeys.keys import KEY_MARKER
from apikeys.models import ApiKey
from apikeys.scopes import DEFAULT_SCOPES, Scope
from apikeys.selectors import api_key_by_prefix, api_keys_all, api_keys_of
from apikeys.services import api_key_create, api_key_quota_set, api_key_revoke
from config.client import SYSTEM
from config.errors import ApplicationError
from config.terminal import parse_duration, table

# How every key begins (``gth_``).
KEY_START = f"{KEY_MARKER}_"
SHOWN_ONCE = (
    "This is the only time the key is shown: store it now, it cannot be shown again."
)
COLUMNS = (
    "prefix",
    "owner",
    "name",
    "scopes",
    "quota",
    "expires",
    "last used",
    "revoked",
)
# ``--per-hour none``: back to the owner's role's limits.
NO_QUOTA = "none"


class Command(BaseCommand):
    help = (
        "Create, list and revoke API keys, as the system actor (accounts.access). "
        "create prints the full key once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(
            dest="command", required=True, metavar="{create,list,quota,revoke}"
        )
        create = commands.add_parser(
            "create",
            help="A key of a user (--user) or a global service key (--global).",
        )
        owner = create.add_mutually_exclusive_group(required=True)
        owner.add_argument("--user", help="Username or email address of the owner.")
        owner.add_argument(
            "--global",
            dest="is_global",
            action="store_true",
            help="A service key bound to no user (needs --scopes).",
        )
        create.add_argument("--name", required=True, help="What the key is for.")
        create.add_argument(
            "--scopes",
            help=(
                f"Comma-separated, from: {', '.join(Scope)}. A global key names its "
                f"scopes; a user's defaults to {', '.join(DEFAULT_SCOPES)}."
            ),
        )
        create.add_argument(
            "--expires", help="Expires after 30m, 12h, 7d, 2w...; omit: never."
        )
        add_quota_arguments(create, "omit: the role's limit", default=None)
        listing = commands.add_parser("list", help="The keys, newest first.")
        listing.add_argument("--user", help="Only this user's keys.")
        quota = commands.add_parser(
            "quota",
            help="Set a key's own quota (any value: the system actor); in force at "
            "once.",
        )
        quota.add_argument("prefix", help="The key's prefix, as list shows it.")
        add_quota_arguments(quota, "omit: unchanged", default=KEEP)
        revoke = commands.add_parser("revoke", help="Revoke a key: it stops at once.")
        revoke.add_argument("prefix", help="The key's prefix, as list shows it.")

    def handle(self, *args: Any, **options: Any) -> None:
        run = {
            "create": self.create_key,
            "list": self.list_keys,
            "quota": self.set_quota,
            "revoke": self.revoke_key,
        }[options["command"]]
        try:
            run(options)
        except ApplicationError as error:
            raise CommandError(error.detail) from None
        except ValidationError as error:  # the services' checks of name, scopes, expiry
            message = " ".join(error.messages)
            if "scopes" in getattr(error, "error_dict", {}):
                message += f" The scopes: {', '.join(Scope)}."
            raise CommandError(message) from None

    # --- create ---------------------------------------------------------------------

    def create_key(self, options: dict[str, Any]) -> None:
        owner = None
        if not options["is_global"]:
            owner = user_by_login(options["user"])
            if owner is None:
                raise CommandError(f"No user {options['user']!r}.")
        if options["is_global"] and options["scopes"] is None:
            raise CommandError("A global key needs --scopes.")
        scopes = (
            parse_scopes(options["scopes"]) if options["scopes"] is not None else None
        )
        expires_at = parse_expiry(options["expires"]) if options["expires"] else None
        key, raw = api_key_create(
            actor=SYSTEM_ACTOR,
            owner_id=owner.pk if owner is not None else None,
            name=options["name"],
            scopes=scopes,
            expires_at=expires_at,
            client=SYSTEM,
            quota_per_hour=options["per_hour"],
            quota_per_day=options["per_day"],
        )
        self.stdout.write(
            f"Created API key {shown(key)} {owner_of(key)}, named {key.name!r}: scopes "
            f"{', '.join(key.scopes)}; quota {quota_of(key)}; expires "
            f"{when(key.expires_at, 'never')}."
        )
        self.stdout.write(raw)
        self.stdout.write(SHOWN_ONCE)

    # --- list -----------------------------------------------------------------------

    def list_keys(self, options: dict[str, Any]) -> None:
        if options["user"] is not None:
            owner = user_by_login(options["user"])
            if owner is None:
                raise CommandError(f"No user {options['user']!r}.")
            keys = api_keys_of(owner).select_related("user")
        else:
            keys = api_keys_all()
        rows = [row_of(key) for key in keys]
        if not rows:
            self.stdout.write("No API keys.")
            return
        self.stdout.write(table(COLUMNS, rows))

    # --- quota ----------------------------------------------------------------------

    def set_quota(self, options: dict[str, Any]) -> None:
        key = self.key_of(options["prefix"])
        changes = {
            field: options[option]
            for field, option in (
                ("quota_per_hour", "per_hour"),
                ("quota_per_day", "per_day"),
            )
            if options[option] is not KEEP
        }
        if not changes:
            raise CommandError("Give --per-hour and/or --per-day.")
        key = api_key_quota_set(
            actor=SYSTEM_ACTOR, key_id=key.pk, changes=changes, client=SYSTEM
        )
        self.stdout.write(
            f"API key {shown(key)} {owner_of(key)}: quota {quota_of(key)}, in force "
            "from its next request."
        )

    def key_of(self, typed: str) -> ApiKey:
        prefix = prefix_of(typed)
        key = api_key_by_prefix(prefix) if prefix else None
        if key is None:
            raise CommandError(f"No API key with the prefix {typed!r}.")
        return key

    # --- revoke ---------------------------------------------------------------------

    def revoke_key(self, options: dict[str, Any]) -> None:
        key = self.key_of(options["prefix"])
        if key.revoked_at is not None:
            raise CommandError(
                f"API key {shown(key)} was already revoked on {when(key.revoked_at)}."
            )
        key = api_key_revoke(actor=SYSTEM_ACTOR, key_id=key.pk, client=SYSTEM)
        self.stdout.write(
            f"Revoked API key {shown(key)} {owner_of(key)}: it stops working at once."
        )


class Keep:
    """An option left out: the quota stays as it is."""

    def __repr__(self) -> str:
        return "unchanged"


KEEP = Keep()


def quota_value(value: str) -> int | None:
    """``--per-hour 500``; ``none``: the owner's role's limit. The service checks the
    range."""
    if value.strip().lower() == NO_QUOTA:
        return None
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"a whole number, or {NO_QUOTA!r} for the role's limit"
        ) from None


def add_quota_arguments(
    parser: CommandParser, absent: str, *, default: int | Keep | None
) -> None:
    for option, what in (("--per-hour", "hour"), ("--per-day", "day")):
        parser.add_argument(
            option,
            type=quota_value,
            default=default,
            help=f"The key's own requests per {what} in the default group, any value; "
            f"{NO_QUOTA!r}: the owner's role's limit; {absent}.",
        )


def quota_of(key: ApiKey) -> str:
    """``500/h,role/d``: the key's own quota per hour and per day, ``role`` where it
    keeps its owner's role's limit; ``role`` alone when it has no quota of its own."""
    if key.quota_per_hour is None and key.quota_per_day is None:
        return "role"
    hourly = key.quota_per_hour if key.quota_per_hour is not None else "role"
    daily = key.quota_per_day if key.quota_per_day is not None else "role"
    return f"{hourly}/h,{daily}/d"


def prefix_of(value: str) -> str:
    """The stored prefix in what an operator typed: ``AbC123xyz0`` as ``list`` shows
    it, or the start of the key (``gth_AbC123xyz0``, ``gth_AbC123xyz0_…``)."""
    return value.strip().removeprefix(KEY_START).split("_", 1)[0]


def shown(key: ApiKey) -> str:
    """``gth_AbC123xyz0_…``: how the key begins, and all of it that is shown again."""
    return f"{KEY_START}{key.prefix}_…"


def parse_scopes(value: str) -> list[str]:
    """``users:read,files:read`` as a list; the service checks the names."""
    return [name.strip() for name in value.split(",") if name.strip()]


def parse_expiry(value: str) -> datetime:
    """``--expires 30d``: ``ban --for``'s durations, from now."""
    return timezone.now() + parse_duration(value, option="--expires")


def when(moment: datetime | None, absent: str = "-") -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else absent


def owner_of(key: ApiKey) -> str:
    return "(global)" if key.user is None else f"of {key.user.username}"


def row_of(key: ApiKey) -> tuple[str, ...]:
    last_used = when(key.last_used_at, "never")
    if key.last_used_at and key.last_used_ip:
        last_used += f" from {key.last_used_ip}"
    return (
        key.prefix,
        "(global)" if key.user is None else key.user.username,
        key.name or "-",
        ",".join(key.scopes),
        quota_of(key),
        when(key.expires_at, "never"),
        last_used,
        when(key.revoked_at),
    )
