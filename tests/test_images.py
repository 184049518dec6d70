"""The photo normaliser (`bot/images.py`): what it keeps, what it drops, what it refuses."""

import io
import struct
import zlib

import pytest
from PIL import Image

from bot.images import NotAnImage, TooLarge, Unreadable, normalized

GPS = 0x8825  # the EXIF tag of the GPS block
ORIENTATION = 0x0112


def encoded(image: Image.Image, fmt: str, **params) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def with_gps(size=(400, 300), orientation: int | None = None) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Phone maker"
    exif.get_ifd(GPS).update({1: "N", 2: (21.0, 1.0, 30.0), 3: "E", 4: (105.0, 50.0, 10.0)})
    if orientation:
        exif[ORIENTATION] = orientation
    return encoded(Image.new("RGB", size, (200, 30, 30)), "JPEG", exif=exif.tobytes())


def opened(content: bytes) -> Image.Image:
    return Image.open(io.BytesIO(content))


def test_a_photo_comes_out_a_jpeg_without_any_exif_and_no_gps():
    original = with_gps()
    assert opened(original).getexif().get_ifd(GPS)  # the input really carries a position
    done = normalized(original)
    out = opened(done.jpeg)
    assert out.format == "JPEG" and out.mode == "RGB" and out.size == (400, 300)
    assert (done.width, done.height) == (400, 300)
    assert not out.getexif() and "exif" not in out.info and "xmp" not in out.info
    assert b"Phone maker" not in done.jpeg


def test_the_long_side_is_brought_to_1600_keeping_the_proportions():
    done = normalized(encoded(Image.new("RGB", (4000, 3000), "green"), "JPEG"))
    assert (done.width, done.height) == (1600, 1200)
    tall = normalized(encoded(Image.new("RGB", (1000, 5000), "blue"), "PNG"), long_side=800)
    assert (tall.width, tall.height) == (160, 800)


def test_a_small_image_is_not_enlarged():
    done = normalized(encoded(Image.new("RGB", (120, 80), "white"), "PNG"))
    assert (done.width, done.height) == (120, 80)


def test_an_exif_orientation_is_applied_before_the_exif_is_dropped():
    done = normalized(with_gps((400, 300), orientation=6))  # "rotate 90° clockwise to view"
    assert (done.width, done.height) == (300, 400)
    assert not opened(done.jpeg).getexif()


def test_a_png_with_transparency_is_laid_on_white():
    image = Image.new("RGBA", (50, 40), (0, 0, 0, 0))
    image.paste((255, 0, 0, 255), (0, 0, 16, 16))
    out = opened(normalized(encoded(image, "PNG")).jpeg)
    assert out.mode == "RGB"
    assert all(channel > 240 for channel in out.getpixel((30, 30)))  # transparent -> white
    red, green, _blue = out.getpixel((8, 8))
    assert red > 200 and green < 80


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "BMP"])
def test_other_formats_phones_send_are_read(fmt):
    image = Image.new("RGB", (64, 48), (10, 120, 200))
    done = normalized(encoded(image.convert("P") if fmt == "GIF" else image, fmt))
    assert opened(done.jpeg).format == "JPEG" and (done.width, done.height) == (64, 48)


def test_the_same_photo_gives_the_same_bytes_and_digest():
    original = with_gps()
    first, second = normalized(original), normalized(original)
    assert first.jpeg == second.jpeg and len(first.digest) == 64


@pytest.mark.parametrize(
    "content",
    [b"", b"Bao cao tuan le hoc tap suot doi\n", b"%PDF-1.7\n1 0 obj\n", b"PK\x03\x04" + b"0" * 40],
    ids=["empty", "text", "pdf", "zip"],
)
def test_what_is_not_an_image_is_refused_by_its_content(content):
    with pytest.raises(NotAnImage) as refused:
        normalized(content)
    assert refused.value.reason == "not_image"


def test_a_truncated_jpeg_is_unreadable():
    whole = encoded(Image.effect_noise((800, 600), 60).convert("RGB"), "JPEG")
    with pytest.raises(Unreadable) as refused:
        normalized(whole[: len(whole) // 3])
    assert refused.value.reason == "unreadable"


def test_heic_is_refused_as_unreadable_with_a_reason_of_its_own():
    heic = struct.pack(">I", 24) + b"ftypheic" + b"\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    with pytest.raises(Unreadable):
        normalized(heic)


def png_of_size(width: int, height: int) -> bytes:
    """A PNG whose header claims `width` × `height`: a few bytes that would decode to gigabytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("side", [10_000, 100_000])
def test_a_decompression_bomb_is_refused_before_it_is_decoded(side):
    with pytest.raises(TooLarge) as refused:
        normalized(png_of_size(side, side))
    assert refused.value.reason == "too_large"


def test_the_pixel_cap_is_a_parameter():
    content = encoded(Image.new("RGB", (300, 300)), "PNG")
    with pytest.raises(TooLarge):
        normalized(content, max_pixels=300 * 299)
    assert normalized(content, max_pixels=300 * 300).width == 300
