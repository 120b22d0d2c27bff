"""Comparing two versions of a screenplay, scene by scene.

A plain line diff of a script where one scene moved shows the whole scene
deleted in one place and added in another. Here scenes are first matched
across the two versions by what they say (:func:`match_scenes`): the same
heading and body is the same scene; the same body under a new heading is a
*re-headed* scene; the same heading over an edited body, or a body that is
still mostly the same, is an *edited* scene; what is left is *added* or
*removed*. Of the scenes found in both, those outside the longest run kept in
order are the ones that *moved*, so moving one scene reports that one scene.
Then each matched pair is diffed line by line, so an edited line shows as
that line only.

The result is plain data (:class:`ScriptDiff`) that a page draws inline or
side by side; every text in it is the writer's raw text, and the page must
escape it (``html.escape``) before it goes into HTML.

>>> diff = wb.writing.compare(me, script.id, 3, 4)
>>> [c.description for c in diff.changes]
['Scene 2 (INT. WHEELHOUSE - NIGHT) moved after scene 4 (EXT. DOCK - DAY)']
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field

from workbench.errors import Conflict
from workbench.writing.scene_lines import SceneSpan, describe_scene_change, kept_in_order, plain, scene_spans

__all__ = ["DiffRow", "SceneLines", "ScriptChange", "ScriptDiff", "compare_texts", "match_scenes", "CONTEXT"]

CONTEXT = 1          # unchanged lines shown around a change
_SIMILAR = 0.6       # a body at least this alike (difflib ratio) is the same scene, edited
_KIND_ORDER = {"moved": 0, "reheaded": 1, "renumbered": 2, "edited": 3, "added": 4, "removed": 5}


@dataclass(frozen=True)
class DiffRow:
    """One row of a side-by-side diff: a line of the old version next to a line of the new one.

    ``kind`` is ``same``, ``changed`` (both sides, different text), ``removed``
    (old side only) or ``added`` (new side only). Line numbers are 1-based, as
    the editor shows them; a side with no line has ``None`` for both.
    """

    kind: str
    old_number: int | None
    old_text: str | None
    new_number: int | None
    new_text: str | None

    def inline(self) -> list[tuple[str, int | None, str]]:
        """The row as inline lines: (``same``/``removed``/``added``, line number, text)."""
        if self.kind == "same":
            return [("same", self.new_number, self.new_text or "")]
        out: list[tuple[str, int | None, str]] = []
        if self.old_text is not None:
            out.append(("removed", self.old_number, self.old_text))
        if self.new_text is not None:
            out.append(("added", self.new_number, self.new_text))
        return out


@dataclass(frozen=True)
class SceneLines:
    """The changed lines of one scene (or of the title page and opening), with a little context."""

    heading: str            # the scene's heading in the new version (the old one for a removed scene)
    label: str              # its scene number, or its position
    rows: list[DiffRow]

    @property
    def changed(self) -> int:
        """How many rows differ."""
        return sum(1 for r in self.rows if r.kind != "same")


@dataclass(frozen=True)
class ScriptChange:
    """One scene that differs between two versions.

    ``kind`` is ``moved``, ``added``, ``removed``, ``reheaded``, ``renumbered``
    or ``edited``; one scene can have several (moved and edited). Positions
    are 0-based places in each version.
    """

    kind: str
    heading: str
    label: str
    old_heading: str | None = None
    old_position: int | None = None
    new_position: int | None = None
    after: str | None = None        # the scene a moved scene now follows ("" for the top)
    lines_changed: int = 0

    @property
    def description(self) -> str:
        """The change in words: "Scene 12 (INT. DINER - NIGHT) moved after scene 14 (EXT. ROAD - DAY)"."""
        plural = "line" if self.lines_changed == 1 else "lines"
        return describe_scene_change(self.kind, self.label, self.heading, after=self.after,
                                     old_heading=self.old_heading, others={
                                         "edited": f"{{name}}: {self.lines_changed} {plural} changed",
                                         "added": "{name} was added", "removed": "{name} was removed",
                                         "renumbered": "{name} has a new scene number"})


@dataclass(frozen=True)
class ScriptDiff:
    """What changed between two versions of a script, by scene and by line."""

    document_id: str
    old_version: int
    new_version: int
    changes: list[ScriptChange] = field(default_factory=list)
    scenes: list[SceneLines] = field(default_factory=list)   # only parts with changed lines, new script order

    @property
    def same(self) -> bool:
        """True when the two versions read the same, line for line."""
        return not self.changes and not self.scenes

    def of_kind(self, kind: str) -> list[ScriptChange]:
        """The changes of one kind, in the new version's order."""
        return [c for c in self.changes if c.kind == kind]


def _body_text(span: SceneSpan) -> str:
    return "\n".join(plain(e.text) for e in span.elements)


