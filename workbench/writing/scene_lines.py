"""Where each scene of a Fountain script sits, line by line, and moving scenes without touching a word.

The parser (:mod:`workbench.writing.fountain`) reads a script into elements;
a storyboard also needs to know *which lines* hold each scene and each of its
action paragraphs (a frame links to them), and to move whole scenes while
every other line of the script stays exactly as written.

    >>> spans = scene_spans(body)
    >>> spans[1].heading, spans[1].first_line, spans[1].last_line   # 1-based, inclusive
    ('INT. WHEELHOUSE - NIGHT', 12, 30)
    >>> new_body = reorder_scenes(body, spans, [1, 0, 2])           # scene 2 first
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from workbench.errors import Conflict
from workbench.writing import fountain
from workbench.writing.fountain_model import Element

__all__ = ["Beat", "SceneSpan", "scene_spans", "reorder_scenes", "insert_lines", "plain", "kept_in_order",
           "describe_scene_change"]


@dataclass(frozen=True)
class Beat:
    """One action paragraph of a scene: what a frame shows, and its lines (0-based, end exclusive)."""

    text: str      # as written (markup and notes kept), used to find the paragraph again
    start: int
    end: int

    @property
    def plain(self) -> str:
        """The paragraph as a reader sees it."""
        return plain(self.text)


@dataclass(frozen=True)
class SceneSpan:
    """A scene of the script and the lines it occupies (0-based ``start``, exclusive ``end``)."""

    index: int                 # 0-based position in the script
    heading: str
    number: str | None
    start: int
    end: int                   # the next scene's heading line, or the end of the script
    content_end: int           # where its text ends (blank lines before the next heading excluded)
    elements: list[Element] = field(default_factory=list)
    beats: list[Beat] = field(default_factory=list)

    @property
    def first_line(self) -> int:
        """The heading's line number as an editor shows it (1-based)."""
        return self.start + 1

    @property
    def last_line(self) -> int:
        """The scene's last line that holds text (1-based, inclusive)."""
        return self.content_end

    @property
    def fingerprint(self) -> str:
        """A digest of the scene's body (everything under the heading): the same words, the same digest."""
        body = [[e.kind, e.text, e.dual or "", e.extension or ""] for e in self.elements]
        return hashlib.sha256(json.dumps(body).encode("utf-8", "surrogatepass")).hexdigest()[:24]


def plain(text: str) -> str:
    """Element text as printed: notes removed, emphasis markers gone, one line."""
    rows = fountain.strip_notes(text).split("\n")
    words = " ".join("".join(s.text for s in fountain.emphasis_spans(row)) for row in rows)
    return " ".join(words.split())


def _is_heading_line(line: str) -> Element | None:
    parsed = fountain.parse(line).elements if line.strip() else []
    return parsed[0] if len(parsed) == 1 and parsed[0].kind == "scene_heading" else None


def _body_start(lines: list[str], has_title_page: bool) -> int:
    """The first line below the title page (the parser's rule: the title page ends at a blank line)."""
    if not has_title_page:
        return 0
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    while i < len(lines) and lines[i].strip():
        i += 1
    return i


def scene_spans(body: str) -> list[SceneSpan]:
    """The scenes of a script with their line ranges and action paragraphs, in script order.

    Each scene heading the parser finds is matched to its own line (a heading
    stands alone between blank lines); a scene runs to the next heading.
    """
    play = fountain.parse(body)
    scenes = play.scenes()
    lines = body.split("\n")
    starts: list[int] = []
    i = _body_start(lines, bool(play.title_page))
    for scene in scenes:
        while i < len(lines):
            alone = (i == 0 or not lines[i - 1].strip()) and (i + 1 >= len(lines) or not lines[i + 1].strip())
            found = _is_heading_line(lines[i]) if alone else None
            i += 1
            if found is not None and found.text == scene.heading.text \
                    and found.scene_number == scene.heading.scene_number:
                starts.append(i - 1)
                break
    if len(starts) != len(scenes):  # a heading the line scan could not place (inside a boneyard...)
        raise Conflict("This script's scene headings could not be matched to its lines; "
                       "check for headings inside /* boneyards */ and try again.")
    spans = []
    for n, (scene, start) in enumerate(zip(scenes, starts, strict=True)):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        content_end = end
        while content_end > start + 1 and not lines[content_end - 1].strip():
            content_end -= 1
        spans.append(SceneSpan(n, scene.heading.text, scene.heading.scene_number, start, end, content_end,
                               scene.elements, _beats(lines, start + 1, content_end)))
    return spans


