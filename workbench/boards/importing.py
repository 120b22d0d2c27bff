"""Bringing a board back from a ZIP made by :meth:`~workbench.boards.Boards.export_zip`.

An import is all or nothing, and a hostile archive can only ever produce an
:class:`~workbench.errors.InvalidInput` that says what is wrong with it.

1. The whole archive is checked before anything is stored: its table of
   contents (:mod:`workbench.boards.archive`: entry count, names, methods,
   encryption, links, sizes, zip bombs), then ``board.json`` field by field
   (:mod:`workbench.boards.manifest`), then that the archive holds exactly the
   files ``board.json`` names (plus ``notes.md`` and ``comments.json``), and finally every entry is
   unpacked once through a bounded reader so a damaged one fails its CRC now.
2. Images are then added to the importing person's library (an image they
   already have is found by its content and not stored twice; tags are merged
   into it) and the board is created with its layout, notes and captions in one
   transaction.
3. If anything fails in step 2, the images this import added are removed and
   the tags it merged into existing images are put back.

``comments.json`` (the conversation on the exported board) is checked like every
entry and then deliberately not imported: comments belong to the board and the
people they were written on and for, and an import makes a new board of one
person's. The new board starts with no comments.
"""

from __future__ import annotations

import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO

from workbench.accounts import User
from workbench.boards.archive import (
    MAX_ARCHIVE_BYTES,
    MAX_TEXT_BYTES,
    MAX_UNPACKED_BYTES,
    check_entries,
    check_local_headers,
    check_references,
    open_zip,
    read_entry,
    spool,
    verify_entries,
)
from workbench.boards.core import BoardsBase
from workbench.boards.manifest import ArchivedImage, ArchivedItem, Manifest, read_manifest
from workbench.boards.model import Board, BoardItem, utcnow
from workbench.errors import Forbidden, InvalidInput, NotFound, WorkbenchError
from workbench.library.model import LibraryImage

__all__ = ["BoardImport", "MAX_ARCHIVE_BYTES", "MAX_UNPACKED_BYTES"]


@dataclass
class _Undo:
    """What an import changed in the library so far, to take back if it fails."""

    added: list[str] = field(default_factory=list)                    # images it created
    retagged: list[tuple[str, list[str]]] = field(default_factory=list)  # (image, tags it had before)


def _plan(archive: zipfile.ZipFile, handle: IO[bytes], archive_bytes: int) -> Manifest:
    """Every check of the archive that needs no write; returns its checked ``board.json``."""
    entries = check_entries(archive, archive_bytes)
    check_local_headers(handle, entries.values())
    info = entries.get("board.json")
    if info is None:
        raise InvalidInput("This ZIP is not a board export: it has no board.json.")
    manifest = read_manifest(read_entry(archive, info, MAX_TEXT_BYTES))
    check_references(entries, manifest.files())
    verify_entries(archive, [entry for name, entry in entries.items() if name != "board.json"])
    return manifest


