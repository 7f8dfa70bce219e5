"""Small files of each kind, made in memory (tests of files)."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from PIL import Image

PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
TEXT = "Hello, files. Ünïcode too.\n".encode()
HTML = b"<!DOCTYPE html><html><script>alert(1)</script></html>"
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script/></svg>'
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 200


def image(kind: str, size: tuple[int, int] = (8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=kind)
    return buffer.getvalue()


SAMPLES = {
    "image/png": image("PNG"),
    "image/jpeg": image("JPEG"),
    "image/gif": image("GIF"),
    "image/webp": image("WEBP"),
    "application/pdf": PDF,
    "text/plain": TEXT,
}


def walk(folder: str) -> list[str]:
    """Every object name under ``folder`` of the storage, whatever its backend."""
    try:
        folders, names = default_storage.listdir(folder)
    except FileNotFoundError:
        return []
    found = [f"{folder}/{name}" for name in names]
    for each in folders:
        found += walk(f"{folder}/{each}")
    return found


def stored_names() -> list[str]:
    """Every object the files app keeps in the storage (files/ and avatars/)."""
    return sorted(walk("files") + walk("avatars"))


def on_local_storage() -> bool:
    return settings.STORAGES["default"]["BACKEND"].endswith("FileSystemStorage")


# Tests that reach into the folder itself (file times, paths).
local_storage_only = pytest.mark.skipif(
    not on_local_storage(), reason="reads the local folder directly"
)
