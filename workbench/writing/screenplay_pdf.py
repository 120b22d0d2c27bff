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

    >>> from workbench.writing.fountain import parse
    >>> pdf = render_pdf_bytes(parse("INT. DINER - NIGHT\\n\\nRain.\\n"))
    >>> pdf[:5]
    b'%PDF-'
"""

from __future__ import annotations

import io
import re
from collections import deque
from dataclasses import dataclass, field
from functools import cached_property
from itertools import zip_longest
from pathlib import Path
from typing import BinaryIO

from reportlab.lib.pagesizes import LETTER
from reportlab.pdfgen.canvas import Canvas

from workbench.writing.fountain import (
    BOLD,
    ITALIC,
    UNDERLINE,
    Element,
    Screenplay,
    Styled,
    emphasis_spans,
    strip_notes,
)

__all__ = ["LINES_PER_PAGE", "paginate", "render_pdf", "render_pdf_bytes"]

INCH = 72.0
FONT_SIZE = 12
LINE_HEIGHT = 12.0  # 6 lines per inch
CHAR_WIDTH = 7.2  # Courier is 0.6 em wide: 10 characters per inch
PAGE_WIDTH, PAGE_HEIGHT = LETTER
TOP_MARGIN = 1 * INCH
LINES_PER_PAGE = 54  # 9 inches between the 1in top and bottom margins
RIGHT_EDGE = 7.5 * INCH
LEFT_EDGE = 1.5 * INCH
_FONTS = {0: "Courier", BOLD: "Courier-Bold", ITALIC: "Courier-Oblique", BOLD | ITALIC: "Courier-BoldOblique"}
_NOTE = "\ue000"  # stands where a note was, so a line that held only a note can go
_SENTENCE_END = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*\s+")
_ABBREVIATIONS = ("Mr", "Mrs", "Ms", "Dr", "St", "Jr", "Sr", "vs", "Lt", "Sgt", "Capt")
_SKIPPED = ("note", "section", "synopsis", "boneyard")

# A printed line is its text and one style mask per character.
Line = tuple[str, tuple[int, ...]]
# A row is one printed line of the page: pieces of styled text at x positions.
Row = list[tuple[float, list[Styled]]]


@dataclass(frozen=True)
class _Columns:
    """Where the parts of a speech print: (x in points, width in characters)."""

    character: tuple[float, int]
    parenthetical: tuple[float, int]
    dialogue: tuple[float, int]


_SINGLE = _Columns((3.7 * INCH, 38), (3.1 * INCH, 25), (2.5 * INCH, 35))
_DUAL_LEFT = _Columns((2.3 * INCH, 20), (1.8 * INCH, 22), (1.5 * INCH, 28))
_DUAL_RIGHT = _Columns((5.5 * INCH, 20), (5.0 * INCH, 24), (4.7 * INCH, 28))


# ---------------------------------------------------------------- text


def _printable(text: str) -> str:
    return "".join(" " if ord(c) < 32 or 127 <= ord(c) < 160 else c for c in text)


def _lines(text: str, extra_style: int = 0, keep_indent: bool = False) -> list[Line]:
    """Printed lines of an element: notes gone, emphasis resolved, tabs expanded."""
    out: list[Line] = []
    for raw in strip_notes(text.replace(_NOTE, ""), _NOTE).split("\n"):
        if _NOTE in raw and not raw.replace(_NOTE, "").strip():
            continue
        raw = raw.replace(_NOTE, "").expandtabs(4)
        raw = raw.rstrip() if keep_indent else raw.strip()
        spans = emphasis_spans(raw)
        plain = _printable("".join(span.text for span in spans))
        styles = tuple(span.style | extra_style for span in spans for _ in span.text)
        out.append((plain, styles))
    return out


def _strip(line: Line) -> Line:
    text, styles = line
    start = len(text) - len(text.lstrip())
    end = len(text.rstrip())
    return text[start:end], styles[start:end]


def _runs(line: Line, start: int = 0, end: int | None = None) -> list[Styled]:
    """Cut a slice of a printed line into runs of one style each."""
    text, styles = line
    end = len(text) if end is None else end
    runs: list[Styled] = []
    i = start
    while i < end:
        j = i + 1
        while j < end and styles[j] == styles[i]:
            j += 1
        runs.append(Styled(text[i:j], styles[i]))
        i = j
    return runs


def _wrap(text: str, width: int) -> list[tuple[int, int]]:
    """Greedy word wrap; returns (start, end) of each printed line."""
    width = max(width, 1)
    spans: list[tuple[int, int]] = []
    start = 0
    while len(text) - start > width:
        cut = text.rfind(" ", start, start + width + 1)
        if cut <= start or not text[start:cut].strip():
            spans.append((start, start + width))  # one word longer than the line
            start += width
        else:
            spans.append((start, len(text[start:cut].rstrip()) + start))
            start = cut + 1
        while start < len(text) and text[start] == " ":
            start += 1
    spans.append((start, len(text)))
    return spans


def _rows(lines: list[Line], x: float, width: int, align: str = "left", hang: int = 0) -> list[Row]:
    """Wrap lines into rows at a column; 'right' ends at x, 'center' centres on x."""
    rows: list[Row] = []
    for line in lines:
        for n, (start, end) in enumerate(_wrap(line[0], width - hang)):
            runs = _runs(line, start, end)
            length = end - start
            left = x + (hang * CHAR_WIDTH if n else 0)
            if align == "right":
                left = x - length * CHAR_WIDTH
            elif align == "center":
                left = x - length * CHAR_WIDTH / 2
            rows.append([(left, runs)])
    return rows


def _blank(row: Row) -> bool:
    return not any(run.text.strip() for _, runs in row for run in runs)


# ---------------------------------------------------------------- blocks


@dataclass
class _Block:
    """Rows that print together, with the blank lines wanted above them."""

    rows: list[Row]
    space: int = 1
    splits: bool = False  # action may break between lines
    keep_with_next: bool = False  # scene headings

    def split(self, room: int, fresh: bool) -> tuple[list[Row], _Block] | None:
        """Rows for the rest of this page and the block to carry over, or None to move it."""
        n = len(self.rows)
        if fresh:
            return self.rows[:room], _Block(self.rows[room:], 0, True)
        if not self.splits or room < 2 or n < 4:
            return None
        keep = min(room, n - 2)
        for cut in range(keep, 1, -1):  # prefer a line that ends a sentence
            if _row_text(self.rows[cut - 1]).rstrip().endswith((".", "!", "?", '"')):
                keep = cut
                break
        return (self.rows[:keep], _Block(self.rows[keep:], 0, True)) if keep >= 2 else None


def _row_text(row: Row) -> str:
    return "".join(run.text for _, runs in row for run in runs)


@dataclass
class _Speech:
    """A character's name and the parentheticals, dialogue and lyrics under it."""

    name: Line
    parts: list[tuple[str, list[Line]]]
    columns: _Columns = _SINGLE
    space: int = 1
    keep_with_next: bool = False

    @cached_property
    def rows(self) -> list[Row]:
        x, width = self.columns.character
        rows = _rows([self.name], x, width)
        for kind, lines in self.parts:
            if kind == "parenthetical":
                rows += _rows(lines, *self.columns.parenthetical, hang=1)
            else:
                rows += _rows(lines, *self.columns.dialogue)
        return rows

    def split(self, room: int, fresh: bool) -> tuple[list[Row], _Speech] | None:
        """Break at a sentence, with (MORE) below and NAME (CONT'D) on the next page."""
        for sentences in (True, False):
            if not sentences and not (fresh or len(self.rows) > LINES_PER_PAGE):
                return None  # a speech that fits a page moves whole rather than mid-sentence
            cuts = self._cuts(sentences)
            best = None
            low, high = 0, len(cuts) - 1
            while low <= high:  # head rows grow with the cut, so search
                mid = (low + high) // 2
                head = self._head(cuts[mid])
                if len(head.rows) + 1 <= room:
                    best, low = mid, mid + 1
                else:
                    high = mid - 1
            if best is not None and (fresh or len(self._head(cuts[best]).rows) >= 3):
                head, tail = self._head(cuts[best]), self._tail(cuts[best])
                more = [(self.columns.character[0], [Styled("(MORE)", 0)])]
                return [*head.rows, more], tail
        return None

    def _cuts(self, sentences: bool) -> list[tuple[int, int, int]]:
        """Places the speech may break, in order; each leaves words on both sides."""
        flat = [
            (p, li, text) for p, (_, lines) in enumerate(self.parts) for li, (text, _) in enumerate(lines)
        ]
        later = [False] * (len(flat) + 1)  # is there text after line n?
        for n in range(len(flat) - 1, -1, -1):
            later[n] = later[n + 1] or bool(flat[n][2].strip())
        cuts: list[tuple[int, int, int]] = []
        said = False
        for n, (p, li, text) in enumerate(flat):
            said = said and li > 0
            if self.parts[p][0] == "parenthetical":
                continue
            if sentences:
                ends = [m.end() for m in _SENTENCE_END.finditer(text) if not _abbreviation(text, m.start())]
            else:
                ends = [start for start, _ in _wrap(text, self.columns.dialogue[1])[1:]]
            for end in [*ends, len(text)]:
                if (said or text[:end].strip()) and (text[end:].strip() or later[n + 1]):
                    cuts.append((p, li, end))
            said = said or bool(text.strip())
        return cuts

    def _head(self, cut: tuple[int, int, int]) -> _Speech:
        p, li, end = cut
        kind, lines = self.parts[p]
        partial = [*lines[:li], _strip((lines[li][0][:end], lines[li][1][:end]))]
        return _Speech(self.name, [*self.parts[:p], (kind, partial)], self.columns)

    def _tail(self, cut: tuple[int, int, int]) -> _Speech:
        p, li, end = cut
        kind, lines = self.parts[p]
        rest = [_strip((lines[li][0][end:], lines[li][1][end:])), *lines[li + 1 :]]
        while rest and not rest[0][0]:
            rest.pop(0)
        parts = ([(kind, rest)] if rest else []) + self.parts[p + 1 :]
        name = self.name
        if "CONT'D" not in name[0].upper():
            name = (name[0] + " (CONT'D)", name[1] + (0,) * 9)
        return _Speech(name, parts, self.columns, 0)


