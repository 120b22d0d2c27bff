"""Bringing a board back from a ZIP made by :meth:`~workbench.boards.Boards.export_zip`.

The archive is checked before anything is stored: its size, the unpacked size
of every entry (a zip bomb is refused from its directory, before a byte is
inflated), every name in it (absolute paths, ``..``, backslashes and control
characters are refused) and the schema of ``board.json``. Images are then
added to the importing person's library (an image they already have is found
by its content and not stored twice) and the board is created with its layout,
notes and captions in one transaction.
"""

from __future__ import annotations

import io
import json
import tempfile
import unicodedata
import uuid
import zipfile
import zlib
from pathlib import Path
from typing import IO, Any, BinaryIO, Literal

from pydantic import BaseModel, Field, ValidationError

from workbench.accounts import User
from workbench.boards.core import BoardsBase
from workbench.boards.export import ARCHIVE_VERSION
from workbench.boards.model import (
    MAX_CAPTION,
    MAX_DESCRIPTION,
    MAX_HEADING,
    MAX_ITEMS,
    MAX_NOTE,
    MAX_TITLE,
    Board,
    BoardItem,
    check_point,
    check_size,
    clean_color,
    clean_title,
    clean_url,
    plain_text,
    utcnow,
)
from workbench.errors import Forbidden, InvalidInput, NotFound
from workbench.library.model import LibraryImage

__all__ = ["BoardImport", "MAX_ARCHIVE_BYTES", "MAX_UNPACKED_BYTES"]

MAX_ARCHIVE_BYTES = 2 * 1024**3        # what an upload of a board may weigh
MAX_UNPACKED_BYTES = 4 * 1024**3       # everything inside it, unpacked
MAX_ENTRY_BYTES = 64 * 1024**2         # one file inside (the library has its own, lower, image limit)
MAX_BOARD_JSON = 32 * 1024**2
MAX_RATIO = 100                        # unpacked/packed: pictures barely compress, text does ~10x
MAX_ENTRIES = 2 * MAX_ITEMS + 16


class _Image(BaseModel):
    file: str
    filename: str = ""
    tags: list[str] = Field(default_factory=list, max_length=50)
    caption: str = ""


class _Document(BaseModel):
    id: str | None = None
    start: int | None = None
    end: int | None = None


class _Item(BaseModel):
    kind: Literal["image", "note", "script", "heading", "link"]
    x: float
    y: float
    w: float
    h: float
    z: int = 0
    color: str = ""
    caption: str = ""
    text: str = ""
    url: str = ""
    document: _Document | None = None
    image: _Image | None = None
    missing: bool = False


class _BoardInfo(BaseModel):
    title: str
    description: str = ""


class _Archive(BaseModel):
    format: Literal["filmmaker-workbench/board"]
    version: int = Field(ge=1, le=ARCHIVE_VERSION)
    board: _BoardInfo
    items: list[_Item] = Field(max_length=MAX_ITEMS)


def _check_name(name: str) -> None:
    """Refuse a member name that could land outside the folder it is unpacked into."""
    parts = name.split("/")
    unsafe = (
        not name or name.startswith("/") or "\\" in name or ".." in parts
        or (len(parts[0]) >= 2 and parts[0][1] == ":")
        or any(unicodedata.category(c)[0] == "C" for c in name)
    )
    if unsafe:
        shown = "".join(c if unicodedata.category(c)[0] != "C" else "?" for c in name)[:80]
        raise InvalidInput(f"The archive contains an unsafe file name ({shown!r}); it was not imported.")


