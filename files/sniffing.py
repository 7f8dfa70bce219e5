"""What a file is, by its content: never by its name or the type the client declared.

``filetype`` reads the signature at the start of the file (explicit matchers per type,
no heuristics). Plain text has no signature: a file is ``text/plain`` when it has no
recognised signature and all of it decodes as UTF-8 without control characters other
than tab, line feed, carriage return and form feed.
"""

from __future__ import annotations

import codecs
from typing import IO

import filetype

# filetype needs the first 261 bytes; a little more costs nothing.
HEAD_BYTES = 8192
CHUNK_BYTES = 64 * 1024
_TEXT_CONTROLS_ALLOWED = frozenset("\t\n\r\f")


def sniff_content_type(stream: IO[bytes]) -> str | None:
    """The content type of ``stream`` read from its content, or ``None`` when it is
    nothing recognised. Reads from the start and leaves the stream at the start."""
    stream.seek(0)
    head = stream.read(HEAD_BYTES)
    stream.seek(0)
    if not head:
        return None
    kind = filetype.guess(head)
    if kind is not None:
        return str(kind.mime)
    return "text/plain" if _is_text(stream) else None


def _is_text(stream: IO[bytes]) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        while chunk := stream.read(CHUNK_BYTES):
            if not _printable(decoder.decode(chunk)):
                return False
        return _printable(decoder.decode(b"", final=True))
    except UnicodeDecodeError:
        return False
    finally:
        stream.seek(0)


def _printable(text: str) -> bool:
    return all(
        character.isprintable() or character in _TEXT_CONTROLS_ALLOWED
        for character in text
    )