def _abbreviation(text: str, end: int) -> bool:
    word = text[:end].rsplit(" ", 1)[-1]
    return word in _ABBREVIATIONS


@dataclass
class _Dual:
    """Two speeches side by side; never split except when longer than a page."""

    left: _Speech
    right: _Speech
    space: int = 1
    keep_with_next: bool = False

    @property
    def rows(self) -> list[Row]:
        pairs = zip_longest(self.left.rows, self.right.rows, fillvalue=[])
        return [[*a, *b] for a, b in pairs]

    def split(self, room: int, fresh: bool) -> tuple[list[Row], _Block] | None:
        return _Block(self.rows, self.space).split(room, fresh)


class _PageBreak:
    pass


def _speech(element: Element, said: list[Element], columns: _Columns = _SINGLE) -> _Speech:
    name = element.text + (f" {element.extension}" if element.extension else "")
    parts: list[tuple[str, list[Line]]] = []
    for part in said:
        style = ITALIC if part.kind == "lyric" else 0
        lines = _lines(part.text, style)
        if lines:
            parts.append((part.kind, lines))
    head = _lines(name) or [("", ())]
    return _Speech(head[0], parts, columns)


def _layout_blocks(elements: list[Element]) -> list[_Block | _Speech | _Dual | _PageBreak]:
    """Turn elements into printable blocks, in order."""
    blocks: list[_Block | _Speech | _Dual | _PageBreak] = []
    i = 0
    while i < len(elements):
        element = elements[i]
        i += 1
        kind = element.kind
        if kind == "character":
            said: list[Element] = []
            while i < len(elements) and (
                elements[i].kind in ("dialogue", "parenthetical") or elements[i].in_speech
            ):
                said.append(elements[i])
                i += 1
            last = blocks[-1] if blocks else None
            if element.dual == "right" and isinstance(last, _Speech) and last.columns is _DUAL_LEFT:
                blocks[-1] = _Dual(last, _speech(element, said, _DUAL_RIGHT))
            else:
                blocks.append(_speech(element, said, _DUAL_LEFT if element.dual == "left" else _SINGLE))
        elif kind == "page_break":
            blocks.append(_PageBreak())
        elif kind in _SKIPPED:
            continue
        else:
            rows = _element_rows(element)
            if rows:
                splits = kind in ("action", "lyric", "dialogue", "parenthetical")
                blocks.append(_Block(rows, 1, splits, keep_with_next=kind == "scene_heading"))
    # A lone left half (its partner never came) prints as an ordinary speech.
    return [
        _Speech(b.name, b.parts) if isinstance(b, _Speech) and b.columns is _DUAL_LEFT else b for b in blocks
    ]


