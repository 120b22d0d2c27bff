"""Fountain as a reader sees it: notes removed, emphasis resolved, markup gone.

``strip_notes`` and ``emphasis_spans`` read the inline markup that element
text keeps (``[[notes]]``, ``*italic*``, ``**bold**``, ``_underline_``);
``to_plain_text`` gives the printed words of a whole script, for search and
for prompts. Import them from :mod:`workbench.writing.fountain`.
"""

from __future__ import annotations

import re
from itertools import groupby

from workbench.writing.fountain_model import BOLD, ITALIC, UNDERLINE, Screenplay, Styled, _blocks

__all__ = ["emphasis_spans", "strip_notes", "to_plain_text"]


def strip_notes(text: str, mark: str = "") -> str:
    """Remove ``[[notes]]`` (which may span lines), leaving ``mark`` where each was."""
    out: list[str] = []
    pos = 0
    while (start := text.find("[[", pos)) >= 0:
        end = text.find("]]", start + 2)
        if end < 0:
            break
        out.append(text[pos:start] + mark)
        pos = end + 2
    out.append(text[pos:])
    return "".join(out)


_MARKERS = re.compile(r"\\[*_]|\*+|_+")
_STYLE_OF = {("*", 1): ITALIC, ("*", 2): BOLD, ("*", 3): BOLD | ITALIC, ("_", 1): UNDERLINE}


def emphasis_spans(line: str) -> list[Styled]:
    """Resolve ``*italic*``, ``**bold**``, ``***both***``, ``_underline_`` and ``\\*`` escapes.

    Works on one printed line (emphasis never crosses a line break) and returns
    the visible text in styled runs, markers removed.
    """
    if not any(mark in line for mark in "*_\\"):
        return [Styled(line, 0)] if line else []
    tokens: list[str | tuple[str, int, bool, bool]] = []
    pos = 0
    for match in _MARKERS.finditer(line):
        if match.start() > pos:
            tokens.append(line[pos : match.start()])
        start, pos = match.span()
        if match.group().startswith("\\"):
            tokens.append(match.group()[1])
            continue
        opens = pos < len(line) and not line[pos].isspace()
        closes = start > 0 and not line[start - 1].isspace()
        tokens.append((match.group()[0], pos - start, opens, closes))
    if pos < len(line):
        tokens.append(line[pos:])
    # Each marker kind keeps its own stack, so matching is linear; crossing
    # pairs are harmless because styles are counted, not nested.
    stacks: dict[tuple[str, int], list[int]] = {}
    change: dict[int, int] = {}
    for index, token in enumerate(tokens):
        if isinstance(token, str) or (token[0], token[1]) not in _STYLE_OF:
            continue
        key = (token[0], token[1])
        stack = stacks.setdefault(key, [])
        if token[3] and stack:
            change[stack.pop()] = _STYLE_OF[key]
            change[index] = -_STYLE_OF[key]
        elif token[2]:
            stack.append(index)
    counts = {BOLD: 0, ITALIC: 0, UNDERLINE: 0}
    style = 0  # recomputed only where a marker opens or closes
    pieces: list[tuple[str, int]] = []
    for index, token in enumerate(tokens):
        delta = change.get(index)
        if delta is not None:
            for bit in counts:
                if abs(delta) & bit:
                    counts[bit] += 1 if delta > 0 else -1
            style = sum(bit for bit, count in counts.items() if count > 0)
            continue
        piece = token if isinstance(token, str) else token[0] * token[1]
        pieces.append((piece, style))
    return [
        Styled("".join(p for p, _ in group), style)
        for style, group in groupby(pieces, key=lambda item: item[1])
    ]


def _plain(text: str) -> str:
    rows = strip_notes(text).split("\n")
    return "\n".join("".join(s.text for s in emphasis_spans(row)).rstrip() for row in rows)


def to_plain_text(screenplay: Screenplay) -> str:
    """The script as a reader sees it: no markup, notes, sections, synopses or boneyard."""
    chunks: list[str] = []
    page = screenplay.title_page
    if page:
        rows = [f"{key}: " + _plain(value).replace("\n", "\n    ") for key, value in page.items()]
        chunks.append("\n".join(rows))
    for block in _blocks(screenplay.elements):
        first = block[0]
        if first.kind in ("note", "section", "synopsis", "boneyard", "page_break"):
            continue
        if first.kind == "character":
            head = first.text + (f" {first.extension}" if first.extension else "")
            chunks.append("\n".join([_plain(head)] + [_plain(e.text) for e in block[1:]]))
        elif first.kind == "scene_heading" and first.scene_number:
            chunks.append(f"{_plain(first.text)} #{first.scene_number}#")
        else:
            chunks.append(_plain(first.text))
    return "\n\n".join(c for c in chunks if c.strip()) + "\n" if chunks else ""