class BoardImport(BoardsBase):
    """ZIP import of :class:`~workbench.boards.Boards`."""

    def import_zip(self, user: User, source: BinaryIO | bytes | str | Path) -> Board:
        """Recreate a board from an exported ZIP, owned by ``user``; its images join their library.

        The archive must hold what an export writes and nothing else: ``board.json``,
        ``notes.md``, ``comments.json`` (read for its integrity only: comments are not
        imported) and the ``images/`` and ``thumbnails/`` files ``board.json`` names.
        An entry it does not name, an unsafe name (absolute, ``..``, backslash, NUL or
        other control characters), a symbolic link, an encrypted or bzip2/LZMA entry, a
        zip bomb or a field of the wrong type is refused with a message naming it, e.g.
        ``board.json: items[3].x must be a number``, and nothing is stored.

        >>> board = wb.boards.import_zip(me, "night-shoot.zip")
        """
        if user is None:
            raise Forbidden("Sign in to import a board.")
        handle, opened, size = spool(source)
        undo = _Undo()
        try:
            with open_zip(handle) as archive:
                manifest = _plan(archive, handle, size)
                specs = [self._spec(user, item) for item in manifest.items if item.image is not None
                         or item.kind != "image"]  # an image already missing at export has nothing to show
                images = self._ingest_images(user, archive, manifest.items, undo)
            board_id = self._create_from(user, manifest, specs, images)
        except BaseException:
            # All or nothing: a failed import leaves nothing of its own behind in the library.
            self._undo(user, undo)
            raise
        finally:
            if opened:
                handle.close()
        return self._board(user, board_id)

    def _create_from(self, user: User, manifest: Manifest, specs: list[dict[str, Any]],
                     images: dict[str, LibraryImage]) -> str:
        board_id = "b_" + uuid.uuid4().hex[:16]
        now = utcnow()
        items = []
        for z, spec in enumerate(sorted(specs, key=lambda s: s["z"]), start=1):
            file = spec.pop("file", None)
            image_id = images[file].id if file else None
            items.append(BoardItem(**{**spec, "id": "bi_" + uuid.uuid4().hex[:16], "board_id": board_id, "z": z,
                                      "image_id": image_id, "created_at": now, "updated_at": now}))
        self._create_with(user, board_id, manifest.title, manifest.description, items,
                          {"title": manifest.title, "imported": True}, kind="import")
        return board_id

    def _undo(self, user: User, undo: _Undo) -> None:
        for image_id, tags in undo.retagged:
            try:
                self._library.set_tags(user, image_id, tags)
            except WorkbenchError:
                pass  # the image went meanwhile: nothing to put back
        for image_id in undo.added:
            try:
                self._library.delete(user, image_id)
            except NotFound:
                pass

    def _spec(self, user: User, item: ArchivedItem) -> dict[str, Any]:
        """The fields of one checked item as the board stores them."""
        spec: dict[str, Any] = {
            "kind": item.kind, "x": item.x, "y": item.y, "w": item.w, "h": item.h, "z": item.z,
            "color": item.color, "caption": item.caption, "text": item.text, "url": item.url,
            "document_id": None, "range_start": None, "range_end": None,
        }
        if item.kind == "script":
            spec["range_start"], spec["range_end"] = item.range_start, item.range_end
            spec["document_id"] = self._readable_document(user, item.document_id)
        if item.image is not None:
            spec["file"] = item.image.file
        return spec

    def _readable_document(self, user: User, document_id: str | None) -> str | None:
        # Keep the link to the script only if the importer can open it (their own export, re-imported).
        if not document_id or self._writing is None:
            return None
        try:
            return self._writing.get(user, document_id).id
        except (NotFound, Forbidden):
            return None

    def _ingest_images(self, user: User, archive: zipfile.ZipFile, items: list[ArchivedItem],
                       undo: _Undo) -> dict[str, LibraryImage]:
        images: dict[str, LibraryImage] = {}
        for item in items:
            if item.image is None or item.image.file in images:
                continue
            try:
                images[item.image.file] = self._ingest_one(user, archive, item.image, undo)
            except InvalidInput as error:
                raise InvalidInput(f"{item.image.file} in the archive could not be added: {error}") from None
        return images

    def _ingest_one(self, user: User, archive: zipfile.ZipFile, picture: ArchivedImage, undo: _Undo) -> LibraryImage:
        data = read_entry(archive, archive.getinfo(picture.file))
        name = picture.filename or picture.file.rsplit("/", 1)[-1]
        # No tags here: for an image the person already has, ingest would merge them
        # at once, beyond the reach of the undo. They are merged below, recorded.
        image, new = self._library.ingest_new(user, data, filename=name, caption=picture.caption, wait=False,
                                              origin="import")
        if new:
            undo.added.append(image.id)
            if picture.tags:
                image = self._library.set_tags(user, image.id, picture.tags)
        elif picture.tags and not set(picture.tags) <= set(image.tags):
            undo.retagged.append((image.id, list(image.tags)))
            image = self._library.add_tags(user, image.id, picture.tags)
        return image
