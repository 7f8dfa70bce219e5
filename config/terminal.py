"""Output of ``manage.py`` commands, shared by every app's commands."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta

from django.core.management.base import CommandError

DURATION = re.compile(r"^(\d+)([smhdw])$")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: str, *, option: str) -> timedelta:
    """``30m``, ``12h``, ``7d``, ``2w`` as a duration; a one-line ``CommandError``
    naming ``option`` (``--for``, ``--expires``) otherwise."""
    match = DURATION.match(value.strip().lower())
    if not match or int(match.group(1)) == 0:
        raise CommandError(
            f"{option} takes a duration such as 30m, 12h, 7d or 2w, not {value!r}."
        )
    return timedelta(seconds=int(match.group(1)) * UNIT_SECONDS[match.group(2)])


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell, two spaces apart; no trailing spaces."""
    widths = [
        max(len(row[column]) for row in [header, *rows])
        for column in range(len(header))
    ]
    return "\n".join(
        "  ".join(
            cell.ljust(width) for cell, width in zip(row, widths, strict=True)
        ).rstrip()
        for row in [header, *rows]
    )
