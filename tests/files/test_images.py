"""The avatar pipeline (files.images): what is accepted, what is refused and why, and
that nothing of the original file but its pixels survives."""

from __future__ import annotations

import io
import uuid

import pytest
from PIL import Image, ImageFile

from config.error_codes import ApplicationError
from files.images import (
    PALETTE,
    TEXT_COLOUR,
    avatar_png,
    background_of,
    generated_avatar,
    generated_etag,
    initials_of,
)
from tests.files.avatar_images import image_bytes, png_bomb


def decoded(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


@pytest.mark.parametrize(
    ("image_format", "mode", "colour"),
    [
        ("PNG", "RGBA", (10, 20, 30, 128)),
        ("JPEG", "RGB", (10, 20, 30)),
        ("GIF", "P", 3),
        ("WEBP", "RGB", (10, 20, 30)),
        ("BMP", "RGB", (10, 20, 30)),
    ],
)
def test_every_allowed_type_becomes_a_square_png(
    image_format: str, mode: str, colour: object
) -> None:
    upload = io.BytesIO(image_bytes(image_format, (900, 600), colour, mode))

    result = avatar_png(upload, max_pixels=10_000_000, size=512)

    image = decoded(result.png)
    assert image.format == "PNG"
    assert image.size == (512, 512) == (result.width, result.height)
    assert image.mode in {"RGB", "RGBA"}
    assert (image.mode == "RGBA") is (image_format == "PNG")  # transparency kept


def test_a_small_image_is_cropped_square_but_not_enlarged() -> None:
    result = avatar_png(io.BytesIO(image_bytes("PNG", (100, 40))), size=512)

    assert decoded(result.png).size == (40, 40)


def test_the_centre_square_is_kept() -> None:
    # A wide image: red left third, green centre, blue right third.
    image = Image.new("RGB", (300, 100), (255, 0, 0))
    image.paste((0, 255, 0), (100, 0, 200, 100))
    image.paste((0, 0, 255), (200, 0, 300, 100))
    upload = io.BytesIO()
    image.save(upload, "PNG")

    result = decoded(avatar_png(upload, size=100).png)

    assert result.size == (100, 100)
    assert result.getpixel((50, 50)) == (0, 255, 0)
    assert result.getpixel((2, 50))[1] > 200  # no red or blue border came along


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n", "pdf"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
            b"<script>alert(1)</script></svg>",
            "svg",
        ),
        (
            b"GIF87a-not-really",
            "truncated gif header",
        ),  # sniffed GIF, refused 400 below
        (image_bytes("TIFF"), "tiff"),
        (b"plain text", "text"),
    ],
)
def test_anything_but_the_five_image_types_is_unsupported(
    content: bytes, name: str
) -> None:
    with pytest.raises(ApplicationError) as refused:
        avatar_png(io.BytesIO(content))

    expected = "invalid_image" if name == "truncated gif header" else None
    assert refused.value.code == (expected or "unsupported_file_type"), name


def test_a_decompression_bomb_is_refused_from_its_header_without_decoding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bomb = png_bomb(20_000)
    assert len(bomb) < 200_000  # small on disk, 400 million pixels once decoded
    decodes: list[object] = []
    monkeypatch.setattr(
        ImageFile.ImageFile, "load", lambda self: decodes.append(self) or None
    )

    with pytest.raises(ApplicationError) as refused:
        avatar_png(io.BytesIO(bomb), max_pixels=40_000_000)

    assert refused.value.code == "invalid_image"
    assert refused.value.status == 400
    assert "pixels" in refused.value.detail
    assert decodes == []  # never decoded: no pixel memory was asked for


def test_the_pixel_limit_is_the_setting_not_pillows(settings: object) -> None:
    upload = io.BytesIO(image_bytes("PNG", (300, 300)))

    with pytest.raises(ApplicationError) as refused:
        avatar_png(upload, max_pixels=300 * 300 - 1)

    assert refused.value.code == "invalid_image"


