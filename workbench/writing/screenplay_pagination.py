"""Laying a screenplay out into pages of printed rows.

Elements become blocks (:class:`_Block` for headings, action and the like,
:class:`_Speech` for a character's speech, :class:`_Dual` for two at once),
and ``paginate`` fills pages of 54 lines with them by the usual rules: a
scene heading is never the last line of a page, a speech that does not fit
breaks at a sentence with ``(MORE)`` and resumes under ``NAME (CONT'D)``,
``===`` starts a new page. Notes, sections, synopses and boneyard never print.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from functools import cached_property
from itertools import zip_longest

from workbench.writing.fountain import ITALIC, Element, Styled, strip_notes
from workbench.writing.screenplay_rows import (
    _DUAL_LEFT,
    _DUAL_RIGHT,
    _NOTE,
    _SINGLE,
    CHAR_WIDTH,
    LEFT_EDGE,
    LINES_PER_PAGE,
    RIGHT_EDGE,
    Line,
    Row,
    _blank,
    _Columns,
    _lines,
    _printable,
    _rows,
)
from workbench.writing.screenplay_speech import _Speech

__all__ = ["paginate", "printed_lines"]

_SKIPPED = ("note", "section", "synopsis", "boneyard")


# ---------------------------------------------------------------- blocks


@dataclass
class _Block:
    """Rows that print together, with the blank lines wanted above them."""

    every_row: list[Row]
    space: int = 1
    splits: bool = False  # action may break between lines
    keep_with_next: bool = False  # scene headings
    # Rows before ``start`` went on earlier pages: the rest of a long block
    # shares the list instead of copying it once per page.
    start: int = 0

    @property
    def rows(self) -> list[Row]:
        return self.every_row[self.start :] if self.start else self.every_row

    def count(self, limit: int) -> int:
        """How many rows the block prints."""
        return len(self.every_row) - self.start

    def split(self, room: int, fresh: bool) -> tuple[list[Row], _Block] | None:
        """Rows for the rest of this page and the block to carry over, or None to move it."""
        n, first = self.count(room), self.start
        if fresh:
            return self.every_row[first : first + room], _Block(self.every_row, 0, True, start=first + room)
        if not self.splits or room < 2 or n < 4:
            return None
        keep = min(room, n - 2)
        for cut in range(keep, 1, -1):  # prefer a line that ends a sentence
            if _row_text(self.every_row[first + cut - 1]).rstrip().endswith((".", "!", "?", '"')):
                keep = cut
                break
        if keep < 2:
            return None
        return self.every_row[first : first + keep], _Block(self.every_row, 0, True, start=first + keep)

    def can_split(self, room: int) -> bool:
        """Would some of the block print in ``room`` lines below other text?"""
        return self.split(room, False) is not None


def _row_text(row: Row) -> str:
    return "".join(run.text for _, runs in row for run in runs)


@dataclass
class _Dual:
    """Two speeches side by side; never split except when longer than a page."""

    left: _Speech
    right: _Speech
    space: int = 1
    keep_with_next: bool = False

    @cached_property
    def rows(self) -> list[Row]:
        empty: Row = []
        return [[*a, *b] for a, b in zip_longest(self.left.rows, self.right.rows, fillvalue=empty)]

    def count(self, limit: int) -> int:
        """How many rows the pair prints."""
        return len(self.rows)

    def split(self, room: int, fresh: bool) -> tuple[list[Row], _Block] | None:
        return _Block(self.rows, self.space).split(room, fresh)

    def can_split(self, room: int) -> bool:
        """Would some of the pair print in ``room`` lines below other text?"""
        return self.split(room, False) is not None


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
    head = _lines(name) or [("", b"")]
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


def printed_lines(elements: list[Element]) -> int:
    """How many lines the script prints before wrapping: a floor on its rows, counted without laying out.

    Each counts at least one row of a page, so a script far past a page limit
    can be refused before any layout work.
    """
    total = 0
    for element in elements:
        if element.kind in _SKIPPED or element.kind == "page_break":
            continue
        if element.kind == "character":
            total += 1
            continue
        text = strip_notes(element.text.replace(_NOTE, ""), _NOTE)
        if _NOTE not in text:
            total += text.count("\n") + 1
        else:  # a line that held only a note does not print (as in ``_lines``)
            total += sum(1 for raw in text.split("\n") if _NOTE not in raw or raw.replace(_NOTE, "").strip())
    return total


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
        else:  # a page never starts with blank lines
            rows = rows[next((n for n, row in enumerate(rows) if not _blank(row)), len(rows)) :]
        self.pages[-1].extend(rows)


def _fits_start(block: _Block | _Speech | _Dual, room: int) -> bool:
    """Would at least the start of this block print within ``room`` lines?"""
    return room > 0 and (block.count(room) <= room or block.can_split(room))


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
        # Counted only as far as the page reaches: the rest of a long speech is laid out on later pages.
        size = block.count(room)
        if block.keep_with_next and queue and not isinstance(queue[0], _PageBreak) and pages.pages[-1]:
            after = queue[0]
            if size > room or not _fits_start(after, room - size - after.space):
                pages.new_page()
                space, room = 0, LINES_PER_PAGE
                size = block.count(room)
        if size <= room:
            pages.place(block.rows, space)
            continue
        fresh = not pages.pages[-1]
        cut = block.split(room, fresh)
        if cut is None and not fresh:
            pages.new_page()
            queue.appendleft(block)
            continue
        if cut is None:  # nowhere to break on a fresh page: cut at the page end
            rows = block.rows
            cut = rows[:room], _Block(rows, 0, True, start=room)
        head, rest = cut
        pages.place(head, space)
        pages.new_page()
        queue.appendleft(rest)
    return [page for page in pages.pages if page]
