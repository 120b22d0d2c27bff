"""Laying a screenplay out into pages of printed rows.

Elements become blocks (:class:`_Block` for headings, action and the like,
:class:`_Speech` for a character's speech, :class:`_Dual` for two at once),
and ``paginate`` fills pages of 54 lines with them by the usual rules: a
scene heading is never the last line of a page, a speech that does not fit
breaks at a sentence with ``(MORE)`` and resumes under ``NAME (CONT'D)``,
``===`` starts a new page. Notes, sections, synopses and boneyard never print.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from functools import cached_property
from itertools import zip_longest

from workbench.writing.fountain import ITALIC, Element, Styled
from workbench.writing.screenplay_rows import (
    _DUAL_LEFT,
    _DUAL_RIGHT,
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
    _strip,
    _wrap,
)

__all__ = ["paginate"]

_SENTENCE_END = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*\s+")
_ABBREVIATIONS = ("Mr", "Mrs", "Ms", "Dr", "St", "Jr", "Sr", "vs", "Lt", "Sgt", "Capt")
_SKIPPED = ("note", "section", "synopsis", "boneyard")


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
        empty: Row = []
        return [[*a, *b] for a, b in zip_longest(self.left.rows, self.right.rows, fillvalue=empty)]

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
