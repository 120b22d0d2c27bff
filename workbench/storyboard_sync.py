"""Keeping a storyboard and its script in step, explicitly, in both directions.

Scenes are recognised across versions by what they say: the same heading and
body is the same scene; the same body under a new heading is a re-headed
scene; the same heading over an edited body is an edited scene; anything left
is new (in the script) or removed (from it). Of the scenes found in both, the
ones outside the longest run kept in order are the ones that *moved*, so
moving one scene reports that scene, not everything it jumped over.

The functions here work on a loaded :class:`~workbench.storyboard_model.Storyboard`
and return the updated copy; :mod:`workbench.storyboards` checks who may call
them and stores the result.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace

from workbench.accounts import User
from workbench.boards import Boards, ItemMove
from workbench.errors import Conflict
from workbench.library.catalog import Library
from workbench.search import Search
from workbench.storyboard_frames import (
    FramePicker,
    caption_note,
    frame_x,
    heading_text,
    mark_cut,
    place_row,
    plan_frames,
    row_y,
)
from workbench.storyboard_model import CUT_MARK, Frame, Storyboard, StoryboardScene
from workbench.writing.documents import Document
from workbench.writing.scene_lines import (
    SceneSpan,
    describe_scene_change,
    kept_in_order,
    reorder_scenes,
    scene_spans,
)
from workbench.writing.studio import Writing

__all__ = ["SceneChange", "ScriptChanges", "BoardOrder", "CaptionNotes", "script_changes", "update_board",
           "order_from_board", "apply_order", "write_caption_notes", "scenes_in_script", "frame_lines"]


@dataclass(frozen=True)
class SceneChange:
    """One scene that differs between the board and the script.

    ``kind`` is ``new``, ``removed``, ``moved``, ``reheaded``, ``renumbered`` or ``edited``;
    positions are 0-based places in the script (old: as last synced).
    """

    kind: str
    heading: str
    label: str
    old_heading: str | None = None
    old_position: int | None = None
    new_position: int | None = None
    after: str | None = None     # the scene a moved scene now follows ("" for the top)

    @property
    def description(self) -> str:
        """The change in words: "Scene 5 (EXT. ISLAND DOCK) moved after scene 2"."""
        return describe_scene_change(self.kind, self.label, self.heading, after=self.after,
                                     old_heading=self.old_heading, others={
                                         "new": "{name} is new",
                                         "removed": "{name} was removed (its frames are kept, marked cut)",
                                         "renumbered": "{name} has a new scene number",
                                         "edited": "{name} was edited"})


@dataclass(frozen=True)
class ScriptChanges:
    """What changed in a script since its storyboard was last synced."""

    document_id: str
    from_version: int
    to_version: int
    changes: list[SceneChange] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[SceneChange]:
        """The changes of one kind, in script order."""
        return [c for c in self.changes if c.kind == kind]

    @property
    def structural(self) -> list[SceneChange]:
        """Changes the board must take before it can write to the script (all but plain edits)."""
        return [c for c in self.changes if c.kind not in ("edited", "renumbered")]


@dataclass(frozen=True)
class BoardOrder:
    """The script diff of putting the scenes in the order of the board's rows."""

    document_id: str
    version: int                 # the script version it applies to, or the one it wrote
    changed: bool
    moved: list[SceneChange]
    diff: str                    # a unified diff of the script's lines
    order: list[str]             # the scene headings in the new order


@dataclass(frozen=True)
class CaptionNotes:
    """Captions written back into the script as notes."""

    document_id: str
    version: int
    written: int
    diff: str


@dataclass
class _Match:
    pairs: dict[int, StoryboardScene]          # span index -> the stored scene it is
    removed: list[StoryboardScene]
    window: range                              # the script scenes the board covers


