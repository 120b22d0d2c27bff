"""A ``.fountain`` file's bytes as text, or a clear refusal when it is not a screenplay.

Fountain is plain text, but files arrive in every encoding a writing tool has
saved: UTF-8 with or without a byte-order mark, UTF-16 and UTF-32 (with a mark,
or without one from some Windows tools), old Windows-1252. :func:`read_fountain`
decodes each by its byte-order mark or its shape, and refuses what is not text
at all (an image, a PDF, an archive renamed ``.fountain``) with
:class:`~workbench.errors.InvalidInput` naming what the file is.

    >>> read_fountain("INT. DINER - NIGHT".encode("utf-16"))
    'INT. DINER - NIGHT'
"""

from __future__ import annotations

import re

from workbench.errors import InvalidInput
from workbench.text import without_lone_surrogates

__all__ = ["MAX_FOUNTAIN_BYTES", "check_fountain_size", "read_fountain"]

# A feature script is about 200 KB; this leaves room for UTF-32 and for notes.
MAX_FOUNTAIN_BYTES = 10_000_000

# Longest first: the UTF-32 LE mark starts with the UTF-16 LE one.
_BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
)
# What a file is, by its first bytes. Only signatures no script could start with.
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or a Word or Pages document)"),
    (b"PK\x05\x06", "a ZIP archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Word or Office document"),
    (b"{\\rtf", "an RTF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ\x00", "an XZ archive"),
    (b"SQLite format 3\x00", "a SQLite database"),
    (b"OggS", "an Ogg audio or video file"),
    (b"fLaC", "a FLAC audio file"),
    (b"\x7fELF", "a program"),
    (b"\x00asm", "a WebAssembly program"),
)
# Control characters no text editor writes (tab, newline, carriage return and
# form feed are text).
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")
_DECODED_BEYOND_ASCII = re.compile("[^\x00-\x7f\ufffd]")
_SAVE_AS_TEXT = "Save the screenplay as plain text (a .fountain file) and import that."


def read_fountain(data: bytes | str, *, max_bytes: int = MAX_FOUNTAIN_BYTES) -> str:
    """The text of a Fountain file, decoded by its byte-order mark or its shape.

    Line ends become ``"\\n"``. Raises :class:`InvalidInput` for a file past ``max_bytes``, a file of a known
    binary kind ("This file is a PNG image, not a Fountain screenplay"), or
    bytes that are not text. Lone UTF-16 surrogates (which no database can
    store) are dropped from ``str`` input; decoded bytes never hold them.
    """
    check_fountain_size(len(data), max_bytes=max_bytes)
    text = _decode(data) if isinstance(data, bytes) else without_lone_surrogates(data)
    _refuse_binary(text)
    return text.replace("\r\n", "\n").replace("\r", "\n")  # Windows and old Mac line ends


def check_fountain_size(size: int, *, max_bytes: int = MAX_FOUNTAIN_BYTES) -> None:
    """Refuse a file of ``size`` bytes past ``max_bytes`` (before reading it, when the size is known)."""
    if size > max_bytes:
        raise InvalidInput(f"This file is {size / 1e6:.1f} MB; a Fountain import handles up to "
                           f"{max_bytes / 1e6:.1f} MB (a feature script is about 0.2 MB).")


def _decode(data: bytes) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            raise InvalidInput(f"This file is {kind}, not a Fountain screenplay. {_SAVE_AS_TEXT}")
    if data[:4] == b"RIFF":
        raise InvalidInput(f"This file is a WebP image or a WAV or AVI media file, not a Fountain screenplay. "
                           f"{_SAVE_AS_TEXT}")
    if data[4:8] == b"ftyp":
        raise InvalidInput(f"This file is a video or a HEIC photo, not a Fountain screenplay. {_SAVE_AS_TEXT}")
    wide = _wide_encoding(data)
    if wide:
        return data.decode(wide, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    damaged = data.decode("utf-8", errors="replace")
    # Some valid UTF-8 beyond ASCII: a UTF-8 file with a damaged byte or two, so
    # keep its accents. None at all: an old Windows (cp1252) file.
    if _DECODED_BEYOND_ASCII.search(damaged):
        return damaged
    return data.decode("cp1252", errors="replace")


def _wide_encoding(data: bytes) -> str | None:
    """UTF-32 or UTF-16 without a byte-order mark, told by where the zero bytes fall."""
    sample = data[:4096]
    if len(sample) < 4:
        return None

    def zeros(offset: int, step: int) -> float:
        part = sample[offset::step]
        return part.count(0) / max(len(part), 1)

    # Latin text in UTF-32 has three zero bytes of four, in UTF-16 one of two.
    if min(zeros(1, 4), zeros(2, 4), zeros(3, 4)) > 0.9 and zeros(0, 4) < 0.5:
        return "utf-32-le"
    if min(zeros(0, 4), zeros(1, 4), zeros(2, 4)) > 0.9 and zeros(3, 4) < 0.5:
        return "utf-32-be"
    if zeros(1, 2) > 0.4 and zeros(0, 2) < 0.05:
        return "utf-16-le"
    if zeros(0, 2) > 0.4 and zeros(1, 2) < 0.05:
        return "utf-16-be"
    return None


def _refuse_binary(text: str) -> None:
    if "\x00" in text:
        raise InvalidInput(f"This file holds binary data (NUL bytes), not a Fountain screenplay. {_SAVE_AS_TEXT}")
    # A real script has none of these; a stray one or two from a copy and paste is fine.
    controls = len(_CONTROL.findall(text, 0, 200_000))
    if controls > max(8, min(len(text), 200_000) // 100):
        raise InvalidInput(f"This file does not read as text (it is full of control characters), so it is "
                           f"not a Fountain screenplay. {_SAVE_AS_TEXT}")
