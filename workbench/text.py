"""One rule for every piece of text a person types, pastes or uploads.

Captions, tags, file names, document titles and bodies, board titles, notes
and link labels all pass through :func:`clean_text` at the service boundary,
before anything is stored. It removes what no store can hold or no reader
wants (lone UTF-16 surrogates, NUL and other control characters,
Unicode non-characters), normalises line endings and applies the field's
length limit, so the database never sees a string it cannot cast.

    >>> clean_text("Night\\x00 shoot\\ud800", field="board title", max_chars=200)
    'Night shoot'
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from workbench.errors import InvalidInput

__all__ = ["clean_text", "without_lone_surrogates"]

_SURROGATE = re.compile("[\ud800-\udfff]")
# Every line break Unicode knows becomes "\n": a Windows "\r\n", an old Mac "\r",
# NEL and the line/paragraph separators some word processors paste.
_LINE_BREAK = re.compile("\r\n|[\r\x85\u2028\u2029]")
# C0 and C1 controls (the tab and the newline are decided by ``multiline``), the
# byte-order mark pasted mid-text, and the non-characters Unicode reserves for
# internal use: none of them is text anyone meant to keep.
_UNWANTED = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x84\x86-\x9f\ufeff\ufdd0-\ufdef\ufffe\uffff"
    + "".join(f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(1, 17))
    + "]"
)
_WHITESPACE = re.compile(r"\s+")


def without_lone_surrogates(text: str) -> str:
    """``text`` with lone UTF-16 surrogates dropped (DuckDB, LanceDB and UTF-8 files cannot hold one).

    A correctly paired surrogate (an emoji that arrived as two UTF-16 halves) is
    joined back into one character.
    """
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "ignore")


def clean_text(value: Any, *, field: str, max_chars: int, multiline: bool = False, truncate: bool = False) -> str:
    """Text fit to store: the one cleaning rule for everything a user writes.

    - ``value`` must be a ``str`` (anything else raises :class:`InvalidInput`).
    - Lone surrogates, NUL, other control characters, stray byte-order marks and
      non-characters are removed; the text is NFC-normalised.
    - Line breaks become ``"\\n"``. With ``multiline=False`` (titles, tags, labels)
      every run of whitespace, line breaks included, becomes one space and the ends
      are trimmed; with ``multiline=True`` (notes, bodies) newlines and tabs stay.
    - Longer than ``max_chars`` after cleaning: :class:`InvalidInput` saying the
      limit, or, with ``truncate=True``, cut to the limit (for names the user did
      not type, such as an uploaded file's).

    ``field`` names the text in the error message ("caption", "board title").

    >>> clean_text("Scene 1\\r\\nRain.", field="note", max_chars=100, multiline=True)
    'Scene 1\\nRain.'
    """
    if not isinstance(value, str):
        raise InvalidInput(f"The {field} must be text, not {type(value).__name__}.")
    text = without_lone_surrogates(value)
    text = unicodedata.normalize("NFC", text)
    text = _LINE_BREAK.sub("\n", text)
    text = _UNWANTED.sub("", text)
    if not multiline:
        text = _WHITESPACE.sub(" ", text).strip()
    if len(text) > max_chars:
        if not truncate:
            raise InvalidInput(f"The {field} is {len(text):,} characters long; the limit is {max_chars:,}.")
        text = text[:max_chars]
        if not multiline:
            text = text.rstrip()
    return text
