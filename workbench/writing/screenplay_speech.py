"""A character's speech on the page: its rows, and where it breaks across pages.

A speech that does not fit breaks at a sentence with ``(MORE)`` below and
resumes under ``NAME (CONT'D)``. Only the start of a speech is measured to
find the break (see :meth:`_Speech._probe`), and the rest reuses the speech's
lists, so a speech many pages long costs a page's work per page. Used by
:mod:`~workbench.writing.screenplay_pagination`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from workbench.writing.fountain import Styled
from workbench.writing.screenplay_rows import (
    _SINGLE,
    LINES_PER_PAGE,
    Line,
    Row,
    _Columns,
    _rows,
    _strip,
    _wrap,
)

__all__: list[str] = []

_SENTENCE_END = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*\s+")
_WORD = re.compile(r"\S")
_ABBREVIATIONS = ("Mr", "Mrs", "Ms", "Dr", "St", "Jr", "Sr", "vs", "Lt", "Sgt", "Capt")


@dataclass
class _Speech:
    """A character's name and the parentheticals, dialogue and lyrics under it."""

    name: Line
    parts: list[tuple[str, list[Line]]]
    columns: _Columns = _SINGLE
    space: int = 1
    keep_with_next: bool = False
    # (part, line) of the last line with words, (-1, -1) for none; found once,
    # then carried to each rest so a long speech is never rescanned per page.
    last_words: tuple[int, int] | None = field(default=None, repr=False, compare=False)

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

    def count(self, limit: int) -> int:
        """How many rows the speech prints, counting no further than ``limit`` + 1."""
        return self._probe(limit + 1)[2]

    def split(self, room: int, fresh: bool) -> tuple[list[Row], _Speech] | None:
        """Break at a sentence, with (MORE) below and NAME (CONT'D) on the next page.

        The speech is used up: its lines move to the returned rest in place.
        """
        found = self._break(room, fresh)
        if found is None:
            return None
        probe, cut = found
        more_row = [(self.columns.character[0], [Styled("(MORE)", 0)])]
        return [*probe._head(cut).rows, more_row], self._tail(cut)

    def can_split(self, room: int) -> bool:
        """Would some of the speech print in ``room`` lines below other text? The speech is untouched."""
        return self._break(room, False) is not None

    def _break(self, room: int, fresh: bool) -> tuple[_Speech, tuple[int, int, int]] | None:
        """Where the speech breaks for a page with ``room`` lines left, and the start it was found in."""
        # Only the start of the speech can land on this page, so only that much
        # is measured: a speech of a thousand pages costs a page's work per page.
        probe, more, _ = self._probe(room + 1)
        for sentences in (True, False):
            if not sentences and not (fresh or self.count(LINES_PER_PAGE) > LINES_PER_PAGE):
                return None  # a speech that fits a page moves whole rather than mid-sentence
            cuts = probe._cuts(sentences, more)
            best = None
            low, high = 0, len(cuts) - 1
            while low <= high:  # head rows grow with the cut, so search
                mid = (low + high) // 2
                if probe._head_rows(cuts[mid]) + 1 <= room:
                    best, low = mid, mid + 1
                else:
                    high = mid - 1
            if best is not None and (fresh or probe._head_rows(cuts[best]) >= 3):
                return probe, cuts[best]
        return None

    @cached_property
    def _rows_before(self) -> dict[tuple[int, int], int]:
        """Rows printed above each line of the speech (name included), by (part, line)."""
        above = len(_wrap(self.name[0], self.columns.character[1]))
        before: dict[tuple[int, int], int] = {}
        for p, (kind, lines) in enumerate(self.parts):
            for li, (text, _) in enumerate(lines):
                before[p, li] = above
                above += len(_wrap(text, self._width(kind)))
        return before

    def _head_rows(self, cut: tuple[int, int, int]) -> int:
        """``len(self._head(cut).rows)``, without laying the head out."""
        p, li, end = cut
        kind, lines = self.parts[p]
        partial = _strip((lines[li][0][:end], b""))[0]
        return self._rows_before[p, li] + len(_wrap(partial, self._width(kind)))

    def _width(self, kind: str) -> int:
        """Characters a line of this part holds (a parenthetical's wrapped lines hang by one)."""
        return self.columns.parenthetical[1] - 1 if kind == "parenthetical" else self.columns.dialogue[1]

    def _probe(self, limit: int) -> tuple[_Speech, bool, int]:
        """The start of this speech up to its ``limit``-th row, whether words follow, its rows.

        A line that crosses the limit is cut at the end of a printed row, so
        every break the split could choose within ``limit`` - 1 rows is found
        in the probe exactly as in the whole speech.
        """
        rows = len(_wrap(self.name[0], self.columns.character[1], limit))
        parts: list[tuple[str, list[Line]]] = []
        for p, (kind, lines) in enumerate(self.parts):
            taken: list[Line] = []
            for li, line in enumerate(lines):
                if rows >= limit:
                    parts += [(kind, taken)] if taken else []
                    return _Speech(self.name, parts, self.columns), self._words_after(p, li, 0), rows
                spans = _wrap(line[0], self._width(kind), limit - rows)
                rows += len(spans)
                if spans[-1][1] < len(line[0]):  # the wrap stopped at the limit inside this line
                    end = spans[-1][1]
                    taken.append((line[0][:end], line[1][:end]))
                    parts.append((kind, taken))
                    return _Speech(self.name, parts, self.columns), self._words_after(p, li, end), rows
                taken.append(line)
            parts += [(kind, taken)] if taken else []
        return _Speech(self.name, parts, self.columns), False, rows

    def _words_after(self, p: int, li: int, end: int) -> bool:
        """Is there printed text from line ``li`` of part ``p``, character ``end``, on?"""
        return bool(_WORD.search(self.parts[p][1][li][0], end)) or self._last_words() > (p, li)

    def _last_words(self) -> tuple[int, int]:
        if self.last_words is None:
            found = ((p, li) for p in range(len(self.parts) - 1, -1, -1)
                     for li in range(len(self.parts[p][1]) - 1, -1, -1) if self.parts[p][1][li][0].strip())
            self.last_words = next(found, (-1, -1))
        return self.last_words

    def _cuts(self, sentences: bool, more: bool = False) -> list[tuple[int, int, int]]:
        """Places the speech may break, in order; each leaves words on both sides.

        ``more`` says words follow the last line (this speech is a probe of a longer one).
        """
        flat = [
            (p, li, text) for p, (_, lines) in enumerate(self.parts) for li, (text, _) in enumerate(lines)
        ]
        later = [False] * len(flat) + [more]  # is there text after line n?
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
            # Where the words of the line begin and end, so each cut is checked without copying the line.
            first, last = len(text) - len(text.lstrip()), len(text.rstrip())
            for end in [*ends, len(text)]:
                if (said or first < end) and (last > end or later[n + 1]):
                    cuts.append((p, li, end))
            said = said or bool(text.strip())
        return cuts

    def _head(self, cut: tuple[int, int, int]) -> _Speech:
        p, li, end = cut
        kind, lines = self.parts[p]
        partial = [*lines[:li], _strip((lines[li][0][:end], lines[li][1][:end]))]
        return _Speech(self.name, [*self.parts[:p], (kind, partial)], self.columns)

    def _tail(self, cut: tuple[int, int, int]) -> _Speech:
        """The speech after ``cut``, made from this one's lists in place (no copy per page)."""
        p, li, end = cut
        last_p, last_li = self._last_words()  # before the lists change
        kind, lines = self.parts[p]
        first = _strip((lines[li][0][end:], lines[li][1][end:]))
        if first[0]:
            lines[: li + 1] = [first]
            shift = li  # where in the old ``lines`` the rest starts
        else:  # drop the empty lines the break leaves at the top too
            skip = next((n for n in range(li + 1, len(lines)) if lines[n][0]), len(lines))
            del lines[:skip]
            shift = skip
        if last_p == p and last_li >= shift:
            last = (0, last_li - shift)
        elif last_p > p:
            last = (last_p - p - (0 if lines else 1), last_li)
        else:
            last = (-1, -1)
        parts = self.parts
        del parts[: p if lines else p + 1]
        name = self.name
        if "CONT'D" not in name[0].upper():
            name = (name[0] + " (CONT'D)", name[1] + bytes(9))
        return _Speech(name, parts, self.columns, 0, last_words=last)


def _abbreviation(text: str, end: int) -> bool:
    word = text[text.rfind(" ", 0, end) + 1 : end]  # the word before ``end``, without copying the line
    return word in _ABBREVIATIONS
