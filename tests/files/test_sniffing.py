"""``files.sniffing``: the type is what the content is."""

from __future__ import annotations

import io

import pytest

from files.sniffing import sniff_content_type
from tests.files.samples import ELF, EXE, HTML, PDF, SAMPLES, SVG


@pytest.mark.parametrize("content_type", sorted(SAMPLES))
def test_each_allowed_sample_is_recognised(content_type: str) -> None:
    assert sniff_content_type(io.BytesIO(SAMPLES[content_type])) == content_type


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (HTML, "text/html"),
        (b"  \n<p>hello</p>", "text/html"),
        (b"notes\n<script>alert(1)</script>", "text/html"),
        (b'see <a href="x">this</a>', "text/html"),
        (b"\xef\xbb\xbf<html></html>", "text/html"),
        (SVG, "image/svg+xml"),
        (b"<svg onload=alert(1)>", "image/svg+xml"),
        (b'<?xml version="1.0"?><note/>', "application/xml"),
        (EXE, "application/x-msdownload"),
        (ELF, "application/x-executable"),
        (b"", None),
        (b"\x00\x01\x02\x03", None),
        (b"caf\xe9", None),  # Latin-1, not UTF-8
        (b"plain words, 3 < 4 and 5 > 2\n", "text/plain"),
        (b"\xef\xbb\xbfnotes from Notepad\r\n", "text/plain"),
    ],
)
def test_what_content_is(data: bytes, expected: str | None) -> None:
    assert sniff_content_type(io.BytesIO(data)) == expected


def test_the_stream_is_left_at_its_start() -> None:
    stream = io.BytesIO(PDF)
    stream.seek(10)

    sniff_content_type(stream)

    assert stream.tell() == 0