def _beats(lines: list[str], start: int, end: int) -> list[Beat]:
    """The action paragraphs between two lines, each with its line range."""
    beats: list[Beat] = []
    i = start
    while i < end:
        if not lines[i].strip():
            i += 1
            continue
        j = i
        while j < end and lines[j].strip():
            j += 1
        paragraph = "\n".join(lines[i:j])
        # Read on its own under a dummy heading, so no title-page rule applies to it.
        elements = fountain.parse(".X\n\n" + paragraph).elements[1:]
        if elements and all(e.kind == "action" for e in elements) and plain(paragraph):
            beats.append(Beat(paragraph, i, j))
        i = j
    return beats


def reorder_scenes(body: str, spans: list[SceneSpan], order: list[int]) -> str:
    """The script with its scenes in ``order`` (a permutation of span indexes), every line kept.

    Each scene moves with all its lines; the blank lines between scenes stay
    where they were, so a scene moved off the end still gets a blank line
    before the next heading. Whatever precedes the first scene (title page,
    FADE IN:) stays on top. Raises :class:`Conflict` if the result would not
    read back as the same scenes in the new order.
    """
    if sorted(order) != list(range(len(spans))):
        raise ValueError("order must be a permutation of the scene indexes")
    lines = body.split("\n")
    head = lines[: spans[0].start] if spans else lines
    chunks = [lines[s.start : s.content_end] for s in spans]
    gaps = [lines[s.content_end : s.end] for s in spans]
    out = list(head)
    for slot, index in enumerate(order):
        gap = gaps[slot]
        if not gap and slot + 1 < len(order):
            gap = [""]  # the old last scene had no blank line after it; a heading needs one
        out.extend(chunks[index] + gap)
    text = "\n".join(out)
    _check_reordered(body, text, order)
    return text


def _check_reordered(before: str, after: str, order: list[int]) -> None:
    old = fountain.parse(before).scenes()
    new = fountain.parse(after).scenes()
    wanted = [old[i] for i in order]
    if [(s.heading, s.elements) for s in new] != [(s.heading, s.elements) for s in wanted]:
        raise Conflict("Moving these scenes would change how the script reads; nothing was saved. "
                       "Check the blank lines around the scene headings.")


def insert_lines(body: str, after: int, new_lines: list[str]) -> str:
    """``body`` with ``new_lines`` inserted after 0-based line ``after`` (-1: at the top)."""
    lines = body.split("\n")
    return "\n".join(lines[: after + 1] + new_lines + lines[after + 1 :])


def kept_in_order(values: list[int]) -> set[int]:
    """Indexes (into ``values``) of one longest increasing run: the scenes that kept their order.

    Everything outside it moved (a script diff says "scene 12 moved after scene 14"; a board
    update re-orders only those rows).
    """
    best: list[int] = [1] * len(values)
    back: list[int] = [-1] * len(values)
    for i, v in enumerate(values):
        for j in range(i):
            if values[j] < v and best[j] + 1 > best[i]:
                best[i], back[i] = best[j] + 1, j
    keep: set[int] = set()
    i = max(range(len(values)), key=best.__getitem__, default=-1)
    while i >= 0:
        keep.add(i)
        i = back[i]
    return keep


def describe_scene_change(kind: str, label: str, heading: str, *, after: str | None, old_heading: str | None,
                          others: dict[str, str]) -> str:
    """One scene's change in words, as the script diff and "Update from script" both say it.

    ``moved`` and ``reheaded`` read the same everywhere; ``others`` words the remaining kinds, each
    with ``{name}`` standing for "Scene 12 (INT. DINER - NIGHT)".
    """
    name = f"Scene {label} ({heading})"
    if kind == "moved":
        return f"{name} moved " + (f"after scene {after}" if after else "to the top")
    if kind == "reheaded":
        return f"Scene {label} re-headed: {old_heading} -> {heading}"
    return others[kind].format(name=name)
