"""Fountain screenplays: read them, write them back, and read them as plain text.

Fountain (https://fountain.io/syntax) is the plain-text screenplay format most
writing tools exchange. ``parse`` turns any text into a :class:`Screenplay`
(title page plus a flat list of :class:`Element`), ``format`` writes it back
as canonical Fountain, and ``to_plain_text`` gives what a reader would see on
the printed page, for search and for prompts.

    >>> play = parse("INT. DINER - NIGHT\\n\\nRAIN hammers the glass.\\n\\nMAE\\nMore coffee?\\n")
    >>> [e.kind for e in play.elements]
    ['scene_heading', 'action', 'character', 'dialogue']
    >>> parse(format(play)) == play
    True

Element text keeps the writer's inline markup (``*italic*``, ``[[notes]]``)
so nothing is lost on the way back; :func:`emphasis_spans` and
:func:`strip_notes` read it. Parsing never raises: text that fits no rule is
action, as the spec says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from itertools import groupby, pairwise
from typing import NamedTuple

__all__ = [
    "BOLD",
    "ITALIC",
    "UNDERLINE",
    "Element",
    "Scene",
    "Screenplay",
    "Styled",
    "emphasis_spans",
    "format",
    "parse",
    "strip_notes",
    "to_plain_text",
]

BOLD, ITALIC, UNDERLINE = 1, 2, 4

_HEADING = re.compile(r"(?:INT\.?/EXT|I/E|INT|EXT|EST)[.\s]", re.IGNORECASE)
_TITLE_KEY = re.compile(r"([A-Za-z][\w ()'\-]{0,60}):(.*)")
_SCENE_NUMBER = re.compile(r"[\w.\-]+")
_SPEECH_KINDS = ("parenthetical", "dialogue")
# A block boneyard is lifted out before line parsing and stands in as this
# one-line token; NUL is removed from input first so nothing can forge one.
_BONE = "\x00"


@dataclass
class Element:
    """One paragraph of a screenplay: a scene heading, a line of dialogue, a note.

    ``kind`` is one of scene_heading, action, character, dialogue,
    parenthetical, transition, centered, lyric, page_break, note, section,
    synopsis or boneyard. ``text`` holds the words without the Fountain
    markers that decided the kind, but with inline emphasis and notes.
    ``scene_number`` is the ``#1A#`` of a heading, ``depth`` the level of a
    section, ``dual`` is 'left' or 'right' for characters speaking at once,
    ``extension`` the ``(V.O.)`` after a character name, and ``in_speech``
    marks lyric lines sung inside a character's speech.
    """

    kind: str
    text: str = ""
    scene_number: str | None = None
    depth: int = 0
    dual: str | None = None
    extension: str | None = None
    in_speech: bool = False


@dataclass
class Scene:
    """A scene heading and every element up to the next heading."""

    heading: Element
    elements: list[Element] = field(default_factory=list)

    @property
    def number(self) -> str | None:
        """The scene number written on the heading, if any."""
        return self.heading.scene_number


@dataclass
class Screenplay:
    """A whole script: title page fields (``Title``, ``Author``...) and its elements."""

    title_page: dict[str, str] = field(default_factory=dict)
    elements: list[Element] = field(default_factory=list)

    def title_field(self, key: str) -> str | None:
        """A title page value by key, ignoring case: ``play.title_field("draft date")``."""
        for name, value in self.title_page.items():
            if name.casefold() == key.casefold():
                return value
        return None

    def scenes(self) -> list[Scene]:
        """The scenes in order; anything before the first heading belongs to none."""
        scenes: list[Scene] = []
        for element in self.elements:
            if element.kind == "scene_heading":
                scenes.append(Scene(element))
            elif scenes:
                scenes[-1].elements.append(element)
        return scenes

    def characters(self) -> list[str]:
        """Speaking characters in order of first appearance, without extensions.

        ``MCCLANE`` and ``@McCLANE`` are the same person; the first spelling wins.
        """
        seen: dict[str, str] = {}
        for element in self.elements:
            if element.kind == "character" and element.text.upper() not in seen:
                seen[element.text.upper()] = element.text
        return list(seen.values())


class Styled(NamedTuple):
    """A run of printed characters sharing one style (a BOLD|ITALIC|UNDERLINE mask)."""

    text: str
    style: int


# ---------------------------------------------------------------- reading


def parse(text: str) -> Screenplay:
    """Read Fountain text into a :class:`Screenplay`. Never raises on odd input."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    lines = text.replace(_BONE, "").replace("\ufeff", "").split("\n")
    title_page, start = _read_title_page(lines)
    # Boneyards are looked for below the title page only: there a /* is just
    # part of a value, and values may be regrouped when a key repeats.
    body, bones = _lift_boneyards("\n".join(lines[start:]))
    return Screenplay(title_page, _Body(body.split("\n"), bones).read())


