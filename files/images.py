"""Avatar images: an upload made safe, and the generated avatar drawn from initials.

An upload is never stored as sent. :func:`avatar_png` decides the type from the content
(``files.sniffing``: PNG, JPEG, GIF, WebP or BMP), checks the dimensions Pillow reads
from the header against ``AVATAR_MAX_PIXELS`` *before* a pixel is decoded (a 20000x20000
PNG of a few kilobytes would take gigabytes), then decodes the first frame, applies the
EXIF orientation, crops the centre square, scales it down to ``AVATAR_SIZE`` and encodes
a new PNG from the pixels alone: EXIF (GPS included), ICC and text chunks, other frames
and whatever was appended after the image's end (a polyglot's payload) are left behind.

:func:`generated_avatar` draws the initials on a colour derived from the user id: the
answer of ``GET users/{id}/avatar/`` for a user without an upload. Rendered once per
process and input (an LRU), so a warm request does no drawing.
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
import uuid
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import IO

from django.conf import settings
from PIL import Image, ImageDraw, ImageFont, ImageOps

from config.error_codes import ApplicationError
from files.sniffing import sniff_content_type

# Sniffed content type -> the only Pillow decoder allowed to open it (a PNG-named BMP is
# opened as the BMP it is; a type Pillow could read but we do not accept never reaches it).
AVATAR_FORMATS: dict[str, str] = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/gif": "GIF",
    "image/webp": "WEBP",
    "image/bmp": "BMP",
}

# Pillow's errors for a file that is not a readable image of its type: truncated data,
# a bad header, a broken chunk checksum, a decoder's failure.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError)


@dataclass(frozen=True)
class AvatarImage:
    """A re-encoded avatar: PNG bytes and their digest (the stored avatar's ETag)."""

    png: bytes
    sha256: str
    width: int
    height: int


def invalid_image(detail: str) -> ApplicationError:
    return ApplicationError("invalid_image", detail)


def unsupported_type() -> ApplicationError:
    return ApplicationError(
        "unsupported_file_type",
        "An avatar must be a PNG, JPEG, GIF, WebP or BMP image.",
        extra={"allowed_types": sorted(AVATAR_FORMATS)},
    )


def avatar_png(
    stream: IO[bytes],
    *,
    max_pixels: int | None = None,
    size: int | None = None,
) -> AvatarImage:
    """The avatar made from the upload ``stream``: at most ``size`` pixels square, PNG,
    nothing of the original but its pixels. ``415 unsupported_file_type`` for anything
    but the five image types (by content: SVG, PDF... whatever the name says); ``400
    invalid_image`` for more than ``max_pixels`` pixels (refused before decoding), a
    truncated or corrupt image."""
    max_pixels = max_pixels or settings.AVATAR_MAX_PIXELS
    size = size or settings.AVATAR_SIZE
    content_type = sniff_content_type(stream)
    if content_type not in AVATAR_FORMATS:
        raise unsupported_type()
    stream.seek(0)
    with warnings.catch_warnings():
        # Pillow warns (and past twice its own limit, raises) about huge images at open:
        # either is a refusal here, whatever its global MAX_IMAGE_PIXELS says.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(stream, formats=[AVATAR_FORMATS[content_type]])
        except (Image.DecompressionBombWarning, Image.DecompressionBombError):
            raise too_many_pixels(max_pixels) from None
        except _DECODE_ERRORS:
            raise invalid_image("The file is not a readable image.") from None
        with image:
            width, height = image.size
            # The header's word, before any pixel is decoded.
            if width <= 0 or height <= 0 or width * height > max_pixels:
                raise too_many_pixels(max_pixels)
            try:
                return _square_png(image, size=size)
            except (Image.DecompressionBombWarning, Image.DecompressionBombError):
                raise too_many_pixels(max_pixels) from None
            except _DECODE_ERRORS:
                raise invalid_image(
                    "The image is truncated or corrupt: it could not be decoded."
                ) from None


def too_many_pixels(max_pixels: int) -> ApplicationError:
    return ApplicationError(
        "invalid_image",
        f"The image has more than {max_pixels:,} pixels.",
        extra={"max_pixels": max_pixels},
    )


def _square_png(image: Image.Image, *, size: int) -> AvatarImage:
    image.seek(0)  # an animated GIF or WebP: its first frame only
    if image.format == "JPEG":
        # Decode at a reduced scale when the JPEG is much larger than the result
        # (libjpeg's DCT scaling): both sides stay at least ``size``.
        image.draft("RGB", (size, size))
    image.load()
    oriented = ImageOps.exif_transpose(image)  # the EXIF orientation, applied
    has_alpha = oriented.mode in {"RGBA", "LA", "PA"} or (
        oriented.mode == "P" and "transparency" in oriented.info
    )
    pixels = oriented.convert("RGBA" if has_alpha else "RGB")
    side = min(size, *pixels.size)
    square = ImageOps.fit(
        pixels, (side, side), method=Image.Resampling.LANCZOS, centering=(0.5, 0.5)
    )
    square.info.clear()  # no EXIF, ICC profile or text chunk goes to the encoder
    output = io.BytesIO()
    square.save(output, format="PNG", optimize=False, compress_level=6)
    png = output.getvalue()
    return AvatarImage(
        png=png,
        sha256=hashlib.sha256(png).hexdigest(),
        width=side,
        height=side,
    )


# --- The generated avatar ---------------------------------------------------------------

# Bump when the drawing changes: the ETag of every generated avatar changes with it.
GENERATED_VERSION = 1
# Background colours with a contrast of at least 4.5:1 against white text (WCAG AA;
# tests/files/test_images.py checks each), picked by the user id.
PALETTE: tuple[tuple[int, int, int], ...] = (
    (0xC6, 0x28, 0x28),  # red
    (0xAD, 0x14, 0x57),  # pink
    (0x6A, 0x1B, 0x9A),  # purple
    (0x45, 0x27, 0xA0),  # deep purple
    (0x28, 0x35, 0x93),  # indigo
    (0x15, 0x65, 0xC0),  # blue
    (0x01, 0x57, 0x9B),  # light blue
    (0x00, 0x60, 0x64),  # cyan
    (0x00, 0x69, 0x5C),  # teal
    (0x2E, 0x7D, 0x32),  # green
    (0x33, 0x69, 0x1E),  # light green
    (0x82, 0x4C, 0x00),  # amber
    (0xBF, 0x36, 0x0C),  # deep orange
    (0x4E, 0x34, 0x2E),  # brown
    (0x37, 0x47, 0x4F),  # blue grey
    (0x42, 0x42, 0x42),  # grey
)
TEXT_COLOUR = (0xFF, 0xFF, 0xFF)


def background_of(user_id: uuid.UUID) -> tuple[int, int, int]:
    """The user's colour: stable for an id, spread evenly over the palette."""
    digest = hashlib.sha256(user_id.bytes).digest()
    return PALETTE[int.from_bytes(digest[:4], "big") % len(PALETTE)]


def initials_of(display_name: str, username: str) -> str:
    """Up to two letters for the avatar: the first letter of the display name's first and
    last words, else of the username. A letter the bundled font cannot draw (a CJK
    character, an emoji) is not drawn as a box: the username is tried instead, and with
    nothing drawable the avatar is the colour alone. Accents are dropped (the font is
    ASCII): "Émile Zola" is "EZ"."""
    for source in (display_name, username):
        letters = _initials(source)
        if letters and all(_drawable(letter) for letter in letters):
            return letters
    return ""


def _initials(text: str) -> str:
    words = [word for word in text.split() if any(c.isalnum() for c in word)]
    if not words:
        return ""
    chosen = [words[0], words[-1]] if len(words) > 1 else [words[0]]
    return "".join(_first_letter(word) for word in chosen)


def _first_letter(word: str) -> str:
    letter = next(c for c in word if c.isalnum())
    base = unicodedata.normalize("NFKD", letter)[0]  # "É" -> "E", "ß" stays
    upper = base.upper()
    return upper if len(upper) == 1 else base  # "ß".upper() is "SS": keep one letter


@lru_cache(maxsize=4)
def _font(pixels: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # Pillow's own scalable font (Aileron, Pillow >= 10.1): no system font needed.
    return ImageFont.load_default(size=pixels)


@lru_cache(maxsize=512)
def _drawable(letter: str) -> bool:
    """Whether the bundled font has a glyph for ``letter`` (a missing one draws as the
    font's "notdef" box, the same as a private-use character's)."""
    font = _font(64)
    missing = font.getmask("\ue000")
    mask = font.getmask(letter)
    return not (mask.size == missing.size and bytes(mask) == bytes(missing))


def generated_etag(user_id: uuid.UUID, initials: str, size: int) -> str:
    """A digest of everything the drawing depends on: a warm client revalidates with it
    and gets a 304 without anything being drawn."""
    key = f"{GENERATED_VERSION}:{user_id}:{initials}:{size}".encode()
    return hashlib.sha256(key).hexdigest()[:32]


@lru_cache(maxsize=1024)
def generated_avatar(user_id: uuid.UUID, initials: str, size: int) -> bytes:
    """The PNG of ``initials`` in white on the user's colour, ``size`` pixels square.
    Cached per process (at most ~1,000 small PNGs: a few megabytes)."""
    image = Image.new("RGB", (size, size), background_of(user_id))
    if initials:
        draw = ImageDraw.Draw(image)
        font = _font(int(size * (0.42 if len(initials) > 1 else 0.5)))
        draw.text(
            (size / 2, size / 2), initials, fill=TEXT_COLOUR, font=font, anchor="mm"
        )
    output = io.BytesIO()
    image.save(output, format="PNG", optimize=True)
    return output.getvalue()
