"""Taking a board out of the workbench: a ZIP to archive or hand over, a PDF to print or send.

The ZIP holds ``board.json`` (layout and metadata, enough to rebuild the board
with :meth:`~workbench.boards.Boards.import_zip`), ``notes.md`` (every word on
the board), ``comments.json`` (the comment threads, see :func:`comments_document`;
an import leaves them out), ``images/`` (the originals) and ``thumbnails/``. It is written as a
stream, one picture at a time, so a board of 500 stills never holds more than
one original in memory, and ``out`` may be a file, a socket or an HTTP response.
Each original goes through :meth:`~workbench.library.catalog.Library.clean_original`
on its way out: a view link's archive never hands over where a picture was taken,
even from a library stored before location was stripped at upload.

Every name inside the archive is built by :func:`archive_name` (a number, then
the sanitised file name), never from raw user text, so an archive cannot carry
``../`` or control characters to whoever unpacks it.
"""

from __future__ import annotations

import json
import re
import shutil
import unicodedata
import zipfile
from typing import IO, Any, BinaryIO

from workbench.accounts import User
from workbench.boards.comments import Comment, load_threads
from workbench.boards.core import BoardsBase, open_thumbnail
from workbench.boards.model import Board, BoardItem, BoardView, utcnow
from workbench.library.intake import safe_filename
from workbench.library.model import LibraryImage

__all__ = ["BoardExport", "ARCHIVE_FORMAT", "COMMENTS_FORMAT", "archive_name", "board_document",
           "comments_document", "notes_markdown", "export_name",
           "download_name", "frame_numbers", "WINDOWS_RESERVED"]

ARCHIVE_FORMAT = "filmmaker-workbench/board"
ARCHIVE_VERSION = 1
CHUNK = 1024 * 1024
_UNSAFE = re.compile(r'[<>:"|?*\\/\x00-\x1f\x7f]')


def archive_name(folder: str, number: int, filename: str, suffix: str | None = None) -> str:
    """``folder/007-name.ext``: a name no unzip tool can turn into a path outside its folder."""
    name = _UNSAFE.sub("_", safe_filename(filename)).strip(" ._") or "image"
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    if suffix is not None:
        ext = suffix
    stem = stem[:80] or "image"
    return f"{folder}/{number:03d}-{stem}" + (f".{ext[:10]}" if ext else "")


# Names Windows refuses for a file, whatever the extension ("CON.pdf" cannot be saved there).
WINDOWS_RESERVED = frozenset({"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", *(f"COM{n}" for n in "123456789¹²³"),
                              *(f"LPT{n}" for n in "123456789¹²³")})
_NAME_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]+')
MAX_NAME = 80


def download_name(title: str, extension: str, *, ascii_only: bool = False, fallback: str = "board") -> str:
    """A file name made from a title that every operating system can save, e.g. ``Crème brûlée.pdf``.

    Characters no file system accepts (``<>:"/\\|?*`` and control characters) become
    spaces, the name is cut to 80 characters, and a Windows reserved name (``CON``,
    ``NUL``, ``COM1``...) gets ``-board`` so it can be saved. With ``ascii_only`` the
    accents are dropped (``Creme brulee.pdf``): the plain form for old clients and
    the ``filename=`` of a Content-Disposition header.

    >>> download_name("<script>Crème brûlée</script>", "pdf")
    'script Crème brûlée script.pdf'
    """
    text = unicodedata.normalize("NFC", _plain(str(title)))
    if ascii_only:
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = " ".join(_NAME_UNSAFE.sub(" ", text).split())[:MAX_NAME].strip(" .") or fallback
    head, dot, rest = text.partition(".")
    if head.strip().upper() in WINDOWS_RESERVED:  # Windows looks only at the part before the first dot
        text = f"{head.strip()}-{fallback}{dot}{rest}"
    extension = re.sub(r"[^A-Za-z0-9]", "", extension)[:10]
    return f"{text}.{extension}" if extension else text


def export_name(board: Board, extension: str, *, ascii_only: bool = False) -> str:
    """The download file name of a board's export, e.g. ``Night shoot.zip`` (see :func:`download_name`)."""
    return download_name(board.title, extension, ascii_only=ascii_only)