def _blank_line_at(text: str, start: int) -> bool:
    """True when the line starting at ``start`` is empty or whitespace."""
    end = text.find("\n", start)
    return not text[start : len(text) if end < 0 else end].strip()


def _lift_boneyards(text: str) -> tuple[str, list[str]]:
    """Swap boneyards that stand as their own paragraph for tokens; drop inline ones.

    Positions only move forward, so hostile input with thousands of ``/*``
    stays linear.
    """
    out: list[str] = []
    bones: list[str] = []
    pos = 0
    while (start := text.find("/*", pos)) >= 0:
        end = text.find("*/", start + 2)
        if end < 0:
            break  # an unclosed /* is the writer's text, not a boneyard
        stop = end + 2
        line_start = text.rfind("\n", pos, start) + 1
        alone = (line_start > 0 or pos == 0) and not text[line_start:start].strip()
        tail = stop
        while tail < len(text) and text[tail] != "\n" and text[tail].isspace():
            tail += 1
        alone = alone and (tail == len(text) or text[tail] == "\n")
        if alone and line_start > 0:
            alone = _blank_line_at(text, text.rfind("\n", 0, line_start - 1) + 1)
        if alone and tail < len(text):
            alone = _blank_line_at(text, tail + 1)
        if alone:
            out.append(text[pos:line_start] + f"{_BONE}{len(bones)}{_BONE}")
            bones.append(text[start + 2 : end])
            pos = tail
        else:
            out.append(text[pos:start])
            pos = stop
    out.append(text[pos:])
    return "".join(out), bones


def _read_title_page(lines: list[str]) -> tuple[dict[str, str], int]:
    """Title page ``Key: value`` lines at the very top, up to the first blank line.

    Returns the fields and the index of the first line below the title page.
    """
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    first = _TITLE_KEY.fullmatch(lines[i]) if i < len(lines) else None
    # "FADE IN:" opens many scripts: a key only counts with a value under or after it.
    indented = i + 1 < len(lines) and lines[i + 1][:1].isspace() and lines[i + 1].strip()
    if not first or not (first.group(2).strip() or indented):
        return {}, 0
    values: dict[str, list[str]] = {}
    key = ""
    while i < len(lines) and lines[i].strip():
        match = _TITLE_KEY.fullmatch(lines[i])
        if match:
            key = match.group(1).strip()
            values.setdefault(key, [])
            line = match.group(2)
        else:
            line = lines[i]  # indented continuation of a multi-line value
        if line.strip():
            values[key].append(line.strip())
        i += 1
    return {k: "\n".join(v) for k, v in values.items()}, i


def _split_character(line: str) -> tuple[str, str | None, bool]:
    """``STEEL (V.O.) ^`` -> name, extension, and whether it is the dual partner."""
    dual = line.endswith("^")
    if dual:
        line = line[:-1].rstrip()
    paren = line.find("(")
    if paren > 0 and line.endswith(")"):
        return line[:paren].rstrip(), line[paren:], dual
    return line, None, dual


def _heading(text: str) -> Element:
    """A scene heading, taking a trailing ``#12A#`` as its scene number."""
    if text.endswith("#") and len(text) > 1:
        mark = text.rfind("#", 0, len(text) - 1)
        if mark >= 0 and _SCENE_NUMBER.fullmatch(text[mark + 1 : -1]):
            return Element("scene_heading", text[:mark].rstrip(), scene_number=text[mark + 1 : -1])
    return Element("scene_heading", text)