def _element_rows(element: Element) -> list[Row]:
    kind = element.kind
    if kind == "scene_heading":
        rows = _rows(_lines(element.text), LEFT_EDGE, 60)
        if rows and element.scene_number:
            number = [Styled(_printable(element.scene_number), 0)]
            width = len(element.scene_number) * CHAR_WIDTH
            rows[0] = [
                (LEFT_EDGE - width - 3 * CHAR_WIDTH, number),
                *rows[0],
                (RIGHT_EDGE + CHAR_WIDTH, number),
            ]
        return rows
    if kind == "transition":
        return _rows(_lines(element.text), RIGHT_EDGE, 30, align="right")
    if kind == "centered":
        return _rows(_lines(element.text), (LEFT_EDGE + RIGHT_EDGE) / 2, 60, align="center")
    if kind == "dialogue" or kind == "parenthetical":  # a speech part with no speaker
        return _rows(_lines(element.text), *_SINGLE.dialogue)
    style = ITALIC if kind == "lyric" else 0
    return _rows(_lines(element.text, style, keep_indent=kind == "action"), LEFT_EDGE, 60)


# ---------------------------------------------------------------- pages


@dataclass
class _Pages:
    pages: list[list[Row]] = field(default_factory=lambda: [[]])

    @property
    def room(self) -> int:
        return LINES_PER_PAGE - len(self.pages[-1])

    def new_page(self) -> None:
        if self.pages[-1]:
            self.pages.append([])

    def place(self, rows: list[Row], space: int) -> None:
        if self.pages[-1]:
            self.pages[-1].extend([[]] * space)
        else:
            while rows and _blank(rows[0]):
                rows = rows[1:]
        self.pages[-1].extend(rows)


