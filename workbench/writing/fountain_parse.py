"""Reading Fountain: text in, :class:`~workbench.writing.fountain_model.Screenplay` out.

``parse`` reads the title page, lifts out boneyards, then classifies the body
line by line (:class:`_Body`), following https://fountain.io/syntax. It never
raises: text that fits no rule is action. Import it from
:mod:`workbench.writing.fountain`.
"""

from __future__ import annotations

import re

from workbench.writing.fountain_model import _SPEECH_KINDS, Element, Screenplay

__all__ = ["parse"]

_HEADING = re.compile(r"(?:INT\.?/EXT|I/E|INT|EXT|EST)[.\s]", re.IGNORECASE)
_TITLE_KEY = re.compile(r"([A-Za-z][\w ()'\-]{0,60}):(.*)")
_SCENE_NUMBER = re.compile(r"[\w.\-]+")
# A block boneyard is lifted out before line parsing and stands in as this
# one-line token; NUL is removed from input first so nothing can forge one.
_BONE = "\x00"


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
