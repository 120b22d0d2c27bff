"""A storyboard as a shot list: the table a crew works from, as CSV and as a PDF.

One row per frame: scene number, scene heading, shot number, description
(the frame's caption as it now reads on the board), a thumbnail, the script
lines it covers and a duration estimate at about one page a minute (a scene's
rows as the screenplay PDF lays them out, over 55 a page, shared among its shots). Cut scenes stay
in the list, marked ``cut``, with no duration.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from PIL import Image
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfgen.canvas import Canvas

from workbench.boards import BoardView
from workbench.boards.pdf import BOLD, FONT, _plain, _register_fonts
from workbench.search import thumbnail_url
from workbench.storyboard_frames import caption_note
from workbench.storyboard_model import Storyboard
from workbench.writing import fountain
from workbench.writing.screenplay_pagination import paginate

__all__ = ["Shot", "shot_list", "write_csv", "write_pdf", "LINES_PER_PAGE", "CSV_COLUMNS"]

LINES_PER_PAGE = 55   # a screenplay page; a page runs about a minute on screen
CSV_COLUMNS = ("scene", "heading", "shot", "description", "duration_seconds", "lines", "status", "thumbnail")


@dataclass(frozen=True)
class Shot:
    """One line of a shot list."""

    scene: str
    heading: str
    shot: str                    # "3.2": scene 3, second shot
    description: str
    image_id: str | None
    seconds: int                 # estimated screen time (0 for cut scenes)
    first_line: int
    last_line: int
    status: str

    @property
    def thumbnail_url(self) -> str:
        """Where the web app serves the frame's still ('' for a placeholder)."""
        return thumbnail_url(self.image_id) if self.image_id else ""


def _scene_seconds(body_lines: list[str], first: int, last: int) -> float:
    text = "\n".join(body_lines[first - 1 : last])
    rows = sum(len(page) for page in paginate(fountain.parse(text).elements))  # laid out as printed, wrapped
    return rows / LINES_PER_PAGE * 60.0


def shot_list(board: Storyboard, view: BoardView, body: str) -> list[Shot]:
    """The shots of a storyboard in script order (cut scenes last), described as the board now reads."""
    captions = {item.id: item.caption for item in view.items}
    lines = body.split("\n")
    shots: list[Shot] = []
    cut = [s for s in board.scenes if s.status != "live"]
    for scene in [*board.live_scenes, *cut]:
        live = scene.status == "live"
        per_shot = _scene_seconds(lines, scene.first_line, scene.last_line) / max(1, len(scene.frames)) \
            if live else 0.0
        for frame in scene.frames:
            description = caption_note(captions.get(frame.item_id, frame.caption)) or frame.beat
            shots.append(Shot(scene.label, scene.heading, f"{scene.label}.{frame.shot}", description,
                              frame.image_id, max(1, math.ceil(per_shot)) if live else 0, frame.first_line,
                              frame.last_line, scene.status))
    return shots


def write_csv(shots: list[Shot], out: str | Path | IO[str]) -> None:
    """The shot list as CSV with a header row (``CSV_COLUMNS``)."""
    if isinstance(out, (str, Path)):
        with open(out, "w", encoding="utf-8", newline="") as handle:
            write_csv(shots, handle)
        return
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for s in shots:
        # A leading = + - @ would make a spreadsheet run the cell as a formula.
        description = ("'" + s.description) if s.description[:1] in "=+-@" else s.description
        writer.writerow([s.scene, s.heading, s.shot, description, s.seconds, f"{s.first_line}-{s.last_line}",
                         s.status, s.thumbnail_url])


_PAGE_W, _PAGE_H = landscape(A4)
_MARGIN, _ROW_H, _THUMB_W, _THUMB_H = 36.0, 66.0, 96.0, 54.0
# x of each column: scene, heading, shot, thumbnail, description, duration
_COLS = (_MARGIN, _MARGIN + 40, _MARGIN + 210, _MARGIN + 250, _MARGIN + 356, _PAGE_W - _MARGIN - 50)


def _reader(data: bytes | None) -> ImageReader | None:
    if not data:
        return None
    try:
        opened = Image.open(io.BytesIO(data))
        opened.load()
        picture = opened.convert("RGB")
        picture.thumbnail((240, 240))
        encoded = io.BytesIO()
        picture.save(encoded, format="JPEG", quality=85)
        encoded.seek(0)
        return ImageReader(encoded)
    except Exception:  # an unreadable thumbnail prints as an empty box, not a failed export
        return None


def _header(c: Canvas, title: str, page: int) -> float:
    c.setFont(BOLD, 13)
    c.drawString(_MARGIN, _PAGE_H - _MARGIN, _plain(f"Shot list: {title}", one_line=True)[:120])
    c.setFont(FONT, 8)
    c.drawRightString(_PAGE_W - _MARGIN, _PAGE_H - _MARGIN, f"page {page}")
    y = _PAGE_H - _MARGIN - 24
    c.setFont(BOLD, 8)
    for x, name in zip(_COLS, ("Scene", "Heading", "Shot", "Frame", "Description", "Duration"), strict=True):
        c.drawString(x, y, name)
    c.line(_MARGIN, y - 4, _PAGE_W - _MARGIN, y - 4)
    return y - 8


def write_pdf(shots: list[Shot], title: str, thumbnail: Callable[[str], bytes | None],
              out: str | Path | IO[bytes]) -> None:
    """The shot list as a landscape A4 table, a thumbnail per frame; text is drawn, never parsed as markup."""
    _register_fonts()
    c = Canvas(str(out) if isinstance(out, Path) else out, pagesize=(_PAGE_W, _PAGE_H))
    c.setTitle(_plain(f"Shot list: {title}", one_line=True)[:200])
    page = 1
    y = _header(c, title, page)
    total = 0
    for shot in shots:
        if y - _ROW_H < _MARGIN:
            c.showPage()
            page += 1
            y = _header(c, title, page)
        top = y - 12
        c.setFont(FONT, 8)
        c.drawString(_COLS[0], top, _plain(shot.scene, one_line=True)[:8])
        for n, line in enumerate(simpleSplit(_plain(shot.heading, one_line=True), FONT, 8, 160)[:4]):
            c.drawString(_COLS[1], top - n * 10, line)
        c.drawString(_COLS[2], top, _plain(shot.shot, one_line=True)[:10])
        picture = _reader(thumbnail(shot.image_id)) if shot.image_id else None
        if picture is not None:
            c.drawImage(picture, _COLS[3], y - 4 - _THUMB_H, _THUMB_W, _THUMB_H, preserveAspectRatio=True)
        else:
            c.rect(_COLS[3], y - 4 - _THUMB_H, _THUMB_W, _THUMB_H)
        text = _plain(shot.description, one_line=True) + ("  [CUT]" if shot.status != "live" else "")
        width = _COLS[5] - _COLS[4] - 10
        for n, line in enumerate(simpleSplit(text, FONT, 8, width)[:5]):
            c.drawString(_COLS[4], top - n * 10, line)
        c.drawString(_COLS[5], top, f"{shot.seconds // 60}:{shot.seconds % 60:02d}" if shot.seconds else "-")
        total += shot.seconds
        y -= _ROW_H
        c.setLineWidth(0.3)
        c.line(_MARGIN, y + 2, _PAGE_W - _MARGIN, y + 2)
    c.setFont(BOLD, 9)
    c.drawString(_MARGIN, max(_MARGIN - 12, y - 14),
                 f"{len(shots)} shots · about {total // 60} min {total % 60:02d} s")
    c.save()
