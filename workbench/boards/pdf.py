"""A board as a PDF: the canvas as laid out, a contact sheet, and the notes.

Pages are landscape A4. The canvas pages show every item where it sits on
the board, scaled to fit one page; a board too large to stay readable at one
page is tiled over several. The contact sheet shows each picture with its
caption; the last pages hold every note, heading, excerpt and link in reading
order, then the comment threads (where each is pinned, who wrote what, when).

Every string a person typed is drawn with ``drawString`` in a TrueType font
that ships with reportlab (Bitstream Vera), never through paragraph markup, so
a caption like ``<font size=90>`` prints as those characters.
"""

from __future__ import annotations

import io
import math
import threading
import unicodedata
from collections.abc import Callable, Sequence
from typing import IO, BinaryIO

from PIL import Image
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from workbench.boards.comments import Comment
from workbench.boards.model import BoardItem, BoardView
from workbench.library.intake import safe_filename
from workbench.library.model import LibraryImage

__all__ = ["render_board_pdf"]

PAGE_W, PAGE_H = landscape(A4)
MARGIN = 36.0
HEADER = 34.0
MIN_SCALE = 0.2          # below this, text on the canvas pages would be unreadable: tile instead
SHEET_COLS, SHEET_ROWS = 5, 3
PICTURE_PX = 400         # longest side of a picture in the PDF (about 150 dpi at contact-sheet size)
FONT, BOLD, MONO = "WorkbenchVera", "WorkbenchVeraBold", "Courier"
_fonts_lock = threading.Lock()
ImageOpener = Callable[[LibraryImage], IO[bytes]]


def _register_fonts() -> None:
    # reportlab's font registry is process-global; register once.
    with _fonts_lock:
        if FONT not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(FONT, "Vera.ttf"))
            pdfmetrics.registerFont(TTFont(BOLD, "VeraBd.ttf"))


def _plain(text: str, *, one_line: bool = False) -> str:
    text = "".join(c for c in text if c in "\n\t" or unicodedata.category(c)[0] != "C")
    return " ".join(text.split()) if one_line else text.replace("\t", "    ")


def _hex(color: str, fallback: tuple[float, float, float]) -> tuple[float, float, float]:
    if len(color) == 7 and color.startswith("#"):
        return tuple(int(color[i:i + 2], 16) / 255 for i in (1, 3, 5))  # type: ignore[return-value]
    return fallback


def _hard_wrap(line: str, font: str, size: float, width: float) -> list[str]:
    # simpleSplit breaks at spaces only; a long URL or a run of CJK would overflow the box.
    pieces, current = [], ""
    for char in line:
        if current and pdfmetrics.stringWidth(current + char, font, size) > width:
            pieces.append(current)
            current = ""
        current += char
    return [*pieces, current]


def _lines(text: str, font: str, size: float, width: float) -> list[str]:
    width = max(width, size)
    lines: list[str] = []
    for paragraph in _plain(text).split("\n"):
        for line in simpleSplit(paragraph, font, size, width) or [""]:
            fits = pdfmetrics.stringWidth(line, font, size) <= width
            lines.extend([line] if fits else _hard_wrap(line, font, size, width))
    return lines


def _text_block(c: Canvas, text: str, x: float, top: float, width: float, height: float, font: str,
                size: float) -> float:
    """Wrapped text inside a box from ``top`` down; stops where the box ends. Returns the y reached."""
    leading = size * 1.25
    y = top - size
    c.setFont(font, size)
    for line in _lines(text, font, size, width):
        if y < top - height:
            break
        c.drawString(x, y, line)
        y -= leading
    return y


class _Pictures:
    """Decoded thumbnails, one reader per image, so each picture is embedded in the PDF once."""

    def __init__(self, images: dict[str, LibraryImage], opener: ImageOpener) -> None:
        self._images = images
        self._opener = opener
        self._readers: dict[str, ImageReader | None] = {}

    def get(self, image_id: str | None) -> ImageReader | None:
        if not image_id or image_id not in self._images:
            return None
        if image_id not in self._readers:
            try:
                with self._opener(self._images[image_id]) as stream:
                    picture: Image.Image = Image.open(io.BytesIO(stream.read()))
                    picture.load()
                if picture.mode != "RGB":
                    rgba = picture.convert("RGBA")
                    picture = Image.new("RGB", picture.size, "white")
                    picture.paste(rgba, mask=rgba.split()[-1])
                # A small JPEG is embedded as-is (DCT), where raw pixels would take
                # ten times the room: it keeps a 500-picture PDF small to build.
                picture.thumbnail((PICTURE_PX, PICTURE_PX))
                encoded = io.BytesIO()
                picture.save(encoded, format="JPEG", quality=85)
                encoded.seek(0)
                self._readers[image_id] = ImageReader(encoded)
            except Exception:  # a missing or unreadable blob prints as a placeholder, not a failed export
                self._readers[image_id] = None
        return self._readers[image_id]


