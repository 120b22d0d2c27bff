"""Frames for a scene row: which beats get a frame, which still each shows, and placing the row.

Stills are found first in the person's own library (plus team and public
pictures) by text search on the scene's place and the beat; a frame never
repeats the still of the frame before it, and a row never shows one still
twice. A frame with no good match is made by the image backend only when the
person asked for generation (and paid, see :mod:`workbench.storyboards`);
otherwise it is a placeholder note saying so.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from workbench.accounts import User
from workbench.boards import PLACEHOLDER, Boards
from workbench.errors import ProviderError
from workbench.library.catalog import Library
from workbench.search import Search
from workbench.storyboard_model import (
    CUT_COLOR,
    CUT_MARK,
    FRAME_H,
    FRAME_W,
    GAP,
    HEAD_W,
    ROW_H,
    Frame,
    StoryboardScene,
)
from workbench.writing.scene_lines import Beat, SceneSpan

__all__ = ["FramePlan", "FramePicker", "plan_frames", "frame_caption", "caption_note", "row_y", "frame_x",
           "heading_text", "DEFAULT_MIN_SCORE"]

# Below this a still is a poor match for a beat. Text-to-image scores of the offline embedder
# run about half of CLIP's (0.1 is a fair match there); production setups may raise it.
DEFAULT_MIN_SCORE = 0.05
_PLACE = re.compile(r"^(?:INT\.?/EXT|I/E|INT|EXT|EST)[.\s]+", re.IGNORECASE)
_LABEL = re.compile(r"^\s*(?:\[CUT\]\s*)?\d+[A-Za-z]*\.\d+\s*·\s*")
_SCORE = re.compile(r"\n?match \d\.\d\d\s*$")


@dataclass(frozen=True)
class FramePlan:
    """A frame to make: the beat it shows, its lines and the still picked for it (if any)."""

    shot: int
    beat: Beat | None            # None: the scene has no action, the frame shows the heading
    first_line: int
    last_line: int
    query: str
    image_id: str | None = None
    score: float | None = None


def row_y(row: int) -> float:
    """The top of the ``row``-th scene row (0-based)."""
    return row * ROW_H


def frame_x(shot: int) -> float:
    """The left edge of a row's ``shot``-th frame (1-based)."""
    return HEAD_W + GAP + (shot - 1) * (FRAME_W + GAP)


def heading_text(label: str, heading: str, *, cut: bool = False) -> str:
    """The scene-heading card's text: ``3. EXT. DECK - LATER`` (``CUT · ...`` once removed)."""
    text = f"{label}. {heading}"
    return (f"CUT · {text}" if cut else text)[:500]


def frame_caption(label: str, shot: int, beat: str, score: float | None) -> str:
    """A frame's caption: shot number, the beat (shortened) and the match score when it is a library still."""
    words = beat if len(beat) <= 240 else beat[:239].rsplit(" ", 1)[0] + "…"
    text = f"{label}.{shot} · {words}"
    return text + (f"\nmatch {score:.2f}" if score is not None else "")


def caption_note(caption: str) -> str:
    """What a caption edited on the board says, without the shot label and score the storyboard wrote."""
    text = _SCORE.sub("", _LABEL.sub("", caption.replace(CUT_MARK, "", 1))).strip()
    # A note ends at "]]" and a blank line would split it: neither may reach the script.
    text = text.replace("[[", "[ [").replace("]]", "] ]")
    return "\n".join(line for line in text.split("\n") if line.strip())


def plan_frames(span: SceneSpan, per_scene: int) -> list[FramePlan]:
    """Up to ``per_scene`` frames for a scene, spread over its action paragraphs in order."""
    beats = span.beats
    place = _PLACE.sub("", span.heading).strip()
    if not beats:
        return [FramePlan(1, None, span.first_line, span.last_line, span.heading)]
    count = min(per_scene, len(beats))
    picks = [beats[round(i * (len(beats) - 1) / (count - 1))] if count > 1 else beats[0] for i in range(count)]
    return [FramePlan(n, beat, beat.start + 1, beat.end, f"{place}. {beat.plain}"[:1000])
            for n, beat in enumerate(dict.fromkeys(picks), start=1)]


