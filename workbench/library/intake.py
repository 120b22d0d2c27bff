"""Checking and preparing an uploaded image before anything is stored.

Everything here is pure: bytes in, a :class:`PreparedImage` out, or an
:class:`InvalidInput` whose message says what is wrong and what is allowed.
Nothing touches a store, so a rejected upload leaves no trace.

Every Pillow call on the user's bytes (open, load, EXIF, transpose, convert,
thumbnail, quantise, save) runs inside :func:`_decoding`: whatever a decoder
raises on a hostile or damaged file becomes an :class:`InvalidInput` that says
"damaged or truncated", never a stray ``ValueError`` or ``SyntaxError``.
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from workbench.errors import InvalidInput
from workbench.library.location import GPS_IFD, edited_size, location_edits, strip_location, write_edited
from workbench.text import clean_text

__all__ = ["PreparedImage", "prepare_image", "clean_original", "open_clean_original", "search_still",
           "safe_filename", "ALLOWED_FORMATS", "MAX_FILENAME_CHARS", "MAX_FILENAME_BYTES"]

ALLOWED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif",
                   "TIFF": "image/tiff", "MPO": "image/jpeg"}
# The decoders Pillow may run on user bytes (an MPO is found by the JPEG decoder); no other
# plugin ever sees an upload, which keeps the attack surface to five well-worn decoders.
_DECODERS = ["JPEG", "PNG", "WEBP", "GIF", "TIFF"]
_LABELS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WebP", "GIF": "GIF", "TIFF": "TIFF"}
_UPLOADABLE = "upload JPEG, PNG, WebP, GIF or TIFF"
MAX_EXIF_BYTES = 64 * 1024
MAX_FILENAME_CHARS = 200
MAX_FILENAME_BYTES = 255  # what most file systems allow in one name, so an export unpacks anywhere

# How each allowed format starts: a file that starts like one but will not open is damaged,
# not of an unknown kind.
_SIGNATURES = ((b"\xff\xd8\xff", "JPEG"), (b"\x89PNG\r\n\x1a\n", "PNG"), (b"GIF87a", "GIF"), (b"GIF89a", "GIF"),
               (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"), (b"II+\x00", "TIFF"), (b"MM\x00+", "TIFF"))
# Files people upload by mistake, named in the message so they know what to export instead.
_OTHER_KINDS = ((b"%PDF", "a PDF document"), (b"8BPS", "a Photoshop document"), (b"PK\x03\x04", "a ZIP archive"),
                (b"\x1f\x8b", "a compressed (gzip) file"))
_FTYP_KINDS = {b"heic": "a HEIC photo", b"heix": "a HEIC photo", b"mif1": "a HEIF photo", b"avif": "an AVIF image",
               b"qt  ": "a video", b"isom": "a video", b"mp41": "a video", b"mp42": "a video"}


@dataclass(frozen=True)
class PreparedImage:
    """An accepted image: what to store and what to record about it."""

    sha256: str          # of the uploaded bytes: deduplication is by what the user sent
    original: bytes      # what is stored: the upload without GPS, XMP or IPTC (pixels untouched)
    mime: str
    thumbnail: bytes     # WebP, longest side ``thumbnail_px``
    width: int
    height: int
    colors: list[str]    # dominant colours, hex, most common first
    filename: str


def safe_filename(name: str) -> str:
    """A file name fit to show and to put in an archive: no folders, no control characters,
    at most 200 characters and 255 UTF-8 bytes, and the extension kept when it is shortened.

    >>> safe_filename("../../shots/" + "夜" * 300 + ".jpg")[-4:]
    '.jpg'
    """
    base = name.replace("\\", "/").rsplit("/", 1)[-1] if isinstance(name, str) else name
    base = clean_text(base, field="file name", max_chars=4 * MAX_FILENAME_CHARS, truncate=True)
    # Stricter than other text: no format or private characters either (a right-to-left
    # override would show "photo\u202egnp.exe" as "photoexe.png").
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip().strip(".").strip()
    stem, dot, ext = base.rpartition(".")
    if not (dot and stem and 1 <= len(ext) <= 10 and ext.isalnum()):
        stem, ext = base, ""
    suffix = f".{ext}" if ext else ""
    stem = stem[:MAX_FILENAME_CHARS - len(suffix)]
    budget = MAX_FILENAME_BYTES - len(suffix.encode())
    # Cut on a character boundary ("ignore" drops a character split in half), then drop
    # accents left without their letter.
    stem = stem.encode()[:budget].decode("utf-8", "ignore")
    while stem and unicodedata.combining(stem[-1]):
        stem = stem[:-1]
    stem = stem.rstrip(" .")
    return (stem or "image") + suffix


def _human_bytes(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


def _claimed_format(data: bytes) -> str | None:
    """The allowed format a file's first bytes announce (None: none of ours)."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return next((fmt for signature, fmt in _SIGNATURES if data.startswith(signature)), None)


