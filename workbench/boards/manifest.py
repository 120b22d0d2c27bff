"""``board.json`` of a board archive: parsed without trusting it, then checked field by field.

Every refusal names the field, as a filmmaker (or whoever edited the file) can
find it: ``board.json: items[3].id must be a string``. The format, version 1, is
what :func:`~workbench.boards.export.board_document` writes::

    {"format": "filmmaker-workbench/board", "version": 1, "exported_at": str,
     "board": {"id", "title" (required), "description", "revision", "created_at", "updated_at"},
     "canvas": {"x0", "y0", "x1", "y1"},
     "items": [{"id", "kind" (required), "x", "y", "w", "h" (required), "z", "color", "caption",
                "text", "url", "missing",
                "document": null | {"id", "start", "end"},            (script items)
                "image": null | {"file" (required), "thumbnail", "filename", "mime", "width",
                                 "height", "sha256", "tags", "caption"}}]}  (image items)

A key that is not listed, a value of the wrong type, a number that is not finite
(``NaN``, ``Infinity``, ``1e999``) or absurdly long, a key given twice, text that
is not UTF-8 or holds a lone UTF-16 surrogate, and nesting or structure far
beyond what an export has are all refused. The size and the shape of the text
are bounded *before* it is parsed, so parsing can neither recurse without end
nor build millions of objects.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from workbench.boards.archive import check_name, shown
from workbench.boards.export import ARCHIVE_FORMAT, ARCHIVE_VERSION
from workbench.boards.model import (
    ITEM_KINDS,
    MAX_CAPTION,
    MAX_DESCRIPTION,
    MAX_HEADING,
    MAX_ITEMS,
    MAX_NOTE,
    check_point,
    check_size,
    clean_color,
    clean_title,
    clean_url,
    plain_text,
)
from workbench.errors import InvalidInput

__all__ = ["ArchivedImage", "ArchivedItem", "Manifest", "parse_json", "read_manifest"]

MAX_DEPTH = 16                          # an export nests 5 deep (items, an item, its image, its tags)
MAX_CONTAINERS = 4 * MAX_ITEMS + 64     # objects and arrays: an item brings at most 3
MAX_COMMAS = 100 * MAX_ITEMS + 1000     # values: an item has ~25 fields and up to 50 tags
MAX_DIGITS = 32
MAX_WHOLE = 2**53                       # beyond this a JSON number is not exact in JavaScript either
MAX_QUOTES = 400 * MAX_ITEMS + 1000     # strings: keys and values, tags included
# A string once its escapes are gone; it always matches (to the end of the text if unclosed)
# and is a single character class, which the regex engine runs without a backtracking stack.
_STRING = re.compile(r'"[^"]*"?')
_BRACKETS = re.compile(r"[\[\]{}]")
_ABSENT: Any = object()
T = TypeVar("T")


@dataclass(frozen=True)
class ArchivedImage:
    """The picture of an image item: its file in the archive and what the library should know of it."""

    file: str
    thumbnail: str | None
    filename: str
    tags: list[str]
    caption: str


@dataclass(frozen=True)
class ArchivedItem:
    """One checked item of ``board.json``; ``where`` is its place in the file, e.g. ``items[3]``."""

    where: str
    kind: str
    x: float
    y: float
    w: float
    h: float
    z: int
    color: str
    caption: str
    text: str
    url: str
    document_id: str | None
    range_start: int | None
    range_end: int | None
    image: ArchivedImage | None  # None for an item whose picture was missing at export


@dataclass(frozen=True)
class Manifest:
    """A checked ``board.json``: the board's title and description and every item."""

    title: str
    description: str
    items: list[ArchivedItem]

    def files(self) -> set[str]:
        """Every archive entry the items name (originals and thumbnails)."""
        named: set[str] = set()
        for item in self.items:
            if item.image is not None:
                named.add(item.image.file)
                if item.image.thumbnail is not None:
                    named.add(item.image.thumbnail)
        return named


def _refuse(where: str, problem: str) -> InvalidInput:
    return InvalidInput(f"board.json: {where} {problem} (this is not a board export we can read).")


