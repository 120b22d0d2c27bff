"""Boards: the mood boards and story walls a filmmaker builds from images and words.

``wb.boards`` is one :class:`Boards` object. Every method takes the acting
person first (``None`` for an anonymous share-link holder) and, where a link
can be used, ``token=``. This module holds a board's life (create, rename,
duplicate, archive, the trash) and its history (undo, redo, the event feed);
the canvas, sharing, export and import live in sibling modules.

    >>> board = wb.boards.create(me, "Night shoot", "Neon, rain, long lenses")
    >>> wb.boards.add_image(me, board.id, still.id)
    >>> wb.boards.undo(me, board.id)          # takes the image off again
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from store import Tx
from workbench.accounts import User
from workbench.boards.access import Access
from workbench.boards.batch import BoardBatch
from workbench.boards.comments import BoardComments
from workbench.boards.core import Change
from workbench.boards.export import BoardExport
from workbench.boards.history import UNDOABLE, apply_ops, event_from_row, load_items
from workbench.boards.importing import BoardImport
from workbench.boards.model import (
    MAX_DESCRIPTION,
    MAX_ITEMS,
    MAX_TITLE,
    Board,
    BoardEvent,
    BoardItem,
    BoardView,
    utcnow,
)
from workbench.boards.presence import BoardPresence
from workbench.boards.sharing import BoardSharing
from workbench.boards.watch import BoardWatching, _Watchers
from workbench.errors import Conflict, Forbidden, InvalidInput, NotFound
from workbench.text import clean_text

__all__ = ["Boards", "BoardShelf", "BOARD_SORTS"]


def _title(title: Any) -> str:
    """A board title: 1 to 200 characters on one line (the one text rule, :func:`clean_text`)."""
    text = clean_text(title, field="board title", max_chars=MAX_TITLE)
    if not text:
        raise InvalidInput("A board needs a title (1 to 200 characters).")
    return text


_LIST_SQL = """
SELECT b.*, coalesce(m.role, 'owner') AS my_role,
       (SELECT count(*) FROM board_items i WHERE i.board_id = b.id) AS item_count,
       (SELECT i.image_id FROM board_items i WHERE i.board_id = b.id AND i.kind = 'image'
         ORDER BY i.z DESC, i.id LIMIT 1) AS cover
FROM boards b
LEFT JOIN board_members m ON m.board_id = b.id AND m.user_id = ?
WHERE (b.owner = ? OR m.user_id IS NOT NULL) AND list_contains(?, b.status)
ORDER BY b.updated_at DESC, b.id
"""

# The page is chosen first and only its boards get their item count and cover: with
# hundreds of boards, counting every board's items to show 24 of them is wasted work.
_BROWSE_SQL = """
WITH mine AS (
    SELECT b.*, coalesce(m.role, 'owner') AS my_role FROM boards b
    LEFT JOIN board_members m ON m.board_id = b.id AND m.user_id = ?
    WHERE (b.owner = ? OR m.user_id IS NOT NULL) AND list_contains(?, b.status)
      AND (? = '' OR contains(lower(b.title), ?))),
page AS (SELECT *, count(*) OVER () AS total FROM mine ORDER BY {order} LIMIT ? OFFSET ?)
SELECT page.*,
       (SELECT count(*) FROM board_items i WHERE i.board_id = page.id) AS item_count,
       (SELECT i.image_id FROM board_items i WHERE i.board_id = page.id AND i.kind = 'image'
         ORDER BY i.z DESC, i.id LIMIT 1) AS cover
FROM page ORDER BY {order}
"""
BOARD_SORTS = {"edited": "updated_at DESC, id", "title": "lower(title), id", "created": "created_at DESC, id"}
MAX_PAGE = 200


@dataclass(frozen=True)
class BoardShelf:
    """One page of a person's boards: ``boards`` in the asked order, ``total`` matching the search."""

    boards: list[Board]
    total: int
    offset: int
    limit: int

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.boards) < self.total