def match_scenes(old: list[SceneSpan], new: list[SceneSpan]) -> dict[int, int]:
    """Which old scene each new scene is (new index -> old index); unmatched scenes are added or removed.

    Passes from most to least certain, each over the scenes still unmatched:
    the same heading and body; the same body (re-headed); the same heading,
    the most alike body first (edited); a body still mostly alike under a new
    heading (re-headed and edited).
    """
    pairs: dict[int, int] = {}
    taken: set[int] = set()

    def claim(test: Callable[[SceneSpan, SceneSpan], bool]) -> None:
        for sp in new:
            if sp.index in pairs:
                continue
            found = next((o for o in old if o.index not in taken and test(o, sp)), None)
            if found is not None:
                pairs[sp.index] = found.index
                taken.add(found.index)

    claim(lambda o, n: o.heading == n.heading and o.fingerprint == n.fingerprint)
    claim(lambda o, n: o.fingerprint == n.fingerprint and bool(n.elements))
    texts = {("o", o.index): _body_text(o) for o in old} | {("n", n.index): _body_text(n) for n in new}

    def ratio(o: SceneSpan, n: SceneSpan) -> float:
        return difflib.SequenceMatcher(None, texts[("o", o.index)], texts[("n", n.index)], autojunk=False).ratio()

    # Alike bodies claim first, so two scenes under one heading ("INT. KITCHEN - DAY") keep their own.
    candidates = sorted(
        ((ratio(o, n), n.index, o.index, o.heading == n.heading) for n in new if n.index not in pairs
         for o in old if o.index not in taken),
        key=lambda c: (not c[3], -c[0], c[1], c[2]))
    for score, n_index, o_index, same_heading in candidates:
        if n_index in pairs or o_index in taken or not (same_heading or score >= _SIMILAR):
            continue
        pairs[n_index] = o_index
        taken.add(o_index)
    return pairs


def _label(span: SceneSpan) -> str:
    return span.number or str(span.index + 1)


def _rows(old_lines: list[str], old_start: int, new_lines: list[str], new_start: int,
          context: int = CONTEXT) -> list[DiffRow]:
    """The changed rows between two runs of lines, with ``context`` unchanged lines around each change."""
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    rows: list[DiffRow] = []
    for group in matcher.get_grouped_opcodes(context):
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows.extend(DiffRow("same", old_start + i + 1, old_lines[i], new_start + j + 1, new_lines[j])
                            for i, j in zip(range(i1, i2), range(j1, j2), strict=True))
                continue
            for k in range(max(i2 - i1, j2 - j1)):
                i, j = i1 + k, j1 + k
                o = (old_start + i + 1, old_lines[i]) if i < i2 else (None, None)
                n = (new_start + j + 1, new_lines[j]) if j < j2 else (None, None)
                kind = "changed" if o[1] is not None and n[1] is not None else ("removed" if n[1] is None else "added")
                rows.append(DiffRow(kind, o[0], o[1], n[0], n[1]))
    return rows


def _spans(body: str) -> list[SceneSpan]:
    try:
        return scene_spans(body)
    except Conflict:  # headings the line scan cannot place (inside a boneyard): compare it as plain lines
        return []


def compare_texts(document_id: str, old_version: int, old_body: str, new_version: int, new_body: str,
                  *, context: int = CONTEXT) -> ScriptDiff:
    """The scene-aware diff of two script texts (see the module docstring)."""
    old_spans, new_spans = _spans(old_body), _spans(new_body)
    old_lines, new_lines = old_body.split("\n"), new_body.split("\n")
    pairs = match_scenes(old_spans, new_spans)
    by_old = {o: n for n, o in pairs.items()}
    changes: list[ScriptChange] = []
    scenes: list[SceneLines] = []

    head_old = old_lines[: old_spans[0].start] if old_spans else old_lines
    head_new = new_lines[: new_spans[0].start] if new_spans else new_lines
    if head_old != head_new:
        scenes.append(SceneLines("Title page and opening", "", _rows(head_old, 0, head_new, 0, context)))

    matched = [n for n in range(len(new_spans)) if n in pairs]
    keep = kept_in_order([pairs[n] for n in matched])
    moved = {n for k, n in enumerate(matched) if k not in keep}
    for n, span in enumerate(new_spans):
        o_index = pairs.get(n)
        if o_index is None:
            rows = [DiffRow("added", None, None, span.start + k + 1, line)
                    for k, line in enumerate(new_lines[span.start : span.content_end])]
            changes.append(ScriptChange("added", span.heading, _label(span), new_position=n,
                                        lines_changed=len(rows)))
            scenes.append(SceneLines(span.heading, _label(span), rows))
            continue
        old = old_spans[o_index]
        label = _label(old)
        if n in moved:
            before = new_spans[n - 1] if n else None
            after = "" if before is None else (
                _label(old_spans[pairs[before.index]]) if before.index in pairs else _label(before))
            after = f"{after} ({before.heading})" if before is not None else ""
            changes.append(ScriptChange("moved", span.heading, label, old.heading, o_index, n, after))
        if old.heading != span.heading:
            changes.append(ScriptChange("reheaded", span.heading, label, old.heading, o_index, n))
        elif old.number != span.number:
            changes.append(ScriptChange("renumbered", span.heading, label, old.heading, o_index, n))
        rows = _rows(old_lines[old.start : old.content_end], old.start,
                     new_lines[span.start : span.content_end], span.start, context)
        # The heading line itself is reported as re-headed/renumbered; "edited" is about the body.
        body_rows = [r for r in rows if r.kind != "same" and r.new_number != span.start + 1
                     and r.old_number != old.start + 1]
        if body_rows:
            changes.append(ScriptChange("edited", span.heading, label, old.heading, o_index, n,
                                        lines_changed=len(body_rows)))
        if any(r.kind != "same" for r in rows):
            scenes.append(SceneLines(span.heading, label, rows))
    for old in old_spans:
        if old.index in by_old:
            continue
        rows = [DiffRow("removed", old.start + k + 1, line, None, None)
                for k, line in enumerate(old_lines[old.start : old.content_end])]
        changes.append(ScriptChange("removed", old.heading, _label(old), old_position=old.index,
                                    lines_changed=len(rows)))
        scenes.append(SceneLines(old.heading, _label(old), rows))
    last = len(new_spans)
    changes.sort(key=lambda c: (c.new_position if c.new_position is not None else last + (c.old_position or 0),
                                _KIND_ORDER[c.kind]))
    return ScriptDiff(document_id, old_version, new_version, changes, scenes)