def _match(board: Storyboard, spans: list[SceneSpan]) -> _Match:
    free = list(board.live_scenes)
    pairs: dict[int, StoryboardScene] = {}
    passes = (
        lambda s, sp: s.heading == sp.heading and s.fingerprint == sp.fingerprint,
        lambda s, sp: s.fingerprint == sp.fingerprint and bool(sp.elements),   # re-headed
        lambda s, sp: s.heading == sp.heading,                                 # edited
    )
    for same in passes:
        for span in spans:
            if span.index in pairs:
                continue
            found = next((s for s in free if same(s, span)), None)
            if found is not None:
                pairs[span.index] = found
                free.remove(found)
    if board.whole_script:
        window = range(len(spans))
    else:
        window = range(min(pairs), max(pairs) + 1) if pairs else range(0)
    return _Match(pairs, free, window)


def scenes_in_script(board: Storyboard, spans: list[SceneSpan]) -> dict[str, int]:
    """Which scene of the script as it reads now each live row is (scene id -> 0-based scene index).

    The same recognition "Update from script" uses: rows whose scene left the script are absent.
    """
    return {scene.scene_id: index for index, scene in _match(board, spans).pairs.items()}


def frame_lines(frame: Frame, span: SceneSpan) -> tuple[int, int]:
    """A frame's lines (1-based, inclusive) in ``span`` as it reads now: its paragraph, else the whole scene."""
    found = _relink(frame, span)
    return found.first_line, found.last_line


def _moved(m: _Match, spans: list[SceneSpan], order: list[int]) -> list[SceneChange]:
    """The scenes of ``order`` (span indexes, new order) that left the run kept in order."""
    old = [m.pairs[i].position for i in order]
    keep = kept_in_order(old)
    moved = []
    for n, i in enumerate(order):
        if n in keep:
            continue
        span = spans[i]
        before = spans[order[n - 1]] if n else None
        moved.append(SceneChange("moved", span.heading, _label(span), old_position=m.pairs[i].position,
                                 new_position=n, after=_label(before) if before else ""))
    return moved


def _label(span: SceneSpan) -> str:
    return span.number or str(span.index + 1)


def _changes(board: Storyboard, doc: Document, spans: list[SceneSpan], m: _Match) -> ScriptChanges:
    found: list[SceneChange] = []
    found.extend(_moved(m, spans, [i for i in m.window if i in m.pairs]))
    for i in m.window:
        span, old = spans[i], m.pairs.get(i)
        if old is None:
            found.append(SceneChange("new", span.heading, _label(span), new_position=i))
        elif old.heading != span.heading:
            found.append(SceneChange("reheaded", span.heading, _label(span), old.heading, old.position, i))
        elif old.fingerprint != span.fingerprint:
            found.append(SceneChange("edited", span.heading, _label(span), None, old.position, i))
        elif old.number != span.number:
            found.append(SceneChange("renumbered", span.heading, _label(span), None, old.position, i))
    found.extend(SceneChange("removed", s.heading, s.label, old_position=s.position) for s in m.removed)
    return ScriptChanges(doc.id, board.version, doc.version, found)


def script_changes(board: Storyboard, doc: Document) -> ScriptChanges:
    """What "Update from script" would apply."""
    spans = scene_spans(doc.body)
    return _changes(board, doc, spans, _match(board, spans))


def _relink(frame: Frame, span: SceneSpan) -> Frame:
    """A frame's lines in the script as it now is: its paragraph found again, else the whole scene."""
    beat = next((b for b in span.beats if b.text == frame.beat), None)
    first, last = (beat.start + 1, beat.end) if beat else (span.first_line, span.last_line)
    return replace(frame, first_line=first, last_line=last)


def _synced(scene: StoryboardScene, span: SceneSpan, position: int | None = None) -> StoryboardScene:
    return replace(scene, position=span.index if position is None else position, heading=span.heading,
                   number=span.number, fingerprint=span.fingerprint, first_line=span.first_line,
                   last_line=span.last_line, frames=[_relink(f, span) for f in scene.frames])


def _present(boards: Boards, user: User, board_id: str) -> dict[str, tuple[float, float, str]]:
    """The board's items as they are now: id -> (y, x, caption)."""
    return {i.id: (i.y, i.x, i.caption) for i in boards.get(user, board_id).items}