class Boards(BoardBatch, BoardWatching, BoardSharing, BoardExport, BoardImport):
    """Everyone's boards. Reached as ``wb.boards``.

    Built as ``Boards(db, library, writing, accounts=accounts)``: ``writing`` supplies
    script excerpts (anything with ``get(user, document_id)``), ``accounts`` lets
    boards be shared by email (without it, by user id only).

    Co-editing: :meth:`watch` (the filtered live stream of one board), ``comments``
    (:class:`~workbench.boards.comments.BoardComments`) and ``presence``
    (:class:`~workbench.boards.presence.BoardPresence`).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._watchers = _Watchers(self._feed)
        self.comments = BoardComments(self)
        self.presence = BoardPresence(self)

    # -- reading --------------------------------------------------------------------------
    def get(self, user: User | None, board_id: str, *, token: str | None = None) -> BoardView:
        """A board with its items (back to front), the viewer's role and the images it shows."""
        access = self._access(user, board_id, token)
        items = [BoardItem.from_row(r) for r in self._db.query(
            "SELECT * FROM board_items WHERE board_id = ? ORDER BY z, created_at, id", [board_id])]
        image_ids = sorted({i.image_id for i in items if i.image_id})
        images = {k: v for k, v in self._library.get_many(image_ids).items() if v.status != "deleting"}
        cover = next((i.image_id for i in reversed(items) if i.kind == "image"), None)
        board = Board.from_row(access.board, access.role, len(items), cover)
        return BoardView(board=board, items=items, role=access.role, images=images, can_comment=access.may_comment)

    def trash(self, user: User) -> list[Board]:
        """The user's deleted boards that can still be restored, most recently deleted first."""
        if user is None:
            raise Forbidden("Sign in to see your trash.")
        cutoff = utcnow() - timedelta(days=self.grace_days)
        rows = self._db.query(
            "SELECT * FROM boards WHERE owner = ? AND status = 'deleted' AND deleted_at > ?"
            " ORDER BY deleted_at DESC, id", [user.id, cutoff])
        return [Board.from_row(r, "owner") for r in rows]

    # -- a board's life -----------------------------------------------------------------------
    def create(self, user: User, title: str, description: str = "") -> Board:
        """Start a new, empty board owned by ``user``."""
        if user is None:
            raise Forbidden("Sign in to make boards of your own.")
        title = _title(title)
        description = clean_text(description, field="description", max_chars=MAX_DESCRIPTION, multiline=True)
        board_id = "b_" + uuid.uuid4().hex[:16]
        self._create_with(user, board_id, title, description, [], {"title": title})
        return self._board(user, board_id)

    def _set_board(self, user: User | None, board_id: str, token: str | None, kind: str, values: dict[str, str],
                   action: str) -> Board:
        def build(cur: Tx, access: Access, now: datetime) -> Change[None]:
            old = {k: access.board[k] for k in values}
            changed = {k: v for k, v in values.items() if old[k] != v}
            ops = [{"op": "board", "values": changed}]
            apply_ops(cur, board_id, ops, now)
            inverse = [{"op": "board", "values": {k: old[k] for k in changed}}]
            return Change(None, kind, {**changed, "ops": ops}, inverse, record=bool(changed))

        self._change(user, board_id, token, need="edit", action=action, build=build)
        return self._board(user, board_id, token)

    def rename(self, user: User | None, board_id: str, title: str, *, token: str | None = None) -> Board:
        """Give a board a new title (1 to 200 characters)."""
        return self._set_board(user, board_id, token, "rename", {"title": _title(title)}, "rename it")

    def describe(self, user: User | None, board_id: str, description: str, *, token: str | None = None) -> Board:
        """Replace a board's description (up to 5 000 characters)."""
        text = clean_text(description, field="description", max_chars=MAX_DESCRIPTION, multiline=True)
        return self._set_board(user, board_id, token, "describe", {"description": text}, "change its description")

    def duplicate(self, user: User, board_id: str, *, title: str | None = None, token: str | None = None) -> Board:
        """Copy a board (layout, notes, captions) into a new board the acting user owns.

        Anyone who can view a board may copy it; images the copier cannot see in
        their own library are left out, so a copy never outlives the access that
        the original board gave.
        """
        if user is None:
            raise Forbidden("Sign in to copy a board into your own boards.")
        view = self.get(user, board_id, token=token)
        new_title = _title(title) if title is not None else _title(f"Copy of {view.board.title}"[:MAX_TITLE])
        new_id = "b_" + uuid.uuid4().hex[:16]
        now = utcnow()
        copies, skipped = [], 0
        for item in view.items:
            image = view.images.get(item.image_id or "")
            if item.kind == "image" and (image is None or not self._library.can_see(user, image)):
                skipped += 1
                continue
            copies.append(BoardItem(**{**item.columns(), "id": "bi_" + uuid.uuid4().hex[:16], "board_id": new_id,
                                       "created_at": now, "updated_at": now}))
        self._create_with(user, new_id, new_title, view.board.description, copies,
                          {"title": new_title, "duplicated_from": board_id, "skipped_images": skipped})
        return self._board(user, new_id)

    def _set_status(self, user: User, board_id: str, status: str, kind: str, action: str,
                    allowed_from: tuple[str, ...]) -> Board:
        def build(cur: Tx, access: Access, now: datetime) -> Change[None]:
            current = access.board["status"]
            if current == status:
                return Change(None, record=False)
            if current not in allowed_from:
                raise Conflict(f"This board is {current}; it cannot be {kind}d from there.")
            if kind == "restore" and access.board["deleted_at"] < now - timedelta(days=self.grace_days):
                raise NotFound(f"'{access.board['title']}' was deleted more than {self.grace_days} days ago "
                               "and can no longer be restored.")
            deleted_at = now if status == "deleted" else None
            cur.execute("UPDATE boards SET status = ?, deleted_at = ? WHERE id = ?", [status, deleted_at, board_id])
            return Change(None, kind, {"from": current, "to": status})

        self._change(user, board_id, None, need="owner", action=action, build=build, allow_deleted=True)
        return self._board(user, board_id, allow_deleted=True)

    def archive(self, user: User, board_id: str) -> Board:
        """Put a finished board away: it leaves the board list and becomes read-only."""
        return self._set_status(user, board_id, "archived", "archive", "archive it", ("active",))

    def unarchive(self, user: User, board_id: str) -> Board:
        """Bring an archived board back to the list, editable again."""
        return self._set_status(user, board_id, "active", "unarchive", "unarchive it", ("archived",))

    def delete(self, user: User, board_id: str) -> Board:
        """Move a board to the trash; it can be restored for ``grace_days`` (30) days, and its
        share links and members stop working meanwhile."""
        return self._set_status(user, board_id, "deleted", "delete", "delete it", ("active", "archived"))

    def restore(self, user: User, board_id: str) -> Board:
        """Take a board back out of the trash (within the grace period)."""
        return self._set_status(user, board_id, "active", "restore", "restore it", ("deleted",))

    def purge_deleted(self, *, now: datetime | None = None) -> int:
        """Remove for good every board deleted more than ``grace_days`` ago (a maintenance job).

        Returns how many boards were purged. Library images stay in their libraries.
        """
        cutoff = (now or utcnow()) - timedelta(days=self.grace_days)

        def work(cur: Tx) -> int:
            ids = [r[0] for r in cur.execute(
                "SELECT id FROM boards WHERE status = 'deleted' AND deleted_at <= ?", [cutoff]).fetchall()]
            if ids:
                for table in ("board_items", "board_members", "share_links", "board_events", "board_comments",
                              "board_presence"):
                    cur.execute(f"DELETE FROM {table} WHERE list_contains(?, board_id)", [ids])
                cur.execute("DELETE FROM boards WHERE list_contains(?, id)", [ids])
            return len(ids)

        return self._db.write(work)

    # -- history ----------------------------------------------------------------------------
    def history(self, user: User | None, board_id: str, *, limit: int = 100,
                token: str | None = None) -> list[BoardEvent]:
        """The board's activity, newest first (sharing changes are shown to the owner only)."""
        access = self._access(user, board_id, token)
        hide = "" if access.receives("share") else " AND kind <> 'share'"
        rows = self._db.query(f"SELECT * FROM board_events WHERE board_id = ?{hide} ORDER BY seq DESC LIMIT ?",
                              [board_id, max(1, min(limit, 1000))])
        return [event_from_row(r) for r in rows]

    def events_since(self, user: User | None, board_id: str, seq: int, *, limit: int = 1000,
                     token: str | None = None) -> list[BoardEvent]:
        """Events after ``seq``, oldest first: what a client that last saw ``seq`` has missed.

        The same events, filtered by the same rule, as :meth:`watch` delivers.
        """
        access = self._access(user, board_id, token)
        hide = "" if access.receives("share") else " AND kind <> 'share'"
        rows = self._db.query(
            f"SELECT * FROM board_events WHERE board_id = ? AND seq > ?{hide} ORDER BY seq LIMIT ?",
            [board_id, int(seq), max(1, min(limit, 10_000))])
        return [event_from_row(r) for r in rows]

    def _replay(self, user: User | None, board_id: str, token: str | None, redo: bool) -> BoardEvent:
        word = "redo" if redo else "undo"

        def build(cur: Tx, access: Access, now: datetime) -> Change[BoardEvent]:
            actor = access.actor
            target = _redo_target(cur, board_id, actor) if redo else _undo_target(cur, board_id, actor)
            if target is None:
                raise Conflict(f"You have nothing to {word} on this board (undo takes back your own changes only).")
            payload = json.loads(target["payload"])
            ops = payload.get("ops", []) if redo else json.loads(target["inverse"] or "[]")
            apply_ops(cur, board_id, ops, now)
            if len(load_items(cur, board_id)) > MAX_ITEMS:
                raise InvalidInput(f"{word.capitalize()}ing this would put more than {MAX_ITEMS} items on the board.")
            cur.execute("UPDATE board_events SET undone = ? WHERE id = ?", [not redo, target["id"]])
            summary = {"target": int(target["seq"]), "target_kind": target["kind"], "ops": ops}
            return Change(event_from_row({**target, "undone": not redo}), word, summary)

        return self._change(user, board_id, token, need="edit", action=f"{word} changes", build=build)

    def undo(self, user: User | None, board_id: str, *, token: str | None = None) -> BoardEvent:
        """Take back your own latest change that is not undone yet; returns that change.

        Each person has their own undo: Ana's undo never takes back Ben's move, however
        recent. "You" is the signed-in person, or for an anonymous link holder the link
        (everyone holding one edit link shares its undo). What others changed since stays:
        a card someone else deleted meanwhile is not brought back by undoing your move of it.
        Conflict when you have nothing to undo.
        """
        return self._replay(user, board_id, token, redo=False)

    def redo(self, user: User | None, board_id: str, *, token: str | None = None) -> BoardEvent:
        """Make again the change your last undo took back (until you make a new change).

        Others' changes in between do not clear your redo; yours do.
        """
        return self._replay(user, board_id, token, redo=True)

    # Defined last: inside this class body the name ``list`` means this method.
    def list(self, user: User, *, include_archived: bool = False) -> list[Board]:
        """The user's boards and the boards shared with them by name, recently changed first."""
        if user is None:  # a link holder opens the one board of the link, and lists nothing
            raise Forbidden("Sign in to see your boards.")
        statuses = ["active", "archived"] if include_archived else ["active"]
        rows = self._db.query(_LIST_SQL, [user.id, user.id, statuses])
        return [Board.from_row(r, r["my_role"], int(r["item_count"]), r["cover"]) for r in rows]

    def browse(self, user: User, *, search: str = "", sort: str = "edited", include_archived: bool = False,
               offset: int = 0, limit: int = 24) -> BoardShelf:
        """One page of the user's boards (and those shared with them), for a board list with hundreds.

        ``search`` keeps boards whose title contains the words (any case); ``sort`` is
        ``edited`` (last edited first), ``title`` (A to Z) or ``created`` (newest first).

        >>> shelf = wb.boards.browse(me, search="night", sort="title", limit=24)
        >>> shelf.total, [b.title for b in shelf.boards]
        """
        if user is None:  # a link holder opens the one board of the link, and lists nothing
            raise Forbidden("Sign in to see your boards.")
        if sort not in BOARD_SORTS:
            raise InvalidInput(f"Sort boards by {', '.join(BOARD_SORTS)} (not '{sort}').")
        if not (isinstance(limit, int) and 1 <= limit <= MAX_PAGE) or not (isinstance(offset, int) and offset >= 0):
            raise InvalidInput(f"Ask for 1 to {MAX_PAGE} boards at a time, from offset 0 or more.")
        text = clean_text(search, field="board search", max_chars=MAX_TITLE, truncate=True).strip().lower()
        statuses = ["active", "archived"] if include_archived else ["active"]
        rows = self._db.query(_BROWSE_SQL.format(order=BOARD_SORTS[sort]),
                              [user.id, user.id, statuses, text, text, limit, offset])
        total = int(rows[0]["total"]) if rows else (
            0 if offset == 0 else self.browse(user, search=search, sort=sort, include_archived=include_archived,
                                              limit=1).total)
        boards = [Board.from_row(r, r["my_role"], int(r["item_count"]), r["cover"]) for r in rows]
        return BoardShelf(boards, total, offset, limit)