def _damaged(filename: str, image_format: str) -> InvalidInput:
    label = _LABELS.get(image_format, "image")
    return InvalidInput(f"This {label} ({filename}) is damaged or truncated and cannot be read; "
                        "export it again from the camera or editor and upload that copy.")


def _explain(error: Exception, filename: str, image_format: str) -> InvalidInput:
    """The filmmaker's version of whatever a decoder raised."""
    if isinstance(error, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
        return InvalidInput(f"{filename} is too large to open safely (it claims too many pixels).")
    if isinstance(error, ValueError) and "MAX_TEXT" in str(error):
        # A PNG text chunk that inflates past Pillow's 1 MB guard: metadata, not a picture.
        return InvalidInput(f"{filename} carries more than 1 MB of embedded text (metadata), which we do not "
                            "open; save the picture again without metadata and upload that copy.")
    return _damaged(filename, image_format)


@contextmanager
def _decoding(filename: str, image_format: str) -> Iterator[None]:
    # Pillow's decoders raise OSError, ValueError, SyntaxError, struct.error, EOFError,
    # IndexError, MemoryError... on crafted files. On the user's bytes each of them means
    # "this file is damaged", so every one of them becomes that message.
    try:
        yield
    except InvalidInput:
        raise
    except Exception as error:
        raise _explain(error, filename, image_format) from None


def _unknown_kind(data: bytes, filename: str) -> InvalidInput:
    claimed = _claimed_format(data)
    if claimed:
        return _damaged(filename, claimed)
    head = data[:1024]
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            head = head[len(bom):].decode(codec, "ignore").encode()
    text = head.lstrip().lower()
    if text.startswith((b"<?xml", b"<svg", b"<!doctype svg")) or (text.startswith(b"<!--") and b"<svg" in text):
        return InvalidInput(f"{filename} is an SVG drawing (or other XML), not a picture; {_UPLOADABLE} images.")
    kind = next((k for signature, k in _OTHER_KINDS if data.startswith(signature)), None)
    if kind is None and data[4:8] == b"ftyp":
        kind = _FTYP_KINDS.get(data[8:12])
    if kind is None and data[:2] == b"BM" and data[6:10] == b"\x00\x00\x00\x00":
        kind = "a BMP image"
    if kind:
        return InvalidInput(f"{filename} is {kind}, not an image we can read; {_UPLOADABLE}.")
    return InvalidInput(f"{filename} is not an image we can read; {_UPLOADABLE}.")


def _open_checked(data: bytes, filename: str, max_pixels: int) -> Image.Image:
    """Open (headers only) with only the decoders of the allowed formats, then check the header."""
    claimed = _claimed_format(data) or "image"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "Corrupt EXIF data": the file is judged below
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=_DECODERS)
    except UnidentifiedImageError:
        raise _unknown_kind(data, filename) from None
    except Exception as error:
        raise _explain(error, filename, claimed) from None
    if image.format not in ALLOWED_FORMATS:
        raise InvalidInput(f"{filename} is a {image.format or 'unknown'} file; {_UPLOADABLE}.")
    exif = image.info.get("exif") or b""
    if len(exif) > MAX_EXIF_BYTES:
        # JPEG caps an EXIF block at 64 KB; a bigger one is malformed or an attempt to smuggle data.
        raise InvalidInput(
            f"{filename} carries {len(exif) // 1024} KB of EXIF metadata; the limit is {MAX_EXIF_BYTES // 1024} KB."
        )
    width, height = image.size
    if width < 1 or height < 1:
        raise _damaged(filename, image.format)
    # Checked on the header, before any pixel is decoded: a small file can
    # claim billions of pixels (a decompression bomb).
    if width * height > max_pixels:
        raise InvalidInput(
            f"{filename} is {width:,} x {height:,} pixels ({width * height / 1e6:.0f} megapixels); "
            f"the limit is {max_pixels / 1e6:.0f} megapixels."
        )
    return image