def _fits_start(block: _Block | _Speech | _Dual, room: int) -> bool:
    """Would at least the start of this block print within ``room`` lines?"""
    return room > 0 and (len(block.rows) <= room or block.split(room, False) is not None)


def paginate(elements: list[Element]) -> list[list[Row]]:
    """Lay the script out into pages of rows (the title page is not included)."""
    pages = _Pages()
    queue = deque(_layout_blocks(elements))
    while queue:
        block = queue.popleft()
        if isinstance(block, _PageBreak):
            pages.new_page()
            continue
        space = block.space if pages.pages[-1] else 0
        room = pages.room - space
        rows = block.rows
        if block.keep_with_next and queue and not isinstance(queue[0], _PageBreak) and pages.pages[-1]:
            after = queue[0]
            if len(rows) > room or not _fits_start(after, room - len(rows) - after.space):
                pages.new_page()
                space, room = 0, LINES_PER_PAGE
        if len(rows) <= room:
            pages.place(rows, space)
            continue
        fresh = not pages.pages[-1]
        cut = block.split(room, fresh)
        if cut is None and not fresh:
            pages.new_page()
            queue.appendleft(block)
            continue
        head, rest = cut if cut else (rows[:room], _Block(rows[room:], 0, True))
        pages.place(head, space)
        pages.new_page()
        queue.appendleft(rest)
    return [page for page in pages.pages if page]


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


def render_pdf(screenplay: Screenplay, out: str | Path | BinaryIO) -> None:
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