def frame_numbers(items: list[BoardItem]) -> dict[str, int]:
    """Storyboard numbers of a board's pictures in reading order: rows top to bottom, each row left to right.

    Pictures whose tops are within half a frame's height of the row's first one
    share its row, so a hand-arranged storyboard that is a few pixels off still
    reads 1, 2, 3, 4 along each row.
    """
    frames = sorted((i for i in items if i.kind == "image"), key=lambda i: (i.y, i.x, i.id))
    rows: list[list[BoardItem]] = []
    for item in frames:
        if rows and item.y - rows[-1][0].y < rows[-1][0].h / 2:
            rows[-1].append(item)
        else:
            rows.append([item])
    ordered = [item for row in rows for item in sorted(row, key=lambda i: (i.x, i.id))]
    return {item.id: n for n, item in enumerate(ordered, start=1)}


def _plain(text: str) -> str:
    return "".join(c for c in text if c in "\n\t" or unicodedata.category(c)[0] != "C")


def image_files(view: BoardView, present: Any = None) -> dict[str, tuple[str, str]]:
    """Archive names (original, thumbnail) of each image on the board, numbered front to back.

    ``present(image)`` may say an image's files are gone from storage: it is left out
    (its item is marked ``missing`` in ``board.json``) rather than breaking the archive.
    """
    files: dict[str, tuple[str, str]] = {}
    for item in sorted(view.items, key=lambda i: (i.y, i.x, i.id)):
        image = view.images.get(item.image_id or "")
        if image is not None and image.id not in files and (present is None or present(image)):
            number = len(files) + 1
            files[image.id] = (archive_name("images", number, image.filename),
                               archive_name("thumbnails", number, image.filename, "webp"))
    return files


def _item_entry(item: BoardItem, image: LibraryImage | None, files: tuple[str, str] | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": item.id, "kind": item.kind, "x": item.x, "y": item.y, "w": item.w, "h": item.h, "z": item.z,
        "color": item.color, "caption": _plain(item.caption), "text": _plain(item.text), "url": item.url,
        "document": None, "image": None,
    }
    if item.kind == "script":
        entry["document"] = {"id": item.document_id, "start": item.range_start, "end": item.range_end}
    if item.kind == "image":
        if image is None or files is None:
            entry["missing"] = True
        else:
            entry["image"] = {
                "file": files[0], "thumbnail": files[1], "filename": safe_filename(image.filename),
                "mime": image.mime, "width": image.width, "height": image.height, "sha256": image.sha256,
                "tags": image.tags, "caption": _plain(image.caption),
            }
    return entry