# -- the stored original ----------------------------------------------------------------------
def _reencoded(image: Image.Image) -> bytes:
    """The pixels alone, in the same format: the fallback when metadata cannot be edited out."""
    frame = ImageOps.exif_transpose(image)  # the new file has no EXIF to say how to turn it
    frame.info = {}
    out = io.BytesIO()
    target = "JPEG" if image.format == "MPO" else (image.format or "PNG")
    options: dict[str, dict[str, object]] = {"JPEG": {"quality": 95}, "WEBP": {"lossless": True},
                                             "TIFF": {"compression": "tiff_adobe_deflate"}}
    frame.save(out, format=target, **options.get(target, {}))
    return out.getvalue()


def _location_free(data: bytes, image: Image.Image) -> bytes:
    """The upload without GPS, XMP or IPTC: edited in place when its structure allows, else re-encoded."""
    try:
        cleaned = strip_location(data, image.format or "")
        # Proof, not hope: the edited file opens as the same picture and has no GPS block.
        probe = Image.open(io.BytesIO(cleaned), formats=_DECODERS)
        if probe.size == image.size and GPS_IFD not in probe.getexif():
            return cleaned
    except Exception:  # noqa: BLE001 - whatever fails here means one thing: the metadata cannot be
        pass  # edited safely, so keep the pixels and drop every piece of metadata instead
    return _reencoded(image)


def open_clean_original(stream: IO[bytes], filename: str = "image") -> tuple[int, Callable[[IO[bytes]], int]]:
    """An original on its way out of the workbench, without GPS, XMP or IPTC location.

    ``stream`` is the stored original (seekable). Returns the cleaned size and a
    function that writes the cleaned file to a stream (1 MB at a time, so a ZIP
    of 500 originals never holds one whole). Intake stores originals clean already;
    exports run this again because libraries stored before the XMP and IPTC rule
    may still hold a location. A clean file is copied unchanged.
    """
    try:
        image_format = _stored(stream, filename).format or ""  # the header only
        edits = location_edits(stream, image_format)
    except Exception:  # noqa: BLE001 - an original we cannot walk is re-encoded, as at intake
        stream.seek(0)
        cleaned = clean_original(stream.read(), filename)
        return len(cleaned), lambda out: out.write(cleaned) or len(cleaned)
    size = edited_size(stream.seek(0, io.SEEK_END), edits)
    return size, lambda out: write_edited(stream, edits, out)