def _checked(where: str, check: Callable[..., T], *args: Any, **kw: Any) -> T:
    """A rule from the board model, its message prefixed with the field it was applied to."""
    try:
        return check(*args, **kw)
    except InvalidInput as error:
        raise InvalidInput(f"board.json: {where}: {error}") from None


# -- parsing ------------------------------------------------------------------------
def _check_shape(text: str) -> None:
    """Bound nesting and the number of values without parsing (and without recursion)."""
    # Escapes go first (escaped backslashes, then escaped quotes: the order JSON reads them in),
    # so every remaining quote opens or closes a string. str.replace is linear and stack-free.
    unescaped = text.replace("\\\\", "").replace('\\"', "")
    if unescaped.count('"') > 2 * MAX_QUOTES:
        raise InvalidInput("This is not a board export we can read: board.json holds far more values than a board has.")
    skeleton = _STRING.sub('""', unescaped)  # brackets and commas inside strings are not structure
    opened = skeleton.count("[") + skeleton.count("{")
    closed = skeleton.count("]") + skeleton.count("}")
    if max(opened, closed) > MAX_CONTAINERS or skeleton.count(",") > MAX_COMMAS:
        raise InvalidInput("This is not a board export we can read: board.json holds far more values than a board has.")
    depth = 0
    for bracket in _BRACKETS.findall(skeleton):
        depth += 1 if bracket in "[{" else -1
        if depth > MAX_DEPTH:
            raise InvalidInput(f"This is not a board export we can read: board.json nests more than {MAX_DEPTH} deep.")


def _constant(name: str) -> Any:
    raise InvalidInput(f"This is not a board export we can read: board.json holds {name}, which is not a number.")


def _whole(digits: str) -> int:
    if len(digits) > MAX_DIGITS:
        raise InvalidInput(f"This is not a board export we can read: board.json holds a number {len(digits):,} digits long.")
    return int(digits)


def _real(digits: str) -> float:
    value = float(digits) if len(digits) <= 2 * MAX_DIGITS else math.inf
    if not math.isfinite(value):
        raise InvalidInput(f"This is not a board export we can read: board.json holds the number {shown(digits)}, "
                           "too large to use.")
    return value


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for key, entry in pairs:
        if key in value:  # json.loads would silently keep the last one
            raise InvalidInput(f"This is not a board export we can read: board.json gives the key {shown(key)!r} "
                               "twice in one object.")
        value[key] = entry
    return value