def _check_archive(archive: zipfile.ZipFile) -> None:
    entries = archive.infolist()
    if len(entries) > MAX_ENTRIES:
        raise InvalidInput(f"The archive holds {len(entries):,} files; a board export has at most {MAX_ENTRIES:,}.")
    total = 0
    for entry in entries:
        _check_name(entry.filename)
        total += entry.file_size
        if entry.file_size > MAX_ENTRY_BYTES:
            raise InvalidInput(f"{entry.filename} in the archive is too large to import.")
        if entry.file_size > 1024**2 and entry.file_size > MAX_RATIO * max(entry.compress_size, 1):
            raise InvalidInput(f"{entry.filename} unpacks to far more than it weighs (a zip bomb?); not imported.")
    if total > MAX_UNPACKED_BYTES:
        raise InvalidInput("The archive unpacks to more than 4 GB; split the board before exporting it.")


def _read_manifest(archive: zipfile.ZipFile) -> _Archive:
    try:
        info = archive.getinfo("board.json")
    except KeyError:
        raise InvalidInput("This ZIP is not a board export: it has no board.json.") from None
    if info.file_size > MAX_BOARD_JSON:
        raise InvalidInput("board.json in the archive is too large.")
    with archive.open(info) as handle:
        raw = handle.read(MAX_BOARD_JSON + 1)
    try:
        return _Archive.model_validate(json.loads(raw))
    except (ValueError, ValidationError) as error:
        detail = str(error).splitlines()[0:3]
        raise InvalidInput("board.json in the archive is not a board export we can read: " + " ".join(detail)) from None


def _spool(source: BinaryIO | bytes | str | Path) -> tuple[IO[bytes], bool]:
    """A seekable handle on the archive (zipfile needs one) and whether we opened it."""
    if isinstance(source, (bytes, bytearray)):
        if len(source) > MAX_ARCHIVE_BYTES:
            raise InvalidInput("The archive is larger than 2 GB.")
        return io.BytesIO(source), True
    if isinstance(source, (str, Path)):
        path = Path(source).expanduser()
        if not path.is_file():
            raise InvalidInput(f"{path} is not a file.")
        if path.stat().st_size > MAX_ARCHIVE_BYTES:
            raise InvalidInput(f"{path.name} is larger than 2 GB.")
        return path.open("rb"), True
    if hasattr(source, "seekable") and source.seekable():
        return source, False
    spooled = tempfile.SpooledTemporaryFile(max_size=64 * 1024**2)  # an upload stream: keep big ones on disk
    copied = 0
    while chunk := source.read(1024**2):
        copied += len(chunk)
        if copied > MAX_ARCHIVE_BYTES:
            spooled.close()
            raise InvalidInput("The archive is larger than 2 GB.")
        spooled.write(chunk)
    spooled.seek(0)
    return spooled, True