def _draw_item(c: Canvas, item: BoardItem, x: float, y: float, w: float, h: float, scale: float,
               pictures: _Pictures) -> None:
    """One item in the box whose lower-left corner is (x, y) on the page."""
    fill = _hex(item.color, (1, 1, 1))
    pad = max(2.0, 6 * scale)
    text_size = max(3.0, 11 * scale)
    if item.kind == "image":
        reader = pictures.get(item.image_id)
        if reader is None:
            c.setFillColorRGB(0.9, 0.9, 0.9)
            c.rect(x, y, w, h, stroke=0, fill=1)
            c.setFillColorRGB(0.4, 0.4, 0.4)
            _text_block(c, "image unavailable", x + pad, y + h - pad, w - 2 * pad, h, FONT, text_size)
        else:
            c.drawImage(reader, x, y, w, h, preserveAspectRatio=True, anchor="c")
        if item.color:
            c.setStrokeColorRGB(*fill)
            c.setLineWidth(max(1.0, 3 * scale))
            c.rect(x, y, w, h, stroke=1, fill=0)
    elif item.kind == "heading":
        size = max(4.0, min(h * 0.6, 28.0 * scale))
        c.setFillColorRGB(*_hex(item.color, (0, 0, 0)))
        _text_block(c, _plain(item.text, one_line=True), x, y + h, w, h, BOLD, size)
    else:
        c.setFillColorRGB(*fill)
        c.setStrokeColorRGB(0.55, 0.55, 0.55)
        c.setLineWidth(0.5)
        c.rect(x, y, w, h, stroke=1, fill=1)
        c.setFillColorRGB(0, 0, 0)
        if item.kind == "link":
            bottom = _text_block(c, item.text or item.url, x + pad, y + h - pad, w - 2 * pad, h - 2 * pad, BOLD,
                                 text_size)
            c.setFillColorRGB(0.2, 0.2, 0.6)
            _text_block(c, item.url, x + pad, bottom + text_size * 0.2, w - 2 * pad, bottom - y - pad, FONT,
                        text_size * 0.85)
        else:
            font = MONO if item.kind == "script" else FONT
            _text_block(c, item.text, x + pad, y + h - pad, w - 2 * pad, h - 2 * pad, font, text_size)
    if item.caption and item.kind != "note":
        c.setFillColorRGB(0.25, 0.25, 0.25)
        _text_block(c, _plain(item.caption, one_line=True), x, y - 1, w, max(9 * scale, 4), FONT,
                    max(3.0, 8 * scale))


def _header(c: Canvas, title: str, subtitle: str) -> None:
    c.setFillColorRGB(0, 0, 0)
    c.setFont(BOLD, 14)
    c.drawString(MARGIN, PAGE_H - MARGIN - 10, _plain(title, one_line=True)[:120])
    if subtitle:
        c.setFont(FONT, 9)
        c.setFillColorRGB(0.35, 0.35, 0.35)
        c.drawString(MARGIN, PAGE_H - MARGIN - 24, _plain(subtitle, one_line=True)[:180])


def _canvas_pages(c: Canvas, view: BoardView, pictures: _Pictures) -> None:
    items = view.items
    title = view.board.title
    if not items:
        _header(c, title, view.board.description or "This board is empty.")
        c.showPage()
        return
    x0, y0 = min(i.x for i in items), min(i.y for i in items)
    x1 = max(i.x + i.w for i in items)
    y1 = max(i.y + i.h + 14 for i in items)  # room for captions under the lowest items
    area_w, area_h = PAGE_W - 2 * MARGIN, PAGE_H - 2 * MARGIN - HEADER
    scale = min(area_w / (x1 - x0), area_h / (y1 - y0), 1.0)
    scale = max(scale, MIN_SCALE)
    cols, rows = math.ceil((x1 - x0) * scale / area_w - 1e-9), math.ceil((y1 - y0) * scale / area_h - 1e-9)
    for row in range(rows):
        for col in range(cols):
            tile = f" (part {row * cols + col + 1} of {rows * cols})" if rows * cols > 1 else ""
            _header(c, title + tile, view.board.description)
            left, top = MARGIN, PAGE_H - MARGIN - HEADER
            c.saveState()
            clip = c.beginPath()
            clip.rect(left, top - area_h, area_w, area_h)
            c.clipPath(clip, stroke=0, fill=0)
            for item in items:  # back to front
                px = left + (item.x - x0) * scale - col * area_w
                py = top - (item.y - y0 + item.h) * scale + row * area_h
                pw, ph = item.w * scale, item.h * scale
                if px > left + area_w or px + pw < left or py > top or py + ph < top - area_h - 20:
                    continue
                _draw_item(c, item, px, py, pw, ph, scale, pictures)
            c.restoreState()
            c.showPage()


