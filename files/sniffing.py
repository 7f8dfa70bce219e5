"""What a file is, by its content: never by its name or the type the client declared.

``filetype`` reads the signature at the start of the file (explicit matchers per type,
no heuristics). Plain text has no signature: a file is ``text/plain`` when it has no
recognised signature and all of it decodes as UTF-8 without control characters other
than tab, line feed, carriage return and form feed -- and is no markup: text that is
HTML, SVG or XML (:func:`markup_type`) is reported as such, never as ``text/plain``, so
it is refused unless its own type is allowed (a browser, or a user opening the download,
would render it, scripts included).
"""

from __future__ import annotations

import codecs
from typing import IO

import filetype

# filetype needs the first 261 bytes; a little more costs nothing.
HEAD_BYTES = 8192
CHUNK_BYTES = 64 * 1024
# Tab, line feed, carriage return, form feed, and the byte order mark Windows editors
# start UTF-8 text with.
_TEXT_CONTROLS_ALLOWED = frozenset("\t\n\r\f\ufeff")


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
    if not _is_text(stream):
        return None
    return markup_type(head) or "text/plain"


# Markers of markup a browser renders, looked for (case-insensitively) in the head of
# a text file: a generous net, since a text/plain file is never refused for holding them
# except when it is refused outright as markup.
_SVG_MARKERS = (b"<svg",)
_HTML_MARKERS = (
    b"<!doctype html",
    b"<html",
    b"<head",
    b"<body",
    b"<script",
    b"<iframe",
    b"<object",
    b"<embed",
    b"<meta",
    b"<style",
    b"<img",
    b"<a ",
    b"javascript:",
)


def markup_type(head: bytes) -> str | None:
    """``image/svg+xml``, ``application/xml`` or ``text/html`` for text whose start
    is markup (or that holds an SVG or an HTML element a browser would run), else
    ``None``."""
    lowered = head.lower()
    start = lowered.lstrip(b"\xef\xbb\xbf").lstrip()
    if any(marker in lowered for marker in _SVG_MARKERS):
        return "image/svg+xml"
    if start.startswith(b"<?xml"):
        return "application/xml"
    if start.startswith(b"<") or any(marker in lowered for marker in _HTML_MARKERS):
        return "text/html"
    return None


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