def board_document(view: BoardView, files: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """The ``board.json`` of an export: the board, its canvas bounds and every item."""
    items = view.items
    bounds = {
        "x0": min((i.x for i in items), default=0.0), "y0": min((i.y for i in items), default=0.0),
        "x1": max((i.x + i.w for i in items), default=0.0), "y1": max((i.y + i.h for i in items), default=0.0),
    }
    board = view.board
    return {
        "format": ARCHIVE_FORMAT, "version": ARCHIVE_VERSION, "exported_at": utcnow().isoformat() + "Z",
        "board": {"id": board.id, "title": _plain(board.title), "description": _plain(board.description),
                  "revision": board.revision, "created_at": board.created_at.isoformat(),
                  "updated_at": board.updated_at.isoformat()},
        "canvas": bounds,
        "items": [_item_entry(i, view.images.get(i.image_id or ""), files.get(i.image_id or "")) for i in items],
    }


COMMENTS_FORMAT = "filmmaker-workbench/board-comments"


def comments_document(board: Board, threads: list[Comment]) -> dict[str, Any]:
    """The ``comments.json`` of an export: every thread (pin, author, text, replies), oldest first.

    Texts are stored as typed (already cleaned when written); whoever shows them escapes them.
    """
    return {"format": COMMENTS_FORMAT, "version": 1, "board": board.id,
            "threads": [thread.as_json() for thread in threads]}


def _reading_order(items: list[BoardItem]) -> list[BoardItem]:
    return sorted(items, key=lambda i: (i.y, i.x, i.id))


def notes_markdown(view: BoardView) -> str:
    """Every word on the board as Markdown, in reading order (top to bottom, left to right)."""
    board = view.board
    lines = [f"# {_plain(board.title)}", ""]
    if board.description:
        lines += [_plain(board.description), ""]
    for item in _reading_order(view.items):
        caption = _plain(item.caption).strip()
        text = _plain(item.text).strip()
        if item.kind == "heading":
            lines += [f"## {text}", ""]
        elif item.kind == "note":
            lines += [text, ""] + ([f"*{caption}*", ""] if caption else [])
        elif item.kind == "script":
            quoted = "\n".join("> " + line for line in text.splitlines())
            source = caption or "script"
            lines += [quoted, "", f"— {source} (characters {item.range_start}–{item.range_end})", ""]
        elif item.kind == "link":
            lines += [f"- [{text or item.url}]({item.url})" + (f": {caption}" if caption else ""), ""]
        elif item.kind == "image" and caption:
            image = view.images.get(item.image_id or "")
            name = safe_filename(image.filename) if image else "missing image"
            lines += [f"- Image {name}: {caption}", ""]
    return "\n".join(lines).rstrip() + "\n"


class _Counter:
    """Counts bytes written through, so the export can say how big it was."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.written = 0

    def write(self, data: bytes) -> int:
        self.written += len(data)
        return self.out.write(data) or len(data)

    def flush(self) -> None:
        self.out.flush()


class BoardExport(BoardsBase):
    """ZIP and PDF export of :class:`~workbench.boards.Boards`."""

    def _export_view(self, user: User | None, board_id: str, token: str | None) -> BoardView:
        view: BoardView = self.get(user, board_id, token=token)  # type: ignore[attr-defined]
        return view

    def _threads(self, view: BoardView) -> list[Comment]:
        """The board's comment threads (the caller has checked the viewer may open the board)."""
        return load_threads(self._db, view.board.id)

    def export_zip(self, user: User | None, board_id: str, out: BinaryIO, *, token: str | None = None) -> int:
        """Write the board as a ZIP to ``out`` (streamed); returns the bytes written.

        >>> with open("night-shoot.zip", "wb") as f:
        ...     wb.boards.export_zip(me, board.id, f)
        """
        view = self._export_view(user, board_id, token)
        files = image_files(view, self._library.files_present)
        counter = _Counter(out)
        with zipfile.ZipFile(counter, "w", compression=zipfile.ZIP_DEFLATED) as archive:  # type: ignore[call-overload]
            archive.writestr("board.json", json.dumps(board_document(view, files), indent=2, ensure_ascii=False))
            archive.writestr("notes.md", notes_markdown(view))
            archive.writestr("comments.json", json.dumps(comments_document(view.board, self._threads(view)),
                                                          indent=2, ensure_ascii=False))
            for image_id, (original, thumbnail) in files.items():
                image = view.images[image_id]
                with self._library.clean_original_stream(image) as (size, write):
                    with self._entry(archive, original, size) as target:
                        write(target)
                with open_thumbnail(self._library, image) as source, self._entry(archive, thumbnail, 0) as target:
                    shutil.copyfileobj(source, target, CHUNK)
        return counter.written

    @staticmethod
    def _entry(archive: zipfile.ZipFile, name: str, size: int) -> IO[bytes]:
        info = zipfile.ZipInfo(name, date_time=utcnow().timetuple()[:6])
        info.compress_type = zipfile.ZIP_STORED  # pictures are compressed already
        info.file_size = size
        return archive.open(info, "w")

    def export_pdf(self, user: User | None, board_id: str, out: BinaryIO, *, token: str | None = None) -> None:
        """Write the board as a PDF to ``out``: the canvas as laid out (landscape pages), a
        contact sheet of every image with its caption, and the notes, followed by the
        board's comment threads.

        Pictures are drawn from their stored thumbnails, which keeps a PDF of a
        500-image board a few tens of megabytes to build and to send.
        """
        from workbench.boards.pdf import render_board_pdf

        view = self._export_view(user, board_id, token)
        render_board_pdf(view, out, lambda image: open_thumbnail(self._library, image), self._threads(view))

