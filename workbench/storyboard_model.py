"""The stored link between a screenplay and its storyboard, and the plain objects it is read into.

A storyboard is an ordinary board (``wb.boards``) plus the rows of the
storyboards domain's own tables (store/migrations.py, version 7): which script
it was drawn from and at which version, one row per scene (its place in the
script, its heading and line range, its heading card, ``live`` or ``cut``) and
one per frame (the card, the lines it shows, the still and its match score).
Line numbers are 1-based and inclusive, as an editor shows them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from store import MetadataStore, Tx

__all__ = [
    "Frame", "StoryboardScene", "Storyboard", "StoryboardEstimate", "StoryboardResult",
    "load_storyboard", "save_storyboard", "boards_for_document",
    "HEAD_W", "FRAME_W", "FRAME_H", "GAP", "ROW_H", "CUT_COLOR",
]

HEAD_W, FRAME_W, FRAME_H, GAP = 260.0, 320.0, 180.0, 40.0
ROW_H = FRAME_H + 120.0          # room for the caption under each still
CUT_COLOR = "#9e9e9e"            # cut rows are greyed out, never deleted
CUT_MARK = "[CUT] "


@dataclass(frozen=True)
class Frame:
    """One frame of a storyboard row: a card on the board showing lines of its scene.

    ``source`` is ``library`` (a still found in the person's library),
    ``generated`` (made by the image backend) or ``placeholder`` (a note card:
    nothing matched well enough and nothing was generated). ``score`` is the
    search match (1 = identical) of a library still.
    """

    item_id: str
    scene_id: str
    shot: int                    # 1, 2, 3... within the scene
    first_line: int
    last_line: int
    beat: str                    # the action paragraph as written, to find it again after edits
    caption: str                 # the caption as the storyboard last wrote or synced it
    image_id: str | None
    score: float | None
    source: str
    status: str = "live"         # live | cut
    note: str = ""               # the Fountain note last written back from this frame's caption


@dataclass(frozen=True)
class StoryboardScene:
    """A scene row of a storyboard: where the scene sits in the script and on the board."""

    scene_id: str
    position: int                # 0-based place in the script when last synced
    heading: str
    number: str | None
    fingerprint: str
    first_line: int
    last_line: int
    heading_item: str | None
    status: str = "live"
    frames: list[Frame] = field(default_factory=list)

    @property
    def label(self) -> str:
        """What the board calls the scene: its scene number, else its place in the script."""
        return self.number or str(self.position + 1)


@dataclass(frozen=True)
class Storyboard:
    """A board drawn from a screenplay, and how it is linked to it."""

    board_id: str
    owner: str
    document_id: str
    version: int                 # the script version the board was last synced with
    whole_script: bool
    scenes: list[StoryboardScene]
    created_at: datetime
    updated_at: datetime

    @property
    def live_scenes(self) -> list[StoryboardScene]:
        """The scenes still in the script, in script order."""
        return sorted((s for s in self.scenes if s.status == "live"), key=lambda s: s.position)

    @property
    def frames(self) -> list[Frame]:
        """Every frame, live rows first in script order, then cut ones."""
        cut = [s for s in self.scenes if s.status != "live"]
        return [f for s in [*self.live_scenes, *cut] for f in s.frames]

    def frame(self, item_id: str) -> Frame | None:
        """The frame shown by a board item, if the item is one."""
        return next((f for f in self.frames if f.item_id == item_id), None)

    def with_scenes(self, scenes: list[StoryboardScene], version: int | None = None) -> Storyboard:
        """A copy with new scene rows (and script version)."""
        return replace(self, scenes=scenes, version=self.version if version is None else version)


@dataclass(frozen=True)
class StoryboardEstimate:
    """What storyboarding a script will do and cost, before it runs."""

    scenes: int
    frames: int
    matched: int                 # frames a library still matches well enough
    to_generate: int             # frames the image backend would make if asked (0 unless generate=True)
    credits: int
    balance: int

    @property
    def affordable(self) -> bool:
        """Whether the balance covers the generated frames."""
        return self.balance >= self.credits


@dataclass(frozen=True)
class StoryboardResult:
    """A new storyboard and how its making went."""

    storyboard: Storyboard
    frames: int
    matched: int
    generated: int
    placeholders: int
    credits_spent: int
    credits_refunded: int
    stopped_early: bool = False  # generation was asked for and some frames were not made (refunded)


def load_storyboard(db: MetadataStore, board_id: str) -> Storyboard | None:
    """A storyboard's stored link (no access check: the domain checks its owner)."""
    head = db.query_one("SELECT * FROM storyboards WHERE board_id = ?", [board_id])
    if head is None:
        return None
    frames: dict[str, list[Frame]] = {}
    for r in db.query("SELECT * FROM storyboard_frames WHERE board_id = ? ORDER BY shot, item_id", [board_id]):
        frames.setdefault(r["scene_id"], []).append(Frame(
            r["item_id"], r["scene_id"], int(r["shot"]), int(r["first_line"]), int(r["last_line"]), r["beat"],
            r["caption"], r["image_id"], r["score"], r["source"], r["status"], r["note"]))
    scenes = [StoryboardScene(
        r["scene_id"], int(r["position"]), r["heading"], r["number"], r["fingerprint"], int(r["first_line"]),
        int(r["last_line"]), r["heading_item"], r["status"], frames.get(r["scene_id"], []))
        for r in db.query("SELECT * FROM storyboard_scenes WHERE board_id = ? ORDER BY position, scene_id",
                          [board_id])]
    return Storyboard(head["board_id"], head["owner"], head["document_id"], int(head["version"]),
                      bool(head["whole_script"]), scenes, head["created_at"], head["updated_at"])


def boards_for_document(db: MetadataStore, owner: str, document_id: str) -> list[str]:
    """Ids of the owner's storyboards drawn from a script, newest first."""
    rows = db.query("SELECT board_id FROM storyboards WHERE owner = ? AND document_id = ?"
                    " ORDER BY created_at DESC, board_id", [owner, document_id])
    return [r["board_id"] for r in rows]


def save_storyboard(db: MetadataStore, board: Storyboard) -> None:
    """Store a storyboard's link as it now is (every row of it replaced in one transaction)."""

    def work(cur: Tx) -> None:
        for table in ("storyboard_frames", "storyboard_scenes", "storyboards"):
            cur.execute(f"DELETE FROM {table} WHERE board_id = ?", [board.board_id])
        cur.execute("INSERT INTO storyboards VALUES (?, ?, ?, ?, ?, ?, now())",
                    [board.board_id, board.owner, board.document_id, board.version, board.whole_script,
                     board.created_at])
        scene_rows: list[list[Any]] = []
        frame_rows: list[list[Any]] = []
        for s in board.scenes:
            scene_rows.append([board.board_id, s.scene_id, s.position, s.heading, s.number, s.fingerprint,
                               s.first_line, s.last_line, s.heading_item, s.status])
            frame_rows.extend([board.board_id, f.item_id, f.scene_id, f.shot, f.first_line, f.last_line, f.beat,
                               f.caption, f.note, f.image_id, f.score, f.source, f.status] for f in s.frames)
        if scene_rows:
            cur.executemany("INSERT INTO storyboard_scenes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", scene_rows)
        if frame_rows:
            cur.executemany("INSERT INTO storyboard_frames VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            frame_rows)

    db.write(work)
