"""Screenplay text as printed lines at the industry column positions.

The horizontal geometry of the page (Courier at 10 characters per inch,
1.5in to 7.5in, 54 lines a page) and the steps from an element's text to
rows ready to draw: notes dropped, emphasis resolved into styled runs, words
wrapped to a column's width and placed left, right or centred. Used by
:mod:`~workbench.writing.screenplay_pagination` and
:mod:`~workbench.writing.screenplay_pdf`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from workbench.writing.fountain import Styled, emphasis_spans, strip_notes

__all__ = ["CHAR_WIDTH", "INCH", "LEFT_EDGE", "LINES_PER_PAGE", "RIGHT_EDGE", "Line", "Row"]

INCH = 72.0
CHAR_WIDTH = 7.2  # Courier is 0.6 em wide: 10 characters per inch
LINES_PER_PAGE = 54  # 9 inches between the 1in top and bottom margins
RIGHT_EDGE = 7.5 * INCH
LEFT_EDGE = 1.5 * INCH
_NOTE = "\ue000"  # stands where a note was, so a line that held only a note can go

# A printed line is its text and one style mask per character (bytes, so a
# long line is sliced page by page without touching each character).
Line = tuple[str, bytes]
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


_CONTROL = {c: " " for c in [*range(32), *range(127, 160)]}
_SPACES = re.compile(" *")
_SPACE_RUN = re.compile(r"\s*")


def _printable(text: str) -> str:
    return text.translate(_CONTROL)  # control characters print as spaces


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
        styles = b"".join(bytes([span.style | extra_style]) * len(span.text) for span in spans)
        out.append((plain, styles))
    return out


def _strip(line: Line) -> Line:
    text, styles = line
    start = _SPACE_RUN.match(text).end()  # type: ignore[union-attr]  # "\s*" always matches
    end = len(text.rstrip()) if text[-1:].isspace() else len(text)  # no copy unless there is something to strip
    return text[start:end], styles[start:end]


def _runs(line: Line, start: int = 0, end: int | None = None) -> list[Styled]:
    """Cut a slice of a printed line into runs of one style each."""
    text, styles = line
    end = len(text) if end is None else end
    if start < end and styles[start:end].count(styles[start]) == end - start:
        return [Styled(text[start:end], styles[start])]  # the common case: one style, no per-letter walk
    runs: list[Styled] = []
    i = start
    while i < end:
        j = i + 1
        while j < end and styles[j] == styles[i]:
            j += 1
        runs.append(Styled(text[i:j], styles[i]))
        i = j
    return runs


def _wrap(text: str, width: int, limit: int | None = None) -> list[tuple[int, int]]:
    """Greedy word wrap; returns (start, end) of each printed line, at most ``limit`` of them.

    The lines of a prefix of ``text`` are the first lines of ``text`` (the last
    one cut short), which lets a long speech be measured a page at a time.
    """
    width = max(width, 1)
    spans: list[tuple[int, int]] = []
    start = 0
    while len(text) - start > width:
        if limit is not None and len(spans) >= limit:
            return spans
        cut = text.rfind(" ", start, start + width + 1)
        if cut <= start or not text[start:cut].strip():
            spans.append((start, start + width))  # one word longer than the line
            start += width
        else:
            spans.append((start, len(text[start:cut].rstrip()) + start))
            start = cut + 1
        start = _SPACES.match(text, start).end()  # type: ignore[union-attr]  # " *" always matches
    if limit is None or len(spans) < limit:
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
