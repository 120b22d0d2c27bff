"""Print a screenplay as a PDF in the industry format.

US Letter, Courier 12 pt at 6 lines per inch, 54 lines of script per page (about
a minute of screen time), elements at the column positions readers expect:
headings and action at 1.5in, dialogue at 2.5in, parentheticals at 3.1in,
character names at 3.7in, transitions flush right at 7.5in. A title page is
printed when the script has one; page numbers ("2.") start on the second page.

Pagination follows the usual rules: a scene heading is never the last line of
a page, a speech that does not fit breaks at a sentence with ``(MORE)`` and
resumes under ``NAME (CONT'D)``, ``===`` starts a new page. Notes, sections,
synopses and boneyard never print.

Every string from the script is drawn with ``canvas.drawString`` (never through
reportlab's paragraph markup), so nothing a writer types can be read as markup.

The layout lives in :mod:`~workbench.writing.screenplay_rows` (columns and
line wrapping) and :mod:`~workbench.writing.screenplay_pagination` (blocks and
page breaks); this module draws the pages and the title page.

    >>> from workbench.writing.fountain import parse
    >>> pdf = render_pdf_bytes(parse("INT. DINER - NIGHT\\n\\nRain.\\n"))
    >>> pdf[:5]
    b'%PDF-'
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import IO

from reportlab.lib.pagesizes import LETTER
from reportlab.pdfgen.canvas import Canvas

from workbench.writing.fountain import (
    BOLD,
    ITALIC,
    UNDERLINE,
    Screenplay,
    Styled,
    emphasis_spans,
    strip_notes,
)
from workbench.writing.screenplay_pagination import paginate
from workbench.writing.screenplay_rows import (
    CHAR_WIDTH,
    INCH,
    LEFT_EDGE,
    LINES_PER_PAGE,
    RIGHT_EDGE,
    Row,
    _lines,
    _printable,
    _rows,
)

__all__ = ["LINES_PER_PAGE", "paginate", "render_pdf", "render_pdf_bytes"]

FONT_SIZE = 12
LINE_HEIGHT = 12.0  # 6 lines per inch
PAGE_WIDTH, PAGE_HEIGHT = LETTER
TOP_MARGIN = 1 * INCH
_FONTS = {0: "Courier", BOLD: "Courier-Bold", ITALIC: "Courier-Oblique", BOLD | ITALIC: "Courier-BoldOblique"}


# ---------------------------------------------------------------- drawing


def _baseline(line: int) -> float:
    """Baseline of the n-th line from the top margin (0-based)."""
    return PAGE_HEIGHT - TOP_MARGIN - LINE_HEIGHT * (line + 1) + 3


def _draw_runs(canvas: Canvas, x: float, y: float, runs: list[Styled]) -> None:
    for run in runs:
        if run.text:
            canvas.setFont(_FONTS[run.style & (BOLD | ITALIC)], FONT_SIZE)
            canvas.drawString(x, y, run.text)
            if run.style & UNDERLINE:
                canvas.line(x, y - 1.5, x + len(run.text) * CHAR_WIDTH, y - 1.5)
        x += len(run.text) * CHAR_WIDTH


def _draw_rows(canvas: Canvas, rows: list[Row], first_line: int = 0) -> None:
    for n, row in enumerate(rows):
        for x, runs in row:
            _draw_runs(canvas, x, _baseline(first_line + n), runs)


def _draw_title_page(canvas: Canvas, play: Screenplay) -> None:
    centre = (LEFT_EDGE + RIGHT_EDGE) / 2
    middle: list[Row] = []
    for key in ("title", "credit", "author", "authors", "source"):
        value = play.title_field(key)
        if value:
            middle += [[]] if middle else []
            middle += _rows(_lines(value), centre, 50, align="center")
    _draw_rows(canvas, middle, 15)
    contact = _rows(_lines(play.title_field("contact") or ""), LEFT_EDGE, 30)
    _draw_rows(canvas, contact, LINES_PER_PAGE - len(contact))
    known = {"title", "credit", "author", "authors", "source", "contact"}
    corner: list[Row] = []
    for key, value in play.title_page.items():
        if key.casefold() not in known and value.strip():
            corner += _rows(_lines(value), RIGHT_EDGE, 30, align="right")
    _draw_rows(canvas, corner, LINES_PER_PAGE - len(corner))


def render_pdf(screenplay: Screenplay, out: str | Path | IO[bytes]) -> None:
    """Print ``screenplay`` as an industry-format PDF to a file path or binary stream."""
    data = render_pdf_bytes(screenplay)
    if isinstance(out, (str, Path)):
        Path(out).write_bytes(data)
    else:
        out.write(data)


def render_pdf_bytes(screenplay: Screenplay) -> bytes:
    """The industry-format PDF of ``screenplay`` as bytes (deterministic for a given script)."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=LETTER, invariant=True)
    title = _printable(strip_notes(screenplay.title_field("title") or "")).replace("\n", " ")
    canvas.setTitle("".join(span.text for span in emphasis_spans(title)) or "Screenplay")
    canvas.setAuthor(_printable(screenplay.title_field("author") or screenplay.title_field("authors") or ""))
    if any(value.strip() for value in screenplay.title_page.values()):
        _draw_title_page(canvas, screenplay)
        canvas.showPage()
    for number, rows in enumerate(paginate(screenplay.elements) or [[]], start=1):
        if number > 1:
            label = f"{number}."
            canvas.setFont("Courier", FONT_SIZE)
            canvas.drawString(RIGHT_EDGE - len(label) * CHAR_WIDTH, PAGE_HEIGHT - 0.5 * INCH - 9, label)
        _draw_rows(canvas, rows)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()
