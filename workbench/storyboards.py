"""Storyboards: a screenplay laid out as a board, kept in step with the script both ways.

``wb.storyboards`` draws a board from a Fountain screenplay (or a range of its
scenes): one row per scene, a scene-heading card, then frames, each a still
with a caption drawn from the scene's action and a stored link to the lines
it shows. Stills come from the person's library first; frames with no good
match are generated only when asked (the cost shown before, reserved up
front, refunded for what was not made). Offline, it works with retrieval only.

After the script changes, :meth:`Storyboards.script_changes` shows what changed
and :meth:`Storyboards.update_from_script` applies it; after rows are moved
on the board, :meth:`Storyboards.apply_board_order` writes a new script
version with the scenes in that order. Captions edited on the board go back
into the script as Fountain notes. A storyboard exports as a shot list (CSV,
PDF); screenplays come in and go out as Final Draft ``.fdx``.

>>> made = wb.storyboards.create(me, script.id)
>>> wb.storyboards.script_changes(me, made.storyboard.board_id).changes
[]
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from store import MetadataStore
from workbench.accounts import Accounts, User
from workbench.boards import Boards
from workbench.errors import Forbidden, InvalidInput, NotFound, ProviderError
from workbench.library.catalog import Library
from workbench.search import Search
from workbench.shotlist import Shot, shot_list, write_csv, write_pdf
from workbench.storyboard_frames import DEFAULT_MIN_SCORE, FramePicker, generator, place_row, plan_frames
from workbench.storyboard_model import (
    Storyboard,
    StoryboardEstimate,
    StoryboardResult,
    boards_for_document,
    load_storyboard,
    save_storyboard,
)
from workbench.storyboard_script import BoardScript, read_board_script
from workbench.storyboard_sync import (
    BoardOrder,
    CaptionNotes,
    ScriptChanges,
    apply_order,
    order_from_board,
    script_changes,
    update_board,
    write_caption_notes,
)
from workbench.text import clean_text
from workbench.writing.documents import Document
from workbench.writing.scene_lines import SceneSpan, scene_spans
from workbench.writing.studio import Writing

__all__ = ["Storyboards", "MAX_FRAMES_PER_SCENE"]

MAX_FRAMES_PER_SCENE = 6
MAX_SCENES = 300  # one board holds 2000 items: 300 rows of a heading and up to 6 frames
Progress = Callable[[int, int, str], None]


def _signed_in(user: User | None) -> User:
    if user is None:  # a storyboard reads its maker's script and lands among their boards
        raise Forbidden("Sign in to storyboard your scripts.")
    return user


class Storyboards:
    """Script-to-board and back. Reached as ``wb.storyboards``."""

    def __init__(self, db: MetadataStore, accounts: Accounts, boards: Boards, writing: Writing, library: Library,
                 search: Search, image_backend: Callable[[], Any]) -> None:
        self._db = db
        self._accounts = accounts
        self._boards = boards
        self._writing = writing
        self._library = library
        self._search = search
        self._images = image_backend

    # -- reading -----------------------------------------------------------------------
    def get(self, user: User, board_id: str) -> Storyboard:
        """A storyboard of the acting user's: its script link, scene rows and frames."""
        _signed_in(user)
        board = load_storyboard(self._db, board_id) if isinstance(board_id, str) else None
        if board is None or board.owner != user.id:
            raise NotFound(f"No storyboard {board_id} among your boards.")
        self._boards.get(user, board_id)  # a board in the trash is not worked on
        return board

    def for_document(self, user: User, document_id: str) -> list[Storyboard]:
        """The user's storyboards drawn from one of their scripts, newest first."""
        self._script(user, document_id)
        found = []
        for board_id in boards_for_document(self._db, user.id, document_id):
            try:
                found.append(self.get(user, board_id))
            except NotFound:  # deleted boards keep their link until purged; they are not listed
                continue
        return found

    def board_script(self, user: User | None, board_id: str, item_id: str | None = None, *,
                     token: str | None = None) -> BoardScript | None:
        """The script a board was drawn from, as it reads now, and where a card (``item_id``) points in it.

        For reading the script beside the board. None when the board is not a
        storyboard, or its script is not the viewer's to read: a script stays
        its writer's, so people the board is shared with (members, share-link
        holders) see the board and its captions, not the whole screenplay.
        Someone who may not open the board at all gets :class:`NotFound`.

        >>> script = wb.storyboards.board_script(me, board_id, frame_id)
        >>> script.selected.first_line, script.selected.last_line
        """
        self._boards.get(user, board_id, token=token)  # NotFound unless the viewer may open the board
        board = load_storyboard(self._db, board_id)
        if board is None or user is None or board.owner != user.id:
            return None
        try:
            doc = self._script(user, board.document_id)
        except NotFound:  # the script was deleted; the board stays, with nothing to read beside it
            return None
        return read_board_script(board, doc, item_id)

    # -- storyboarding a script --------------------------------------------------------------
    def estimate(self, user: User, document_id: str, *, scenes: tuple[int, int] | None = None,
                 frames_per_scene: int = 3, min_score: float = DEFAULT_MIN_SCORE,
                 generate: bool = False) -> StoryboardEstimate:
        """How many frames a storyboard of this script makes, how many stills match, and the cost.

        Only frames with no good match are generated, and only with
        ``generate=True``; retrieval is free.
        """
        _, spans = self._plan_input(user, document_id, scenes, frames_per_scene, min_score)
        picker = FramePicker(user, self._search, min_score)
        plans = [picker.pick(plan_frames(span, frames_per_scene)) for span in spans]
        frames = sum(len(p) for p in plans)
        matched = sum(1 for row in plans for plan in row if plan.image_id)
        to_generate = frames - matched if generate else 0
        credits = to_generate * self._accounts.price("image") if to_generate else 0
        return StoryboardEstimate(len(spans), frames, matched, to_generate, credits, self._accounts.balance(user))

    def create(
        self, user: User, document_id: str, *, scenes: tuple[int, int] | None = None, title: str | None = None,
        frames_per_scene: int = 3, min_score: float = DEFAULT_MIN_SCORE, generate: bool = False,
        seed: int | None = None, idempotency_key: str | None = None, progress: Progress | None = None,
    ) -> StoryboardResult:
        """Storyboard a screenplay (or scenes ``first..last``, 1-based, of it) as a new board.

        >>> made = wb.storyboards.create(me, script.id, scenes=(2, 4))
        >>> made.matched, made.placeholders, made.credits_spent
        """
        doc, spans = self._plan_input(user, document_id, scenes, frames_per_scene, min_score)
        name = clean_text(title, field="board title", max_chars=200) if title is not None else ""
        picker = FramePicker(user, self._search, min_score)
        rows = [picker.pick(plan_frames(span, frames_per_scene)) for span in spans]
        missing = sum(1 for row in rows for plan in row if plan.image_id is None)
        price = self._accounts.price("image")
        reservation = None
        if generate and missing:
            reservation = self._accounts.reserve(user, "image", units=missing, idempotency_key=idempotency_key)
        made: list[str] = []
        board = None
        try:
            board = self._boards.create(user, name or f"Storyboard: {doc.title}"[:200],
                                        f"Drawn from the script '{doc.title}' (version {doc.version}).")
            # Credits are held for every frame with no match; what the backend did not make is refunded.
            generate_frame = generator(self._library, self._images(), user, seed, made) if reservation else None
            placed = []
            for row, (span, plans) in enumerate(zip(spans, rows, strict=True)):
                if progress is not None:
                    progress(row, len(spans), f"Scene {span.number or span.index + 1}: {span.heading[:60]}")
                placed.append(place_row(self._boards, self._library, user, board.id, span, row, plans,
                                        generate_frame))
        except BaseException:
            if reservation is not None:
                self._accounts.commit(reservation, used=len(made) * price)
            if board is not None:
                # A half-built board is no storyboard (nothing links it to the script): it goes to the
                # trash, where it can still be restored; stills generated for it stay in the library.
                with contextlib.suppress(Exception):
                    self._boards.delete(user, board.id)
            raise
        if reservation is not None:
            self._accounts.commit(reservation, used=len(made) * price)
        stored = Storyboard(board.id, user.id, doc.id, doc.version, scenes is None, placed, board.created_at,
                            board.created_at)
        save_storyboard(self._db, stored)
        if progress is not None:
            progress(len(spans), len(spans), "Done")
        kept = self.get(user, board.id)
        frames = kept.frames
        spent = len(made) * price
        return StoryboardResult(
            kept, len(frames), sum(1 for f in frames if f.source == "library"), len(made),
            sum(1 for f in frames if f.source == "placeholder"), spent,
            (reservation.amount - spent) if reservation else 0,
            stopped_early=reservation is not None and len(made) < missing,
        )

    def _plan_input(self, user: User, document_id: str, scenes: tuple[int, int] | None, frames_per_scene: int,
                    min_score: float) -> tuple[Document, list[SceneSpan]]:
        doc = self._script(user, document_id)
        if not isinstance(frames_per_scene, int) or not 1 <= frames_per_scene <= MAX_FRAMES_PER_SCENE:
            raise InvalidInput(f"Choose between 1 and {MAX_FRAMES_PER_SCENE} frames per scene.")
        if not isinstance(min_score, (int, float)) or not -1.0 <= float(min_score) <= 1.0:
            raise InvalidInput("The match score to accept a still must be a number between -1 and 1 (e.g. 0.05).")
        spans = scene_spans(doc.body)
        if not spans:
            raise InvalidInput(f"'{doc.title}' has no scene headings yet (INT. / EXT. lines); "
                               "a storyboard has one row per scene.")
        if scenes is not None:
            try:
                first, last = scenes
            except (TypeError, ValueError):
                raise InvalidInput(f"Give the scenes as (first, last), e.g. (2, 5), not {scenes!r}.") from None
            if not (isinstance(first, int) and isinstance(last, int)) or not 1 <= first <= last <= len(spans):
                raise InvalidInput(f"Choose scenes between 1 and {len(spans)} (first <= last), not {scenes}.")
            spans = spans[first - 1 : last]
        if len(spans) > MAX_SCENES:
            raise InvalidInput(f"This script has {len(spans)} scenes; storyboard up to {MAX_SCENES} at a time "
                               "(choose a range of scenes).")
        return doc, spans

    def _script(self, user: User, document_id: str) -> Document:
        doc = self._writing.get(_signed_in(user), document_id)
        if doc.kind != "screenplay":
            raise InvalidInput(f"'{doc.title}' is a {doc.kind}; only screenplays can be storyboarded.")
        return doc

    # -- keeping board and script in step ------------------------------------------------------
    def script_changes(self, user: User, board_id: str) -> ScriptChanges:
        """What changed in the script since the board was last synced ("Update from script", previewed)."""
        board = self.get(user, board_id)
        return script_changes(board, self._script(user, board.document_id))

    def update_from_script(self, user: User, board_id: str, *, min_score: float = DEFAULT_MIN_SCORE,
                           frames_per_scene: int = 3) -> ScriptChanges:
        """Bring the board up to the latest script: new scenes get rows and frames, removed scenes' rows
        are kept and marked "cut", re-headed scenes get their new heading, rows follow the script order.

        Returns what was applied (the same as :meth:`script_changes` showed).
        """
        board = self.get(user, board_id)
        doc = self._script(user, board.document_id)
        changes, updated = update_board(self._boards, self._library, self._search, user, board, doc,
                                        min_score=min_score, frames_per_scene=frames_per_scene)
        save_storyboard(self._db, updated)
        return changes

    def board_order_changes(self, user: User, board_id: str) -> BoardOrder:
        """The script diff "Apply board order to script" would make (scene rows ordered top to bottom)."""
        board = self.get(user, board_id)
        doc = self._script(user, board.document_id)
        return order_from_board(self._boards, user, board, doc)[0]

    def apply_board_order(self, user: User, board_id: str) -> BoardOrder:
        """Write a new script version with the scenes in the order of the rows on the board.

        Lossless: scenes move with every one of their lines, nothing else
        changes. Refused (:class:`Conflict`) while the script has changes the
        board has not taken yet: update from the script first.
        """
        board = self.get(user, board_id)
        doc = self._script(user, board.document_id)
        order, updated = apply_order(self._boards, self._writing, user, board, doc)
        save_storyboard(self._db, updated)
        return order

    def write_captions_to_script(self, user: User, board_id: str) -> CaptionNotes:
        """Write the captions edited on the board back into the script as Fountain notes (a new version).

        Each note goes under the action paragraph its frame shows; writing again
        replaces a frame's earlier note instead of adding a second one.
        """
        board = self.get(user, board_id)
        doc = self._script(user, board.document_id)
        notes, updated = write_caption_notes(self._boards, self._writing, user, board, doc)
        save_storyboard(self._db, updated)
        return notes

    # -- shot list ---------------------------------------------------------------------
    def shot_list(self, user: User, board_id: str) -> list[Shot]:
        """The storyboard as a crew's shot list: one row per frame, with a duration estimate."""
        board = self.get(user, board_id)
        doc = self._script(user, board.document_id)
        return shot_list(board, self._boards.get(user, board_id), doc.body)

    def export_shot_list_csv(self, user: User, board_id: str, out: str | Path | IO[str]) -> None:
        """Write the shot list as CSV (UTF-8, one row per frame, thumbnails as links)."""
        write_csv(self.shot_list(user, board_id), out)

    def export_shot_list_pdf(self, user: User, board_id: str, out: str | Path | IO[bytes]) -> None:
        """Write the shot list as a PDF table with a thumbnail of every frame."""
        shots = self.shot_list(user, board_id)
        title = self._boards.get(user, board_id).board.title

        def thumbnail(image_id: str) -> bytes | None:
            try:
                return self._boards.board_image(user, board_id, image_id)
            except (NotFound, ProviderError):
                return None

        write_pdf(shots, title, thumbnail, out)

    # -- Final Draft interchange ------------------------------------------------------------
    # The writing domain owns these (``wb.writing.export_fdx`` / ``import_fdx``); kept here so
    # notebooks written against ``wb.storyboards`` keep working.
    def export_fdx(self, user: User, document_id: str) -> bytes:
        """A screenplay as a Final Draft ``.fdx`` file: the same as ``wb.writing.export_fdx``."""
        return self._writing.export_fdx(_signed_in(user), document_id)

    def import_fdx(self, user: User, source: bytes | str | Path | IO[bytes], *, title: str | None = None) -> Document:
        """Bring in a Final Draft ``.fdx`` file as a screenplay: the same as ``wb.writing.import_fdx``."""
        return self._writing.import_fdx(_signed_in(user), source, title=title)
