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

from workbench.errors import InvalidInput
from workbench.writing.fountain import (
    BOLD,
    ITALIC,
    UNDERLINE,
    Screenplay,
    emphasis_spans,
    strip_notes,
)
from workbench.writing.screenplay_pagination import paginate, printed_lines
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

__all__ = ["LINES_PER_PAGE", "MAX_PDF_PAGES", "paginate", "render_pdf", "render_pdf_bytes"]

# The longest script the PDF export prints (a feature runs about 120 pages).
# Past it the export refuses in well under a second instead of keeping the
# server busy; the line and styled-text limits below follow from it.
MAX_PDF_PAGES = 2_000
_MAX_LINES = MAX_PDF_PAGES * LINES_PER_PAGE
_MAX_CHARACTERS = _MAX_LINES * 60  # every line a full line of action
_MAX_MARKERS = 100_000  # * and _ emphasis markers: each may start a piece of text drawn on its own
_MAX_RUNS = 200_000  # pieces of text drawn separately (a line, and each change of bold, italic, underline)
_UNPRINTED = ("note", "section", "synopsis", "boneyard")
_SPLIT_IT = "Split it into parts (one per act, say) and export each."
_STRAY = "Look for stray * or _ markers (write \\* for a plain asterisk), or split the script into parts."

FONT_SIZE = 12
LINE_HEIGHT = 12.0  # 6 lines per inch
PAGE_WIDTH, PAGE_HEIGHT = LETTER
TOP_MARGIN = 1 * INCH
_FONTS = {0: "Courier", BOLD: "Courier-Bold", ITALIC: "Courier-Oblique", BOLD | ITALIC: "Courier-BoldOblique"}


# ---------------------------------------------------------------- drawing


def _baseline(line: int) -> float:
    """Baseline of the n-th line from the top margin (0-based)."""
    return PAGE_HEIGHT - TOP_MARGIN - LINE_HEIGHT * (line + 1) + 3


def _draw_rows(canvas: Canvas, rows: list[Row], first_line: int = 0) -> None:
    # One text object per piece of a row, the font set only when it changes: a
    # line of many short styled runs costs a few PDF operators per run, not a
    # text object and a font each.
    font = ""
    underlines: list[tuple[float, float, float, float]] = []
    for n, row in enumerate(rows):
        y = _baseline(first_line + n)
        for x, runs in row:
            if not any(run.text for run in runs):
                continue
            text = canvas.beginText(x, y)
            for run in runs:
                width = len(run.text) * CHAR_WIDTH
                if run.text:
                    name = _FONTS[run.style & (BOLD | ITALIC)]
                    if name != font:
                        text.setFont(name, FONT_SIZE)
                        font = name
                    # Each run starts at its own column: a viewer's stand-in
                    # for Courier may advance a glyph such as "…" differently.
                    text.setTextOrigin(x, y)
                    text.textOut(run.text)
                    if run.style & UNDERLINE:
                        underlines.append((x, y - 1.5, x + width, y - 1.5))
                x += width
            canvas.drawText(text)
    for line in underlines:
        canvas.line(*line)


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


def _pages(screenplay: Screenplay) -> list[list[Row]]:
    """The script's pages, or :class:`InvalidInput` when it is past what the export prints.

    The line and character counts are checked before any layout, the pages
    and the pieces of styled text after it and before any drawing.
    """
    lines = printed_lines(screenplay.elements)
    if lines > _MAX_LINES:
        raise InvalidInput(f"This script prints {lines:,} lines, about {lines // LINES_PER_PAGE:,} pages; "
                           f"the PDF export handles up to {MAX_PDF_PAGES:,} pages. {_SPLIT_IT}")
    printed = [element for element in screenplay.elements if element.kind not in _UNPRINTED]
    characters = sum(len(element.text) for element in printed)
    if characters > _MAX_CHARACTERS:
        raise InvalidInput(f"This script holds {characters:,} characters; the PDF export handles up to "
                           f"{_MAX_CHARACTERS:,} (about {MAX_PDF_PAGES:,} pages). {_SPLIT_IT}")
    markers = sum(element.text.count("*") + element.text.count("_") for element in printed)
    if markers > _MAX_MARKERS:
        raise InvalidInput(f"This script has {markers:,} * and _ emphasis markers; the PDF export handles up to "
                           f"{_MAX_MARKERS:,}. {_STRAY}")
    pages = paginate(screenplay.elements)
    if len(pages) > MAX_PDF_PAGES:
        raise InvalidInput(f"This script would be {len(pages):,} pages; the PDF export handles up to "
                           f"{MAX_PDF_PAGES:,}. {_SPLIT_IT}")
    runs = sum(len(runs) for page in pages for row in page for _, runs in row)
    if runs > _MAX_RUNS:
        raise InvalidInput(f"This script switches between plain, bold, italic and underlined text {runs:,} times; "
                           f"the PDF export handles up to {_MAX_RUNS:,}. {_STRAY}")
    return pages


def render_pdf(screenplay: Screenplay, out: str | Path | IO[bytes]) -> None:
    """Print ``screenplay`` as an industry-format PDF to a file path or binary stream."""
    data = render_pdf_bytes(screenplay)
    if isinstance(out, (str, Path)):
        Path(out).write_bytes(data)
    else:
        out.write(data)


def render_pdf_bytes(screenplay: Screenplay) -> bytes:
    """The industry-format PDF of ``screenplay`` as bytes (deterministic for a given script).

    Raises :class:`~workbench.errors.InvalidInput` for a script past
    :data:`MAX_PDF_PAGES` pages (or as much text or styling), before drawing it.
    """
    pages = _pages(screenplay)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=LETTER, invariant=True)
    title = _printable(strip_notes(screenplay.title_field("title") or "")).replace("\n", " ")
    canvas.setTitle("".join(span.text for span in emphasis_spans(title)) or "Screenplay")
    canvas.setAuthor(_printable(screenplay.title_field("author") or screenplay.title_field("authors") or ""))
    if any(value.strip() for value in screenplay.title_page.values()):
        _draw_title_page(canvas, screenplay)
        canvas.showPage()
    for number, rows in enumerate(pages or [[]], start=1):
        if number > 1:
            label = f"{number}."
            canvas.setFont("Courier", FONT_SIZE)
            canvas.drawString(RIGHT_EDGE - len(label) * CHAR_WIDTH, PAGE_HEIGHT - 0.5 * INCH - 9, label)
        _draw_rows(canvas, rows)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()