class _Body:
    """Line-by-line reader of everything below the title page."""

    def __init__(self, lines: list[str], bones: list[str]) -> None:
        self.lines = lines
        self.bones = bones
        self.out: list[Element] = []
        self.pending: Element | None = None  # an element still taking lines
        self.pending_lines: list[str] = []
        self.speech = False  # inside a character's speech
        self.paragraph = False  # the previous line had text

    def read(self) -> list[Element]:
        i = 0
        while i < len(self.lines):
            i = self.line(i)
        self.flush()
        return self.out

    def flush(self) -> None:
        element, lines = self.pending, self.pending_lines
        self.pending, self.pending_lines = None, []
        if element is None:
            return
        if element.kind in ("action", "dialogue"):
            while lines and not lines[-1]:
                lines.pop()
            if not lines:
                return
        element.text = "\n".join(lines)
        self.out.append(element)

    def emit(self, element: Element) -> None:
        self.flush()
        self.out.append(element)

    def gather(self, kind: str, line: str, in_speech: bool = False) -> None:
        """Add a line to the open element of this kind, or open a new one."""
        if self.pending is None or self.pending.kind != kind:
            self.flush()
            self.pending = Element(kind, in_speech=in_speech)
        self.pending_lines.append(line)

    def end_paragraph(self) -> None:
        self.flush()
        self.speech = self.paragraph = False

    def line(self, i: int) -> int:
        line = self.lines[i]
        text = line.strip()
        if not text:
            # Two spaces keep a speech or an action going across a blank line.
            if line == "  " and (self.speech or (self.pending and self.pending.kind == "action")):
                self.gather("dialogue" if self.speech else "action", "")
            else:
                self.end_paragraph()
            return i + 1
        if line.startswith(_BONE):
            self.end_paragraph()
            self.out.append(Element("boneyard", self.bones[int(line.strip(_BONE))]))
            return i + 1
        after_blank = not self.paragraph
        self.paragraph = True
        if self.speech:
            self.speech_line(text)
            return i + 1
        before_blank = i + 1 >= len(self.lines) or not self.lines[i + 1].strip()
        return self.classify(i, line, text, after_blank, before_blank)

    def speech_line(self, text: str) -> None:
        if text.startswith("~"):
            self.gather("lyric", text[1:].strip(), in_speech=True)
        elif text.startswith("(") and text.endswith(")"):
            self.emit(Element("parenthetical", text))
        else:
            self.gather("dialogue", text)

    def classify(self, i: int, line: str, text: str, after_blank: bool, before_blank: bool) -> int:
        alone = after_blank and before_blank
        if len(text) >= 3 and text.strip("=") == "":
            self.emit(Element("page_break"))
        elif text.startswith("!"):
            bang = line.index("!")
            self.gather("action", (line[:bang] + line[bang + 1 :]).rstrip())
        elif text.startswith("#"):
            depth = len(text) - len(text.lstrip("#"))
            self.emit(Element("section", text[depth:].strip(), depth=depth))
        elif text.startswith("="):
            self.emit(Element("synopsis", text[1:].strip()))
        elif text.startswith(">") and text.endswith("<") and text[1:-1].strip():
            self.gather("centered", text[1:-1].strip())
        elif text.startswith(">") and not text.endswith("<") and text[1:].strip():
            self.emit(Element("transition", text[1:].strip()))
        elif text.startswith("~"):
            self.gather("lyric", text[1:].strip())
        elif alone and text.startswith(".") and not text.startswith("..") and len(text) > 1:
            self.emit(_heading(text[1:].strip()))
        elif after_blank and text.startswith("[[") and (end := self.note(i)):
            return end
        elif after_blank and not before_blank and self.character(text):
            pass
        elif alone and _HEADING.match(text):
            self.emit(_heading(text))
        elif alone and text.endswith("TO:") and text == text.upper():
            self.emit(Element("transition", text))
        else:
            self.gather("action", line.rstrip())
        return i + 1

    def character(self, text: str) -> bool:
        forced = text.startswith("@")
        name, extension, dual = _split_character(text[1:].strip() if forced else text)
        if not name or not (forced or (name == name.upper() and any(c.isalpha() for c in name))):
            return False
        self.flush()
        side = "right" if dual and self.pair_dual() else None
        self.out.append(Element("character", name, dual=side, extension=extension))
        self.speech = True
        return True

    def pair_dual(self) -> bool:
        """Mark the speech just before as the left half of a dual dialogue."""
        for element in reversed(self.out):
            if element.kind == "character":
                if element.dual is None:
                    element.dual = "left"
                    return True
                return False
            if element.kind not in _SPEECH_KINDS and not element.in_speech:
                return False
        return False

    def note(self, i: int) -> int:
        """A paragraph that is one ``[[note]]``, maybe over several lines; 0 if not."""
        parts: list[str] = []
        for j in range(i, len(self.lines)):
            line = self.lines[j]
            if (not line.strip() and line != "  ") or line.startswith(_BONE):
                return 0
            text = line.strip()
            body = text[2:] if j == i else text
            close = body.find("]]")
            if "[[" in (body if close < 0 else body[:close]):
                return 0
            if close >= 0:
                if body[close + 2 :]:
                    return 0
                parts.append(body[:close])
                self.emit(Element("note", "\n".join(parts)))
                return j + 1
            parts.append(body)
        return 0