def parse_json(raw: bytes) -> Any:
    """The value in ``board.json``'s bytes: UTF-8, strict JSON, bounded in depth and size."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]  # a byte-order mark some editors add: harmless
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidInput(f"This is not a board export we can read: board.json is not UTF-8 text "
                           f"(byte {error.start:,}).") from None
    _check_shape(text)
    try:
        return json.loads(text, parse_constant=_constant, parse_int=_whole, parse_float=_real,
                          object_pairs_hook=_object)
    except json.JSONDecodeError as error:
        raise InvalidInput(f"This is not a board export we can read: board.json is not valid JSON "
                           f"(line {error.lineno}, column {error.colno}: {error.msg}).") from None
    except RecursionError:  # unreachable after _check_shape; kept so no parser limit can escape untyped
        raise InvalidInput("This is not a board export we can read: board.json nests too deep.") from None


# -- the schema walker ----------------------------------------------------------------
class _Fields:
    """One JSON object of ``board.json`` being read: each getter checks a type, :meth:`done`
    refuses the keys no getter asked for."""

    def __init__(self, value: Any, where: str) -> None:
        if not isinstance(value, dict):
            raise _refuse(where, "must be an object")
        self._value: dict[str, Any] = value
        self._where = where
        self._asked: set[str] = set()

    def path(self, key: str) -> str:
        return f"{self._where}.{key}" if self._where else key

    def _get(self, key: str, required: bool) -> Any:
        self._asked.add(key)
        if key in self._value:
            return self._value[key]
        if required:
            raise _refuse(self.path(key), "is missing")
        return _ABSENT

    def text(self, key: str, *, limit: int, required: bool = False, nullable: bool = False) -> str | None:
        value = self._get(key, required)
        if value is _ABSENT or (value is None and nullable):
            return None
        if not isinstance(value, str):
            raise _refuse(self.path(key), "must be a string" + (" or null" if nullable else ""))
        if len(value) > limit:
            raise _refuse(self.path(key), f"is {len(value):,} characters long; the limit is {limit:,}")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _refuse(self.path(key), "holds a broken character (a lone UTF-16 surrogate)") from None
        return value

    def string(self, key: str, *, limit: int, required: bool = False) -> str:
        return self.text(key, limit=limit, required=required) or ""

    def number(self, key: str, *, required: bool = False) -> float | None:
        value = self._get(key, required)
        if value is _ABSENT:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _refuse(self.path(key), "must be a number")
        return float(value)

    def whole(self, key: str, *, low: int, high: int, required: bool = False, nullable: bool = False) -> int | None:
        value = self._get(key, required)
        if value is _ABSENT or (value is None and nullable):
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise _refuse(self.path(key), "must be a whole number" + (" or null" if nullable else ""))
        if not low <= value <= high:
            raise _refuse(self.path(key), f"must be between {low:,} and {high:,}")
        return value

    def flag(self, key: str) -> bool:
        value = self._get(key, False)
        if value is _ABSENT:
            return False
        if not isinstance(value, bool):
            raise _refuse(self.path(key), "must be true or false")
        return value

    def child(self, key: str, *, required: bool = False) -> _Fields | None:
        value = self._get(key, required)
        if value is _ABSENT or value is None:
            return None
        return _Fields(value, self.path(key))

    def array(self, key: str, *, limit: int, required: bool = False) -> list[tuple[str, Any]]:
        value = self._get(key, required)
        if value is _ABSENT:
            return []
        if not isinstance(value, list):
            raise _refuse(self.path(key), "must be a list")
        if len(value) > limit:
            raise _refuse(self.path(key), f"holds {len(value):,} entries; the limit is {limit:,}")
        return [(f"{self.path(key)}[{n}]", entry) for n, entry in enumerate(value)]

    def done(self) -> None:
        for key in self._value:
            if key not in self._asked:
                raise _refuse(self.path(shown(key)), f"is not part of a board export (version {ARCHIVE_VERSION})")


def _file(fields: _Fields, key: str, folder: str, required: bool) -> str | None:
    name = fields.text(key, limit=1000, required=required)
    if name is None:
        return None
    check_name(name, what=f"board.json: {fields.path(key)} is")
    if not name.startswith(folder) or name.endswith("/") or len(name) == len(folder):
        raise InvalidInput(f"board.json: {fields.path(key)} is {shown(name)!r}, which is not in the {folder} folder.")
    return name


def _image(fields: _Fields) -> ArchivedImage:
    file = _file(fields, "file", "images/", required=True)
    thumbnail = _file(fields, "thumbnail", "thumbnails/", required=False)
    filename = fields.string("filename", limit=1000)
    fields.string("mime", limit=200)
    fields.whole("width", low=0, high=10**6, nullable=True)
    fields.whole("height", low=0, high=10**6, nullable=True)
    fields.string("sha256", limit=200)
    tags = []
    for where, tag in fields.array("tags", limit=50):
        if not isinstance(tag, str):
            raise _refuse(where, "must be a string")
        tags.append(_checked(where, plain_text, tag, limit=200, what="tag", multiline=False))
    caption = _checked(fields.path("caption"), plain_text, fields.string("caption", limit=10 * MAX_CAPTION),
                       limit=MAX_CAPTION, what="caption")
    fields.done()
    assert file is not None  # required above
    return ArchivedImage(file, thumbnail, filename, tags, caption)


def _item(fields: _Fields, where: str) -> ArchivedItem:
    kind = fields.string("kind", limit=40, required=True)
    if kind not in ITEM_KINDS:
        raise _refuse(fields.path("kind"), f"is {shown(kind)!r}; it must be one of {', '.join(ITEM_KINDS)}")
    fields.text("id", limit=200, nullable=True)
    position = [fields.number(key, required=True) for key in ("x", "y", "w", "h")]
    x, y = _checked(where, check_point, position[0], position[1])
    w, h = _checked(where, check_size, position[2], position[3])
    z = fields.whole("z", low=-MAX_WHOLE, high=MAX_WHOLE) or 0
    color = _checked(fields.path("color"), clean_color, fields.text("color", limit=40, nullable=True))
    caption = _checked(fields.path("caption"), plain_text, fields.string("caption", limit=10 * MAX_CAPTION),
                       limit=MAX_CAPTION, what="caption")
    raw_text = fields.string("text", limit=10 * MAX_NOTE)
    raw_url = fields.string("url", limit=10_000)
    missing = fields.flag("missing")
    document, picture = fields.child("document"), fields.child("image")
    text = url = ""
    if kind in ("note", "script"):
        text = _checked(fields.path("text"), plain_text, raw_text, limit=MAX_NOTE, what=kind)
    elif kind in ("heading", "link"):
        text = _checked(fields.path("text"), plain_text, raw_text, limit=MAX_HEADING, what=kind, multiline=False)
    if kind == "link":
        url = _checked(fields.path("url"), clean_url, raw_url)
    document_id = start = end = None
    if document is not None:
        if kind != "script":
            raise _refuse(fields.path("document"), f"must be null for a {kind} item")
        document_id = document.text("id", limit=200, nullable=True)
        start = document.whole("start", low=0, high=10**9, nullable=True)
        end = document.whole("end", low=0, high=10**9, nullable=True)
        document.done()
    image = None
    if picture is not None:
        if kind != "image" or missing:
            raise _refuse(fields.path("image"), "must be null for a " + ("missing image" if missing else kind))
        image = _image(picture)
    elif kind == "image" and not missing:
        raise _refuse(fields.path("image"), 'is missing (an image item names its file, or says "missing": true)')
    if missing and kind != "image":
        raise _refuse(fields.path("missing"), "is only for image items")
    fields.done()
    return ArchivedItem(where, kind, x, y, w, h, z, color, caption, text, url, document_id, start, end, image)


def _header(fields: _Fields) -> None:
    fields.string("exported_at", limit=64)
    if fields.string("format", limit=200, required=True) != ARCHIVE_FORMAT:
        raise _refuse("format", f'must be "{ARCHIVE_FORMAT}"')
    version = fields.whole("version", low=1, high=MAX_WHOLE, required=True)
    if version is not None and version > ARCHIVE_VERSION:
        raise InvalidInput(f"This board was exported by a newer workbench (board.json version {version}; this one "
                           f"reads up to {ARCHIVE_VERSION}). Update the workbench to import it.")
    canvas = fields.child("canvas")
    if canvas is not None:
        for key in ("x0", "y0", "x1", "y1"):
            canvas.number(key)
        canvas.done()


def read_manifest(raw: bytes) -> Manifest:
    """The checked contents of ``board.json`` (its bytes, already bounded in size)."""
    value = parse_json(raw)
    if not isinstance(value, dict):
        raise InvalidInput("This is not a board export we can read: board.json must hold one JSON object.")
    root = _Fields(value, "")
    _header(root)
    board = root.child("board", required=True)
    assert board is not None  # required above
    title = _checked("board.title", clean_title, board.string("title", limit=10_000, required=True))
    description = _checked("board.description", plain_text, board.string("description", limit=10 * MAX_DESCRIPTION),
                           limit=MAX_DESCRIPTION, what="description")
    board.text("id", limit=200, nullable=True)
    board.whole("revision", low=0, high=MAX_WHOLE)
    board.string("created_at", limit=64)
    board.string("updated_at", limit=64)
    board.done()
    items = [_item(_Fields(entry, where), where) for where, entry in root.array("items", limit=MAX_ITEMS, required=True)]
    root.done()
    return Manifest(title, description, items)