def _contact_sheet(c: Canvas, view: BoardView, pictures: _Pictures) -> None:
    images = [i for i in sorted(view.items, key=lambda i: (i.y, i.x, i.id)) if i.kind == "image"]
    per_page = SHEET_COLS * SHEET_ROWS
    cell_w = (PAGE_W - 2 * MARGIN) / SHEET_COLS
    cell_h = (PAGE_H - 2 * MARGIN - HEADER) / SHEET_ROWS
    for start in range(0, len(images), per_page):
        _header(c, f"{view.board.title}: contact sheet", f"{len(images)} images")
        for n, item in enumerate(images[start:start + per_page]):
            row, col = divmod(n, SHEET_COLS)
            x = MARGIN + col * cell_w
            top = PAGE_H - MARGIN - HEADER - row * cell_h
            picture_h = cell_h - 34
            reader = pictures.get(item.image_id)
            if reader is None:
                c.setFillColorRGB(0.9, 0.9, 0.9)
                c.rect(x + 4, top - picture_h, cell_w - 8, picture_h - 4, stroke=0, fill=1)
            else:
                c.drawImage(reader, x + 4, top - picture_h, cell_w - 8, picture_h - 4, preserveAspectRatio=True)
            image = view.images.get(item.image_id or "")
            label = item.caption or (image.caption if image else "") or (
                safe_filename(image.filename) if image else "missing image")
            c.setFillColorRGB(0, 0, 0)
            number = f"{start + n + 1}. "
            _text_block(c, number + _plain(label, one_line=True), x + 4, top - picture_h - 2, cell_w - 8, 26,
                        FONT, 8)
        c.showPage()


def _notes_pages(c: Canvas, view: BoardView, threads: Sequence[Comment] = ()) -> None:
    texts = [i for i in sorted(view.items, key=lambda i: (i.y, i.x, i.id))
             if i.kind in ("note", "heading", "script", "link")]
    if not texts and not threads:
        return
    width = PAGE_W - 2 * MARGIN
    bottom = MARGIN
    y = PAGE_H - MARGIN - HEADER
    _header(c, f"{view.board.title}: notes", "")

    def write(text: str, font: str, size: float, indent: float = 0.0, gap: float = 4.0) -> None:
        nonlocal y
        for line in _lines(text, font, size, width - indent):
            if y - size < bottom:
                c.showPage()
                _header(c, f"{view.board.title}: notes (continued)", "")
                y = PAGE_H - MARGIN - HEADER
            c.setFont(font, size)
            c.setFillColorRGB(0, 0, 0)
            c.drawString(MARGIN + indent, y - size, line)
            y -= size * 1.3
        y -= gap

    for item in texts:
        if item.kind == "heading":
            write(item.text, BOLD, 14, gap=6)
        elif item.kind == "note":
            write(item.text, FONT, 10)
            if item.caption:
                write(item.caption, FONT, 8)
        elif item.kind == "script":
            write(item.text, MONO, 9, indent=18)
            write(f"— {item.caption or 'script'}", FONT, 8, indent=18, gap=8)
        elif item.kind == "link":
            write(f"{item.text or item.url}: {item.url}" if item.text else item.url, FONT, 10)
    if threads:
        write("Comments", BOLD, 14, gap=6)
        numbers = {i.id: n for n, i in enumerate(sorted(view.items, key=lambda i: (i.y, i.x, i.id)), start=1)}
        for thread in threads:
            write(_thread_heading(thread, numbers), BOLD, 9, gap=2)
            for comment in (thread, *thread.replies):
                indent = 0.0 if comment is thread else 18.0
                write(f"{comment.author_name}{' (guest)' if comment.guest else ''}, "
                      f"{comment.created_at:%Y-%m-%d %H:%M} UTC:", BOLD, 8, indent=indent, gap=1)
                write(comment.text, FONT, 9, indent=indent)
            y -= 6
    c.showPage()


def _thread_heading(thread: Comment, numbers: dict[str, int]) -> str:
    """Where a thread is pinned and whether it is resolved, e.g. "On card 3 (resolved)"."""
    if thread.item_id is not None:
        where = f"On card {numbers[thread.item_id]}" if thread.item_id in numbers else "On a card since deleted"
    elif thread.x is not None and thread.y is not None:
        where = f"On the canvas at ({thread.x:,.0f}, {thread.y:,.0f})"
    else:
        where = "On the board"
    return where + (" (resolved)" if thread.resolved else "")


def render_board_pdf(view: BoardView, out: BinaryIO, open_image: ImageOpener,
                     threads: Sequence[Comment] = ()) -> None:
    """Write the PDF of a board view to ``out``; ``open_image`` streams a picture to draw.

    ``threads``: the board's comment threads, printed after the notes.
    """
    _register_fonts()
    c = Canvas(out, pagesize=(PAGE_W, PAGE_H), pageCompression=1)
    c.setTitle(_plain(view.board.title, one_line=True))
    c.setCreator("FilmMaker Workbench")
    pictures = _Pictures(view.images, open_image)
    _canvas_pages(c, view, pictures)
    _contact_sheet(c, view, pictures)
    _notes_pages(c, view, threads)
    c.save()
