"""A storyboard's script, read beside the board: its scenes as they read now, and where each card points.

The board page's "Script" panel shows the screenplay a storyboard was drawn
from next to the selected frame. :func:`read_board_script` turns the stored
link (:mod:`workbench.storyboard_model`) and the script's current version into
plain objects: the scenes with their lines, and for every heading card and
frame the scene and lines it shows *in that version*. When the script has
changed since the board was last synced, rows are recognised the way "Update
from script" recognises them, and frames find their paragraph again by its
words, so a click still lands on the right lines.

    >>> script = wb.storyboards.board_script(me, board_id, item_id)
    >>> script.selected.heading, script.selected.first_line, script.selected.last_line
    ('INT. MARGARET ANNE - WHEELHOUSE - CONTINUOUS', 32, 32)
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from workbench.storyboard_model import Storyboard, StoryboardScene
from workbench.storyboard_sync import frame_lines, scenes_in_script
from workbench.writing.documents import Document
from workbench.writing.scene_lines import SceneSpan, scene_spans

__all__ = ["ScriptScene", "ScriptPlace", "BoardScript", "read_board_script"]


@dataclass(frozen=True)
class ScriptScene:
    """One scene of the script as it reads now: its heading and its lines (heading to last line of text)."""

    index: int                   # 0-based place in the script
    label: str                   # its scene number, else its place (1-based)
    heading: str
    first_line: int              # 1-based, inclusive, as an editor shows them
    last_line: int
    lines: tuple[str, ...]       # the lines first_line..last_line, as written


@dataclass(frozen=True)
class ScriptPlace:
    """Where one card of the storyboard points in the script.

    ``kind`` is ``scene`` (a scene-heading card) or ``frame``. ``scene_index``
    is None when the card's scene is no longer in the script: ``cut`` when the
    board has marked it so, else the script lost it after the board's last
    update (Update from script will mark it cut).
    """

    item_id: str
    kind: str
    label: str
    heading: str
    shot: int | None
    scene_index: int | None
    first_line: int | None
    last_line: int | None
    cut: bool = False

    @property
    def in_script(self) -> bool:
        """Whether the card's scene is in the script as it reads now."""
        return self.scene_index is not None


@dataclass(frozen=True)
class BoardScript:
    """The script a storyboard was drawn from, at its current version, and where the board's cards point."""

    board_id: str
    document_id: str
    title: str
    version: int                 # the script's current version (what is shown)
    synced_version: int          # the version the board was drawn from or last updated to
    scenes: list[ScriptScene]
    places: dict[str, ScriptPlace] = field(default_factory=dict)
    selected: ScriptPlace | None = None

    @property
    def behind(self) -> bool:
        """Whether the script has a newer version than the board was last synced with."""
        return self.version != self.synced_version

    @property
    def version_label(self) -> str:
        """What the panel says it reads: "Night Ferry · version 3"."""
        return f"{self.title} · version {self.version}"

    def place(self, item_id: str) -> ScriptPlace | None:
        """Where a card points in the script (None for a card that is not part of the storyboard)."""
        return self.places.get(item_id)

    def choose(self, item_ids: list[str]) -> ScriptPlace | None:
        """The place to show for a selection: its first frame, else its first scene heading."""
        found = [p for p in (self.place(i) for i in item_ids) if p is not None]
        return next((p for p in found if p.kind == "frame"), found[0] if found else None)


def _scene(span: SceneSpan, lines: list[str]) -> ScriptScene:
    return ScriptScene(span.index, span.number or str(span.index + 1), span.heading, span.first_line,
                       span.last_line, tuple(lines[span.first_line - 1 : span.last_line]))


def _places(scene: StoryboardScene, span: SceneSpan | None) -> list[ScriptPlace]:
    cut = scene.status != "live"
    index = span.index if span is not None and not cut else None
    label = (span.number or str(span.index + 1)) if index is not None and span is not None else scene.label
    heading = span.heading if index is not None and span is not None else scene.heading
    found = []
    if scene.heading_item:
        first, last = (span.first_line, span.last_line) if index is not None and span is not None else (None, None)
        found.append(ScriptPlace(scene.heading_item, "scene", label, heading, None, index, first, last, cut))
    for frame in scene.frames:
        lines: tuple[int | None, int | None] = (None, None)
        if index is not None and span is not None:
            lines = frame_lines(frame, span)
        found.append(ScriptPlace(frame.item_id, "frame", label, heading, frame.shot, index, *lines,
                                 cut=cut or frame.status != "live"))
    return found


def read_board_script(board: Storyboard, doc: Document, item_id: str | None = None) -> BoardScript:
    """The script ``doc`` (the board's, at its current version) split into scenes, and the cards' places.

    No access check: :meth:`workbench.storyboards.Storyboards.board_script` decides who may read it.
    """
    spans = scene_spans(doc.body)
    lines = doc.body.split("\n")
    index_of = scenes_in_script(board, spans)
    places: dict[str, ScriptPlace] = {}
    for scene in board.scenes:
        at = index_of.get(scene.scene_id)
        for place in _places(scene, spans[at] if at is not None else None):
            places[place.item_id] = place
    script = BoardScript(board.board_id, doc.id, doc.title, doc.version, board.version,
                         [_scene(s, lines) for s in spans], places)
    return script if item_id is None else replace(script, selected=script.place(item_id))