def _tidy(boards: Boards, user: User, board_id: str, scenes: list[StoryboardScene], present: set[str]) -> None:
    """Lay the rows out in script order, cut rows below a gap; one history step."""
    live = sorted((s for s in scenes if s.status == "live"), key=lambda s: s.position)
    cut = [s for s in scenes if s.status != "live"]
    moves = []
    for row, scene in enumerate([*live, *cut]):
        y = row_y(row if scene.status == "live" else row + 1)
        if scene.heading_item in present:
            assert scene.heading_item is not None
            moves.append(ItemMove(scene.heading_item, 0.0, y))
        moves.extend(ItemMove(f.item_id, frame_x(f.shot), y) for f in scene.frames if f.item_id in present)
    if moves:
        boards.move_items(user, board_id, moves)


def update_board(boards: Boards, library: Library, search: Search, user: User, board: Storyboard, doc: Document,
                 *, min_score: float, frames_per_scene: int) -> tuple[ScriptChanges, Storyboard]:
    """Apply the script's changes to the board ("Update from script"); returns them and the new link."""
    spans = scene_spans(doc.body)
    m = _match(board, spans)
    changes = _changes(board, doc, spans, m)
    present = set(_present(boards, user, board.board_id))
    picker = FramePicker(user, search, min_score)
    picker.on_board = {f.image_id for f in board.frames if f.image_id}
    scenes: list[StoryboardScene] = []
    for row, i in enumerate(m.window):
        span, old = spans[i], m.pairs.get(i)
        if old is None:
            plans = picker.pick(plan_frames(span, frames_per_scene))
            placed = place_row(boards, library, user, board.board_id, span, row, plans)
            present |= {placed.heading_item or "", *(f.item_id for f in placed.frames)}
            scenes.append(placed)
            continue
        if (old.heading, old.number) != (span.heading, span.number) and old.heading_item in present:
            assert old.heading_item is not None
            boards.update_item(user, board.board_id, old.heading_item, text=heading_text(_label(span), span.heading))
        scenes.append(_synced(old, span))
    for gone in m.removed:
        mark_cut(boards, user, board.board_id, gone, present)
        scenes.append(replace(gone, status="cut", frames=[
            replace(f, status="cut", caption=(CUT_MARK + f.caption)[:2000]) for f in gone.frames]))
    scenes.extend(s for s in board.scenes if s.status != "live")
    _tidy(boards, user, board.board_id, scenes, present)
    return changes, board.with_scenes(scenes, version=doc.version)


def _in_step(board: Storyboard, doc: Document, spans: list[SceneSpan], action: str) -> _Match:
    m = _match(board, spans)
    pending = _changes(board, doc, spans, m).structural
    if pending:
        listed = "; ".join(c.description for c in pending[:3]) + ("…" if len(pending) > 3 else "")
        raise Conflict(f"The script has changed since this board was updated ({listed}). "
                       f"Use 'Update from script' first, then {action}.")
    return m


def _diff(before: str, after: str, old: str, new: str) -> str:
    return "".join(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                        fromfile=old, tofile=new, n=1))


def _board_rows(boards: Boards, user: User, board: Storyboard) -> list[StoryboardScene]:
    """The live scene rows in the order they stand on the board, top to bottom."""
    where = _present(boards, user, board.board_id)

    def top(scene: StoryboardScene) -> float:
        if scene.heading_item in where:
            return where[scene.heading_item or ""][0]
        ys = [where[f.item_id][0] for f in scene.frames if f.item_id in where]
        return min(ys) if ys else row_y(scene.position)

    return sorted(board.live_scenes, key=lambda s: (top(s), s.position))


def _planned_order(boards: Boards, user: User, board: Storyboard, doc: Document
                   ) -> tuple[BoardOrder, list[SceneSpan], dict[str, int], str]:
    spans = scene_spans(doc.body)
    m = _in_step(board, doc, spans, "apply the board order")
    span_of = {s.scene_id: i for i, s in m.pairs.items()}
    wanted = [span_of[s.scene_id] for s in _board_rows(boards, user, board)]
    slots = sorted(wanted)
    permutation = list(range(len(spans)))
    for slot, index in zip(slots, wanted, strict=True):
        permutation[slot] = index
    new_slot = {board_scene.scene_id: slot for slot, board_scene in
                zip(slots, (m.pairs[i] for i in wanted), strict=True)}
    if wanted == slots:
        return BoardOrder(doc.id, doc.version, False, [], "", [spans[i].heading for i in wanted]), spans, \
            new_slot, doc.body
    body = reorder_scenes(doc.body, spans, permutation)
    moved = _moved(m, spans, wanted)
    order = BoardOrder(doc.id, doc.version, True, moved, _diff(doc.body, body, f"version {doc.version}",
                                                               "board order"), [spans[i].heading for i in wanted])
    return order, spans, new_slot, body


