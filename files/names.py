"""The client's file name, cleaned to be shown and sent back as metadata only.

It is never part of a storage name (``files.models.new_file_storage_name``): what is kept
is the last path component (``/`` and ``\\`` both separate), without control characters,
Unicode format characters (bidi overrides such as U+202E, zero-width marks), leading dots
or surrounding spaces, capped at :data:`NAME_MAX_LENGTH` characters with its extension
kept. Nothing left gives :data:`FALLBACK_NAME`.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

NAME_MAX_LENGTH: Final = 200
FALLBACK_NAME: Final = "file"
_EXTENSION_MAX_LENGTH: Final = 16
# Cc: control characters (NUL, newlines, DEL...); Cf: format characters (bidi
# overrides and isolates, zero-width joiners, the byte order mark); Cs, Co, Cn:
# surrogates, private use and unassigned code points.
_DROPPED_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_SPACES: Final = re.compile(r"\s+")


def clean_file_name(name: str) -> str:
    """``name`` as it may be stored and shown (see the module's docstring)."""
    name = unicodedata.normalize("NFC", name)
    name = "".join(
        character
        for character in name
        if unicodedata.category(character) not in _DROPPED_CATEGORIES
    )
    name = re.split(r"[/\\]", name)[-1]
    name = _SPACES.sub(" ", name).strip().lstrip(".").strip()
    if len(name) > NAME_MAX_LENGTH:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and 0 < len(extension) <= _EXTENSION_MAX_LENGTH:
            name = (
                stem[: NAME_MAX_LENGTH - len(extension) - 1].rstrip() + "." + extension
            )
        else:
            name = name[:NAME_MAX_LENGTH].rstrip()
    return name or FALLBACK_NAME