def _stored(stream: IO[bytes], filename: str) -> Image.Image:
    """Open a stored original (headers only): it passed intake's pixel limit once already."""
    with _decoding(filename, "image"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow's bomb *warning*; intake decided on the size
        return Image.open(stream, formats=_DECODERS)


def clean_original(data: bytes, filename: str = "image") -> bytes:
    """An original (bytes) without GPS, XMP or IPTC location; a clean file comes back unchanged."""
    image = _stored(io.BytesIO(data), filename)
    with _decoding(filename, image.format or "image"):
        return _location_free(data, image)


# -- thumbnail and colours --------------------------------------------------------------------
def _eight_bit(image: Image.Image, mode: str) -> Image.Image:
    """A 16-bit, 32-bit or float greyscale picture scaled (not clipped) into 0..255."""
    values = np.nan_to_num(np.asarray(image, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    low, high = float(values.min(initial=0.0)), float(values.max(initial=0.0))
    if mode.startswith("I;16") and not mode.endswith("S"):
        low, high = 0.0, 65535.0  # the format's own range: a dark 16-bit photo stays dark
    elif low >= 0 and high <= 1.0 and mode == "F":
        low, high = 0.0, 1.0
    elif low >= 0 and high <= 255:
        low, high = 0.0, 255.0
    elif low >= 0 and high <= 65535:
        low, high = 0.0, 65535.0  # a 16-bit picture Pillow widened to 32 bits
    scaled = (values - low) * (255.0 / max(high - low, 1e-9))
    return Image.fromarray(np.clip(np.rint(scaled), 0, 255).astype(np.uint8), mode="L")


def _thumbnail(upright: Image.Image, size: int, filename: str) -> Image.Image:
    mode = upright.mode
    if mode.startswith("I;16") or mode in ("I", "F"):
        # Resize in 32 bits (Pillow cannot resize I;16), then scale the small copy to 8 bits.
        work = upright.convert("I") if mode.startswith("I;16") else upright.copy()
        work.thumbnail((size, size))
        work = _eight_bit(work, mode).convert("RGB")
    else:
        if mode in ("RGB", "RGBA"):
            work = upright.copy()
        else:
            has_alpha = "A" in upright.getbands() or mode == "P"
            try:
                work = upright.convert("RGBA" if has_alpha else "RGB")
            except ValueError:
                raise InvalidInput(f"{filename} uses the {mode} colour model, which we cannot show; "
                                   "save it as RGB and upload that copy.") from None
        work.thumbnail((size, size))
    work.info = {}  # nothing of the upload's metadata rides along into the thumbnail
    return work


def search_still(picture: Image.Image, size: int, name: str = "query image") -> Image.Image:
    """An example picture handed over as a Pillow image, made fit to embed: 8-bit RGB, at most
    ``size`` pixels a side (16-bit and float pictures scaled, not clipped).

    Raises :class:`InvalidInput` for a picture Pillow cannot convert.
    """
    with _decoding(name, picture.format or "image"):
        return _thumbnail(ImageOps.exif_transpose(picture), size, name).convert("RGB")


def _dominant_colors(image: Image.Image, count: int = 5) -> list[str]:
    small = image.convert("RGB").resize((64, 64))
    quantized = small.quantize(colors=count, method=Image.Quantize.MEDIANCUT)
    palette = quantized.getpalette() or []
    # A palette image reports each colour as (pixel count, palette index).
    counted = [(n, index) for n, index in quantized.getcolors() or [] if isinstance(index, int)]
    ranked = sorted(counted, reverse=True)
    return ["#" + bytes(palette[i * 3 : i * 3 + 3]).hex() for _, i in ranked][:count]


def prepare_image(data: bytes, filename: str, *, max_bytes: int, max_pixels: int, thumbnail_px: int) -> PreparedImage:
    """Validate an upload and compute everything that will be stored about it.

    Raises :class:`InvalidInput` for an empty, oversized, damaged, unknown, SVG
    or too-many-pixel file; nothing else escapes, whatever the bytes.
    """
    filename = safe_filename(filename)
    if not data:
        raise InvalidInput(f"{filename} is empty.")
    if len(data) > max_bytes:
        raise InvalidInput(f"{filename} is {_human_bytes(len(data))}; the limit is {_human_bytes(max_bytes)}.")
    image = _open_checked(data, filename, max_pixels)
    image_format = image.format or "image"
    with _decoding(filename, image_format):
        image.seek(0)  # GIF and multi-page TIFF: the first frame
        image.load()
        original = _location_free(data, image)
        upright = ImageOps.exif_transpose(image)
        thumb = _thumbnail(upright, thumbnail_px, filename)
        buffer = io.BytesIO()
        # method=2 instead of libwebp's default 4: measured 5.5 ms instead of 24 ms per 384 px
        # thumbnail (the largest share of an upload's time) for a file 2.5 % larger.
        thumb.save(buffer, format="WEBP", quality=82, method=2)
        colors = _dominant_colors(thumb)
    return PreparedImage(
        sha256=hashlib.sha256(data).hexdigest(),
        original=original,
        mime=ALLOWED_FORMATS[image_format],
        thumbnail=buffer.getvalue(),
        width=upright.width,
        height=upright.height,
        colors=colors,
        filename=filename,
    )