# ---------------------------------------------------------------- writing


def format(screenplay: Screenplay) -> str:  # noqa: A001 - the name the writing API promises
    """Write a screenplay as canonical Fountain; ``parse(format(p))`` gives ``p`` back."""
    chunks: list[str] = []
    if screenplay.title_page:
        chunks.append(_format_title_page(screenplay.title_page))
    for block in _blocks(screenplay.elements):
        chunks.append(_format_block(block, at_top=not chunks))
    return "\n\n".join(chunks) + "\n" if chunks else ""


def _format_title_page(page: dict[str, str]) -> str:
    lines: list[str] = []
    for key, value in page.items():
        rows = [row.strip() for row in str(value).split("\n") if row.strip()]
        if len(rows) == 1:
            lines.append(f"{key}: {rows[0]}")
        else:
            lines.append(f"{key}:")
            lines.extend(f"    {row}" for row in rows)
    return "\n".join(lines)


def _blocks(elements: list[Element]) -> list[list[Element]]:
    """Group each character with its speech; every other element stands alone."""
    blocks: list[list[Element]] = []
    for element in elements:
        in_speech = element.kind in _SPEECH_KINDS or (element.kind == "lyric" and element.in_speech)
        if in_speech and blocks and blocks[-1][0].kind == "character":
            blocks[-1].append(element)
        else:
            blocks.append([element])
    return blocks


def _keep_blank_lines(text: str) -> str:
    """Empty lines inside one paragraph are written as two spaces, per the spec."""
    return "\n".join(row or "  " for row in text.split("\n"))


def _spellings(block: list[Element]) -> tuple[str, str | None]:
    """The natural spelling of a block, and the forced one when it needs a marker."""
    first = block[0]
    kind, text = first.kind, first.text
    if kind == "scene_heading":
        number = f" #{first.scene_number}#" if first.scene_number else ""
        space = " " if text.startswith(".") else ""
        return text + number, f".{space}{text}{number}"
    if kind == "action":
        plain = _keep_blank_lines(text)
        return plain, "!" + plain
    if kind == "character":
        head = text + (f" {first.extension}" if first.extension else "")
        head += " ^" if first.dual == "right" or head.endswith("^") else ""
        body = [head, *_speech_lines(block)]
        return "\n".join(body), "@" + "\n".join(body)
    if kind == "transition":
        return text, ">" + text
    fixed = {
        "centered": lambda: "\n".join(f">{row}<" for row in text.split("\n")),
        "lyric": lambda: "\n".join(f"~{row}" for row in text.split("\n")),
        "page_break": lambda: "===",
        "section": lambda: "#" * max(first.depth, 1) + " " + text,
        "synopsis": lambda: "= " + text,
        "note": lambda: "[[" + _keep_blank_lines(text) + "]]",
        "boneyard": lambda: "/*" + text + "*/",
    }
    return fixed[kind]() if kind in fixed else text, None


def _speech_lines(block: list[Element]) -> list[str]:
    lines: list[str] = []
    for before, element in pairwise(block):
        if element.kind == "lyric":
            # Two sung passages in a row stay apart only with a kept blank line.
            lines.extend(["  "] if before.kind == "lyric" else [])
            lines.extend(f"~{row}" for row in element.text.split("\n"))
        else:
            lines.append(_keep_blank_lines(element.text))
    return lines


def _format_block(block: list[Element], at_top: bool) -> str:
    plain, forced = _spellings(block)
    if forced is None:
        return plain
    candidates = [plain, forced]
    if block[0].kind == "action":
        # A "!" inside a paragraph is eaten too, so odd lines may need their own.
        candidates.append("\n".join("!" + row if row.strip() else row for row in plain.split("\n")))
    # At the top of a script without a title page, "Note: ..." would be read as one.
    if at_top and _read_title_page(plain.split("\n"))[0]:
        candidates.pop(0)
    wanted = [replace(e, dual=None) for e in block]
    for candidate in candidates:
        if [replace(e, dual=None) for e in _Body(candidate.split("\n"), []).read()] == wanted:
            return candidate
    return candidates[-1]


# ---------------------------------------------------------------- plain text


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
    pieces: list[tuple[str, int]] = []
    for index, token in enumerate(tokens):
        if index in change:
            for bit in counts:
                if abs(change[index]) & bit:
                    counts[bit] += 1 if change[index] > 0 else -1
            continue
        piece = token if isinstance(token, str) else token[0] * token[1]
        pieces.append((piece, sum(bit for bit, count in counts.items() if count > 0)))
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