class BoardImport(BoardsBase):
    """ZIP import of :class:`~workbench.boards.Boards`."""

    def import_zip(self, user: User, source: BinaryIO | bytes | str | Path) -> Board:
        """Recreate a board from an exported ZIP, owned by ``user``; its images join their library.

        >>> board = wb.boards.import_zip(me, "night-shoot.zip")
        """
        if user is None:
            raise Forbidden("Sign in to import a board.")
        handle, opened = _spool(source)
        added: list[str] = []  # images this import put in the library (not ones the importer already had)
        try:
            try:
                archive = zipfile.ZipFile(handle)
            except (zipfile.BadZipFile, OSError):
                raise InvalidInput("That file is not a ZIP archive.") from None
            with archive:
                _check_archive(archive)
                try:
                    manifest = _read_manifest(archive)
                    title = clean_title(manifest.board.title[:MAX_TITLE])
                    description = plain_text(manifest.board.description[:MAX_DESCRIPTION],
                                             limit=MAX_DESCRIPTION, what="description")
                    specs = [self._spec(user, item) for item in manifest.items
                             if not (item.kind == "image" and item.image is None)]
                    images = self._ingest_images(user, archive, specs, added)
                except (zipfile.BadZipFile, EOFError, zlib.error) as error:
                    # A damaged entry (or one whose header lies about its size) fails its CRC check.
                    raise InvalidInput(f"The archive is damaged ({error}); export the board again.") from None
            board_id = self._create_from(user, title, description, specs, images)
        except BaseException:
            # All or nothing: a failed import leaves no image of its own behind in the library.
            self._remove_added(user, added)
            raise
        finally:
            if opened:
                handle.close()
        return self._board(user, board_id)

    def _create_from(self, user: User, title: str, description: str, specs: list[dict[str, Any]],
                     images: dict[str, LibraryImage]) -> str:
        board_id = "b_" + uuid.uuid4().hex[:16]
        now = utcnow()
        items = []
        for z, spec in enumerate(sorted(specs, key=lambda s: s["z"]), start=1):
            file = spec.pop("file", None)
            image_id = images[file].id if file else None
            items.append(BoardItem(**{**spec, "id": "bi_" + uuid.uuid4().hex[:16], "board_id": board_id, "z": z,
                                      "image_id": image_id, "created_at": now, "updated_at": now}))
        self._create_with(user, board_id, title, description, items, {"title": title, "imported": True},
                          kind="import")
        return board_id

    def _remove_added(self, user: User, image_ids: list[str]) -> None:
        for image_id in image_ids:
            try:
                self._library.delete(user, image_id)
            except NotFound:
                pass

    def _spec(self, user: User, item: _Item) -> dict[str, Any]:
        """The checked fields of one archived item (the same rules as adding it by hand)."""
        x, y = check_point(item.x, item.y)
        w, h = check_size(item.w, item.h)
        spec: dict[str, Any] = {
            "kind": item.kind, "x": x, "y": y, "w": w, "h": h, "z": item.z, "color": clean_color(item.color),
            "caption": plain_text(item.caption, limit=MAX_CAPTION, what="caption"), "text": "", "url": "",
            "document_id": None, "range_start": None, "range_end": None,
        }
        if item.kind == "note" or item.kind == "script":
            spec["text"] = plain_text(item.text, limit=MAX_NOTE, what=item.kind)
        elif item.kind in ("heading", "link"):
            spec["text"] = plain_text(item.text, limit=MAX_HEADING, what=item.kind, multiline=False)
        if item.kind == "link":
            spec["url"] = clean_url(item.url)
        if item.kind == "script" and item.document is not None:
            spec["range_start"], spec["range_end"] = item.document.start, item.document.end
            spec["document_id"] = self._readable_document(user, item.document.id)
        if item.kind == "image" and item.image is not None:
            _check_name(item.image.file)
            if not item.image.file.startswith("images/"):
                raise InvalidInput(f"board.json names {item.image.file!r}, which is not in the images/ folder.")
            spec["file"] = item.image.file
            spec["filename"] = item.image.filename
            spec["tags"] = item.image.tags
        return spec

    def _readable_document(self, user: User, document_id: str | None) -> str | None:
        # Keep the link to the script only if the importer can open it (their own export, re-imported).
        if not document_id or self._writing is None:
            return None
        try:
            return self._writing.get(user, document_id).id
        except (NotFound, Forbidden):
            return None

    def _ingest_images(self, user: User, archive: zipfile.ZipFile, specs: list[dict[str, Any]],
                       added: list[str]) -> dict[str, LibraryImage]:
        images: dict[str, LibraryImage] = {}
        names = set(archive.namelist())
        for spec in specs:
            file = spec.get("file")
            if file is None:
                continue
            filename, tags = spec.pop("filename", ""), spec.pop("tags", [])
            if file in images:
                continue
            if file not in names:
                raise InvalidInput(f"board.json names {file!r}, which is missing from the archive.")
            with archive.open(file) as stream:
                try:
                    images[file], new = self._library.ingest_new(
                        user, stream, filename=filename or file.rsplit("/", 1)[-1], tags=tags, wait=False)
                except InvalidInput as error:
                    raise InvalidInput(f"{file} in the archive could not be added: {error}") from None
                if new:
                    added.append(images[file].id)
        return images