def _rows(cur: Tx, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    result = cur.execute(sql, params)
    columns = [d[0] for d in result.description or []]
    return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]


def _undo_target(cur: Tx, board_id: str, actor: str) -> dict[str, Any] | None:
    """The actor's own latest change that is still in force."""
    rows = _rows(cur, "SELECT * FROM board_events WHERE board_id = ? AND actor = ? AND NOT undone"
                      " AND list_contains(?, kind) ORDER BY seq DESC LIMIT 1", [board_id, actor, list(UNDOABLE)])
    return rows[0] if rows else None


def _redo_target(cur: Tx, board_id: str, actor: str) -> dict[str, Any] | None:
    """The change the actor's latest undo still in force took back, unless they made a new change since."""
    rows = _rows(cur, "SELECT * FROM board_events WHERE board_id = ? AND actor = ? AND list_contains(?, kind)"
                      " ORDER BY seq DESC LIMIT 2000", [board_id, actor, [*UNDOABLE, "undo", "redo"]])
    by_seq = {int(r["seq"]): r for r in rows}
    for row in rows:
        if row["kind"] == "redo":
            continue
        if row["kind"] != "undo":
            return None  # a fresh change since the undo: the redo stack is gone
        target = by_seq.get(int(json.loads(row["payload"])["target"]))
        if target is not None and target["undone"]:
            return target
    return None
