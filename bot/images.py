"""A unit's photo made fit for a report: checked to be an image by its content (never its name),
turned upright, stripped of every piece of metadata (EXIF with its GPS position, XMP, comments),
flattened to RGB, its long side at most 1600 px, saved as JPEG.

Pure: bytes in, bytes out (Pillow, no file, no database), so the operations run it in a thread.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from typing import ClassVar, Literal

from PIL import Image, ImageOps, UnidentifiedImageError

LONG_SIDE = 1600  # px: a report's photo printed half a page wide at 200 dpi and more
QUALITY = 85
# A phone's largest photos are about 50 megapixels; beyond that an image is a decompression
# bomb (a few kilobytes of PNG that would take gigabytes to decode), refused before decoding.
MAX_PIXELS = 60_000_000
# Only the formats phones and chat apps send; others (EPS runs Ghostscript, among the rarer
# plugins) are never opened. JPEG's opener also reads MPO (some cameras' JPEG with two frames).
FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP")
# ISO base media files (`....ftyp<brand>`) with the brands of HEIC/HEIF/AVIF: images, but of a
# kind Pillow cannot read without a plugin, so the unit is told to send JPEG instead.
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif")


class ImageRefused(Exception):
    """What was sent cannot be kept as a photo; `reason` is `Refused.reason`'s value."""

    reason: ClassVar[Literal["not_image", "too_large", "unreadable"]] = "not_image"


class NotAnImage(ImageRefused):
    """Not an image at all (a text, a document), by its content."""


class Unreadable(NotAnImage):
    """An image, but one that cannot be read: cut short, damaged, or HEIC/AVIF."""

    reason = "unreadable"


class TooLarge(ImageRefused):
    """More pixels than `max_pixels`: a decompression bomb, or a panorama beyond reason."""

    reason = "too_large"


@dataclass(frozen=True)
class Normalized:
    jpeg: bytes
    width: int
    height: int

    @property
    def digest(self) -> str:
        """The content's SHA-256, hex: its file name, and how a photo sent twice is known."""
        return hashlib.sha256(self.jpeg).hexdigest()


def normalized(
    content: bytes, *, long_side: int = LONG_SIDE, max_pixels: int = MAX_PIXELS
) -> Normalized:
    """`content` as an upright RGB JPEG without metadata, its long side at most `long_side`.

    Raises `NotAnImage`, `Unreadable` or `TooLarge`.
    """
    image = _opened(content, max_pixels)
    try:
        image.draft("RGB", (long_side, long_side))  # a JPEG decodes at 1/2, 1/4, 1/8: less memory
        image.load()
        image = ImageOps.exif_transpose(image)  # upright before its EXIF is dropped
        image = _rgb(image)
        image.thumbnail((long_side, long_side), Image.Resampling.LANCZOS)
    except (OSError, SyntaxError, ValueError, EOFError) as error:  # Pillow's "cannot decode"
        raise Unreadable(str(error)) from error
    clean = Image.new("RGB", image.size)  # a fresh image: no info, no EXIF, XMP nor ICC carried
    clean.paste(image)
    out = io.BytesIO()
    clean.save(out, "JPEG", quality=QUALITY, optimize=True)
    return Normalized(out.getvalue(), clean.width, clean.height)


def _opened(content: bytes, max_pixels: int) -> Image.Image:
    """The image's header read (nothing decoded yet), its size checked."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # checked below
            image = Image.open(io.BytesIO(content), formats=FORMATS)
    except Image.DecompressionBombError as error:
        raise TooLarge(str(error)) from error
    except UnidentifiedImageError as error:
        if content[4:8] == b"ftyp" and content[8:12] in _HEIF_BRANDS:
            raise Unreadable("HEIC/HEIF/AVIF") from error
        raise NotAnImage("not an image") from error
    except (OSError, SyntaxError, ValueError) as error:  # a known header, broken
        raise Unreadable(str(error)) from error
    if min(image.size) < 1:
        raise Unreadable("an image without pixels")
    if image.width * image.height > max_pixels:
        raise TooLarge(f"{image.width}x{image.height}")
    return image


def _rgb(image: Image.Image) -> Image.Image:
    """RGB, what JPEG holds: transparency laid on white (as the page it will be printed on)."""
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return image.convert("RGB")