@pytest.mark.parametrize("image_format", ["PNG", "JPEG", "GIF", "WEBP", "BMP"])
def test_a_truncated_image_is_invalid(image_format: str) -> None:
    whole = image_bytes(image_format, (400, 400), (1, 2, 3), "RGB")
    # Keep the header (the type is still sniffed), lose most of the pixels.
    truncated = whole[: max(64, len(whole) // 3)]
    if len(truncated) == len(whole):
        truncated = whole[:64]

    with pytest.raises(ApplicationError) as refused:
        avatar_png(io.BytesIO(truncated))

    assert refused.value.code == "invalid_image"


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (200, 100), (120, 10, 10))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    gps = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    exif[0x8825] = gps  # GPSInfo IFD
    output = io.BytesIO()
    image.save(output, "JPEG", exif=exif)
    return output.getvalue()


def test_exif_and_gps_are_gone_from_the_stored_png() -> None:
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # GPS there

    png = avatar_png(io.BytesIO(original)).png

    image = decoded(png)
    assert not image.getexif()
    assert "exif" not in image.info
    assert "icc_profile" not in image.info
    assert b"SecretCam" not in png
    assert b"Exif" not in png
    assert b"eXIf" not in png


def test_bytes_appended_after_the_image_end_are_gone() -> None:
    payload = b"<?php system($_GET['c']); ?>PK\x03\x04polyglot-payload"
    upload = io.BytesIO(image_bytes("PNG", (80, 80)) + payload)

    png = avatar_png(upload).png

    assert payload not in png
    assert b"polyglot" not in png
    assert png.endswith(b"IEND\xaeB`\x82")


def test_the_exif_orientation_is_applied() -> None:
    # A 200x100 picture tagged "rotate 90" is 100x200 upright: its square is its
    # top (now red) part when the top half is red after rotation.
    image = Image.new("RGB", (200, 100), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 100, 100))  # the left half red
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW to display
    output = io.BytesIO()
    image.save(output, "PNG", exif=exif)

    result = decoded(avatar_png(io.BytesIO(output.getvalue()), size=100).png)

    # Upright it is 100 wide and 200 tall: the left half became the top half, and the
    # centre square straddles both colours, red above blue.
    assert result.size == (100, 100)
    top, bottom = result.getpixel((50, 5)), result.getpixel((50, 95))
    assert top[0] > 200
    assert bottom[2] > 200


def test_an_animated_gif_keeps_its_first_frame_only() -> None:
    frames = [Image.new("P", (60, 60), index) for index in (1, 2, 3)]
    output = io.BytesIO()
    frames[0].save(output, "GIF", save_all=True, append_images=frames[1:], duration=50)

    png = avatar_png(io.BytesIO(output.getvalue())).png

    image = Image.open(io.BytesIO(png))
    assert getattr(image, "n_frames", 1) == 1
    assert b"acTL" not in png  # not an animated PNG either


def contrast(colour: tuple[int, int, int], other: tuple[int, int, int]) -> float:
    def luminance(rgb: tuple[int, int, int]) -> float:
        channels = [
            value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4
            for value in (channel / 255 for channel in rgb)
        ]
        return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]

    light, dark = sorted((luminance(colour), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("colour", PALETTE)
def test_every_background_is_readable_under_white_text(
    colour: tuple[int, int, int],
) -> None:
    assert contrast(colour, TEXT_COLOUR) >= 4.5


def test_the_generated_avatar_is_a_png_of_the_size_on_the_users_own_colour() -> None:
    user_id = uuid.UUID("0b8f0f6e-5d1c-4a86-9a55-2b2f3c1f7e10")

    png = generated_avatar(user_id, "AL", 512)

    image = decoded(png)
    assert (image.format, image.size) == ("PNG", (512, 512))
    assert image.convert("RGB").getpixel((3, 3)) == background_of(user_id)
    assert background_of(user_id) == background_of(uuid.UUID(str(user_id)))
    assert TEXT_COLOUR in {
        colour for _, colour in image.convert("RGB").getcolors(10**6)
    }


def test_colours_spread_over_the_palette() -> None:
    colours = {background_of(uuid.uuid4()) for _ in range(400)}

    assert len(colours) > len(PALETTE) // 2


def test_the_etag_follows_what_is_drawn() -> None:
    user_id = uuid.uuid4()

    assert generated_etag(user_id, "AL", 512) == generated_etag(user_id, "AL", 512)
    assert generated_etag(user_id, "AL", 512) != generated_etag(user_id, "AB", 512)
    assert generated_etag(user_id, "AL", 512) != generated_etag(uuid.uuid4(), "AL", 512)


@pytest.mark.parametrize(
    ("display_name", "username", "initials"),
    [
        ("Ada Lovelace", "ada", "AL"),
        ("ada", "x", "A"),
        ("Ada Augusta King Lovelace", "ada", "AL"),
        ("émile zola", "ez", "EZ"),  # accents dropped, upper case
        ("  ", "grace", "G"),
        ("李小龙", "bruce", "B"),  # the font has no CJK: the username's
        ("Жанна", "zhanna", "Z"),
        ("😀 🎉", "party", "P"),  # emoji are not letters
        ("😀", "😀", ""),  # nothing drawable: the colour alone
        ("straße", "x", "S"),
        ("o'neil 3rd", "x", "O3"),
    ],
)
def test_initials(display_name: str, username: str, initials: str) -> None:
    assert initials_of(display_name, username) == initials
