"""Checking and preparing an uploaded image before anything is stored.

Everything here is pure: bytes in, a :class:`PreparedImage` out, or an
:class:`InvalidInput` whose message says what is wrong and what is allowed.
Nothing touches a store, so a rejected upload leaves no trace.
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from workbench.errors import InvalidInput

__all__ = ["PreparedImage", "prepare_image", "safe_filename", "ALLOWED_FORMATS"]

ALLOWED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif",
                   "TIFF": "image/tiff", "MPO": "image/jpeg"}
_GPS_TAG = 0x8825
MAX_EXIF_BYTES = 64 * 1024


@dataclass(frozen=True)
class PreparedImage:
    """An accepted image: what to store and what to record about it."""

    sha256: str          # of the uploaded bytes: deduplication is by what the user sent
    original: bytes      # what is stored (the upload, re-encoded only to drop GPS)
    mime: str
    thumbnail: bytes     # WebP, longest side ``thumbnail_px``
    width: int
    height: int
    colors: list[str]    # dominant colours, hex, most common first
    filename: str


def safe_filename(name: str) -> str:
    """A filename with no folders, control characters or surprises (display and archives)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in unicodedata.normalize("NFC", base) if unicodedata.category(c)[0] != "C")
    base = base.strip().strip(".") or "image"
    return base[:200]


def _human_bytes(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


def _open_checked(data: bytes, filename: str, max_pixels: int) -> Image.Image:
    head = data[:512].lstrip().lower()
    if head.startswith(b"<?xml") or b"<svg" in head:
        raise InvalidInput(f"{filename} is an SVG drawing; upload JPEG, PNG, WebP, GIF or TIFF images.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning, OSError) as error:
        if isinstance(error, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
            raise InvalidInput(f"{filename} is too large to open safely (limit {max_pixels:,} pixels).") from None
        raise InvalidInput(
            f"{filename} is not an image we can read; upload JPEG, PNG, WebP, GIF or TIFF."
        ) from None
    if image.format not in ALLOWED_FORMATS:
        raise InvalidInput(
            f"{filename} is a {image.format or 'unknown'} file; upload JPEG, PNG, WebP, GIF or TIFF."
        )
    exif = image.info.get("exif") or b""
    if len(exif) > MAX_EXIF_BYTES:
        # JPEG caps an EXIF block at 64 KB; a bigger one is malformed or an attempt to smuggle data.
        raise InvalidInput(
            f"{filename} carries {len(exif) // 1024} KB of EXIF metadata; the limit is {MAX_EXIF_BYTES // 1024} KB."
        )
    width, height = image.size
    # Checked on the header, before any pixel is decoded: a small file can
    # claim billions of pixels (a decompression bomb).
    if width * height > max_pixels:
        raise InvalidInput(
            f"{filename} is {width:,} x {height:,} pixels ({width * height / 1e6:.0f} megapixels); "
            f"the limit is {max_pixels / 1e6:.0f} megapixels."
        )
    return image


def _dominant_colors(image: Image.Image, count: int = 5) -> list[str]:
    small = image.convert("RGB").resize((64, 64))
    quantized = small.quantize(colors=count, method=Image.Quantize.MEDIANCUT)
    palette = quantized.getpalette() or []
    # A palette image reports each colour as (pixel count, palette index).
    counted = [(n, index) for n, index in quantized.getcolors() or [] if isinstance(index, int)]
    ranked = sorted(counted, reverse=True)
    return ["#" + bytes(palette[i * 3 : i * 3 + 3]).hex() for _, i in ranked][:count]


def _without_gps(image: Image.Image, data: bytes) -> bytes:
    exif = image.getexif()
    if _GPS_TAG not in exif:
        return data
    del exif[_GPS_TAG]
    out = io.BytesIO()
    params: dict[str, bytes | int] = {"exif": exif.tobytes()}
    if image.format == "JPEG":
        params["quality"] = 95
    image.save(out, format=image.format, **params)
    return out.getvalue()


def prepare_image(data: bytes, filename: str, *, max_bytes: int, max_pixels: int, thumbnail_px: int) -> PreparedImage:
    """Validate an upload and compute everything that will be stored about it.

    Raises :class:`InvalidInput` for an empty, oversized, unreadable, SVG or
    too-many-pixel file.
    """
    filename = safe_filename(filename)
    if not data:
        raise InvalidInput(f"{filename} is empty.")
    if len(data) > max_bytes:
        raise InvalidInput(f"{filename} is {_human_bytes(len(data))}; the limit is {_human_bytes(max_bytes)}.")
    image = _open_checked(data, filename, max_pixels)
    try:
        image.seek(0)  # GIF and multi-page TIFF: the first frame
        image.load()
    except (OSError, ValueError, SyntaxError) as error:
        raise InvalidInput(f"{filename} is damaged and cannot be decoded ({error}).") from None
    original = _without_gps(image, data)
    upright = ImageOps.exif_transpose(image)
    if upright.mode not in ("RGB", "RGBA"):
        upright = upright.convert("RGBA" if "A" in upright.getbands() or upright.mode == "P" else "RGB")
    thumb = upright.copy()
    thumb.thumbnail((thumbnail_px, thumbnail_px))
    buffer = io.BytesIO()
    thumb.save(buffer, format="WEBP", quality=82)
    return PreparedImage(
        sha256=hashlib.sha256(data).hexdigest(),
        original=original,
        mime=ALLOWED_FORMATS[image.format or "PNG"],
        thumbnail=buffer.getvalue(),
        width=upright.width,
        height=upright.height,
        colors=_dominant_colors(thumb),
        filename=filename,
    )