def order_from_board(boards: Boards, user: User, board: Storyboard, doc: Document) -> tuple[BoardOrder, str]:
    """The change "Apply board order to script" would make, and the script text it would save."""
    order, _, _, body = _planned_order(boards, user, board, doc)
    return order, body


def apply_order(boards: Boards, writing: Writing, user: User, board: Storyboard, doc: Document
                ) -> tuple[BoardOrder, Storyboard]:
    """Save the script with the scenes in board order; returns the change and the new link."""
    order, _, new_slot, body = _planned_order(boards, user, board, doc)
    if not order.changed:
        return order, board
    saved = writing.save(user, doc.id, body, note="scene order from the storyboard", expected_version=doc.version)
    spans = scene_spans(saved.body)
    scenes = [_synced(s, spans[new_slot[s.scene_id]]) if s.status == "live" else s for s in board.scenes]
    _tidy(boards, user, board.board_id, scenes, set(_present(boards, user, board.board_id)))
    return replace(order, version=saved.version), board.with_scenes(scenes, version=saved.version)


def _find(lines: list[str], wanted: list[str], start: int, end: int) -> int:
    for i in range(start, max(start, end - len(wanted) + 1)):
        if lines[i : i + len(wanted)] == wanted:
            return i
    return -1


def write_caption_notes(boards: Boards, writing: Writing, user: User, board: Storyboard, doc: Document
                        ) -> tuple[CaptionNotes, Storyboard]:
    """Write edited captions into the script as ``[[notes]]`` under their frames' paragraphs."""
    spans = scene_spans(doc.body)
    m = _in_step(board, doc, spans, "write captions to the script")
    captions = {k: v[2] for k, v in _present(boards, user, board.board_id).items()}
    lines = doc.body.split("\n")
    edits: list[tuple[int, int, list[str]]] = []        # (from line, to line, replacement), 0-based
    written: dict[str, tuple[str, str]] = {}            # item id -> (caption, note)
    for i, scene in m.pairs.items():
        span = spans[i]
        for frame in scene.frames:
            caption = captions.get(frame.item_id)
            note = caption_note(caption) if caption is not None and caption != frame.caption else ""
            if not note or note == frame.note:
                continue
            new = ("[[" + note + "]]").split("\n")
            old_at = _find(lines, ("[[" + frame.note + "]]").split("\n"), span.start, span.end) if frame.note else -1
            if old_at >= 0:
                edits.append((old_at, old_at + len(("[[" + frame.note + "]]").split("\n")), new))
            else:
                at = _relink(frame, span).last_line  # the line after the paragraph (0-based)
                edits.append((at, at, ["", *new]))
            written[frame.item_id] = (str(caption), note)
    if not written:
        return CaptionNotes(doc.id, doc.version, 0, ""), board
    for start, stop, new in sorted(edits, key=lambda e: e[0], reverse=True):
        lines[start:stop] = new
    body = "\n".join(lines)
    saved = writing.save(user, doc.id, body, note="captions from the storyboard", expected_version=doc.version)
    spans = scene_spans(saved.body)
    index_of = {s.scene_id: i for i, s in m.pairs.items()}
    scenes = []
    for scene in board.scenes:
        frames = [replace(f, caption=written[f.item_id][0], note=written[f.item_id][1]) if f.item_id in written
                  else f for f in scene.frames]
        scene = replace(scene, frames=frames)
        scenes.append(_synced(scene, spans[index_of[scene.scene_id]]) if scene.scene_id in index_of else scene)
    notes = CaptionNotes(doc.id, saved.version, len(written), _diff(doc.body, saved.body, f"version {doc.version}",
                                                                    f"version {saved.version}"))
    return notes, board.with_scenes(scenes, version=saved.version)
