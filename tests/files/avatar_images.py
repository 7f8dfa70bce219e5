"""Images made in the tests with Pillow (no fixture files), and a crafted PNG bomb."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def image_bytes(
    image_format: str = "PNG",
    size: tuple[int, int] = (64, 48),
    colour: tuple[int, ...] = (200, 30, 40),
    mode: str = "RGB",
    **save: object,
) -> bytes:
    output = io.BytesIO()
    Image.new(mode, size, colour).save(output, format=image_format, **save)
    return output.getvalue()


def png_bytes(size: tuple[int, int] = (64, 48)) -> bytes:
    return image_bytes("PNG", size)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png_bomb(side: int = 20_000) -> bytes:
    """A valid ``side`` x ``side`` 1-bit PNG of zeros: tens of kilobytes on disk,
    ``side``² pixels (400 million, over a gigabyte as RGB) once decoded."""
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1-bit greyscale
    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte + packed bits
    data = b"".join(compressor.compress(row) for _ in range(side))
    data += compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", data)
        + _chunk(b"IEND", b"")
    )