class FramePicker:
    """Picks stills for frames, remembering what is already on the board (one per storyboard run)."""

    def __init__(self, user: User, search: Search, min_score: float) -> None:
        self._user = user
        self._search = search
        self._min_score = min_score
        self.on_board: set[str] = set()
        self.previous: str | None = None   # the still of the frame just before (across rows too)

    def pick(self, plans: list[FramePlan]) -> list[FramePlan]:
        """The plans of one row with their stills (None where nothing matches well enough)."""
        in_row: set[str] = set()
        picked = []
        for plan in plans:
            hits = [h for h in self._search.by_text(self._user, plan.query, limit=len(self.on_board) + 8)
                    if h.score >= self._min_score and h.image.id not in in_row and h.image.id != self.previous]
            # A still not yet on the board beats a closer one already used elsewhere.
            hits.sort(key=lambda h: (h.image.id in self.on_board, -h.score))
            if hits:
                image_id = hits[0].image.id
                in_row.add(image_id)
                self.on_board.add(image_id)
                plan = FramePlan(plan.shot, plan.beat, plan.first_line, plan.last_line, plan.query, image_id,
                                 round(float(hits[0].score), 4))
            self.previous = plan.image_id
            picked.append(plan)
        return picked


Generate = Callable[[FramePlan, StoryboardScene], str | None]


def place_row(boards: Boards, library: Library, user: User, board_id: str, span: SceneSpan, row: int,
              plans: list[FramePlan], generate: Generate | None = None) -> StoryboardScene:
    """Put one scene row on the board: its heading card, then a card per frame.

    ``generate`` (when the person asked for generation) makes a still for a
    frame with no match and returns its image id, or None when it made nothing.
    """
    scene_id = "sc_" + uuid.uuid4().hex[:12]
    label = span.number or str(span.index + 1)
    y = row_y(row)
    heading = boards.add_heading(user, board_id, heading_text(label, span.heading), x=0, y=y, w=HEAD_W, h=FRAME_H)
    scene = StoryboardScene(scene_id, span.index, span.heading, span.number, span.fingerprint, span.first_line,
                            span.last_line, heading.id)
    for plan in plans:
        image_id, score, source = plan.image_id, plan.score, "library"
        if image_id is None and generate is not None:
            image_id, score, source = generate(plan, scene), None, "generated"
        beat = plan.beat.plain if plan.beat else span.heading
        caption = frame_caption(label, plan.shot, beat, score)
        x = frame_x(plan.shot)
        if image_id is not None:
            item = boards.add_image(user, board_id, image_id, x=x, y=y, w=FRAME_W, h=FRAME_H, caption=caption)
        else:
            source = "placeholder"
            item = boards.add_note(user, board_id, f"{PLACEHOLDER}\n\n{beat}"[:2000], x=x, y=y,
                                   w=FRAME_W, h=FRAME_H, caption=caption)
        scene.frames.append(Frame(item.id, scene_id, plan.shot, plan.first_line, plan.last_line,
                                  plan.beat.text if plan.beat else span.heading, caption, image_id, score, source))
    return scene


def mark_cut(boards: Boards, user: User, board_id: str, scene: StoryboardScene, present: set[str]) -> None:
    """Grey out a removed scene's heading card and frames (kept on the board, never deleted)."""
    if scene.heading_item in present:
        assert scene.heading_item is not None
        boards.update_item(user, board_id, scene.heading_item, color=CUT_COLOR,
                           text=heading_text(scene.label, scene.heading, cut=True))
    for frame in scene.frames:
        if frame.item_id in present:
            boards.update_item(user, board_id, frame.item_id, color=CUT_COLOR,
                               caption=(CUT_MARK + frame.caption)[:2000])


def generator(library: Library, image_backend: Any, user: User, seed: int | None,
              made: list[str]) -> Generate:
    """A ``generate`` for :func:`place_row` that asks the image backend once per frame.

    Each still made is stored through the library's ingest path and its id
    appended to ``made``; after a provider failure it makes nothing more.
    """
    failed: list[bool] = []

    def generate(plan: FramePlan, scene: StoryboardScene) -> str | None:
        if failed or image_backend.offline:
            return None
        try:
            picture = image_backend.generate(f"Storyboard frame, cinematic, {scene.heading}. {plan.query}",
                                             size="1536x1024", seed=seed)
        except ProviderError:
            failed.append(True)
            return None
        if not picture:
            return None
        image = library.ingest(user, picture, filename=f"storyboard-{scene.label}-{plan.shot}.png",
                               tags=["storyboard"], caption=plan.query[:500], origin="generated")
        made.append(image.id)
        return str(image.id)

    return generate
