"""A board's history as a readable timeline, and going back to any point of it.

``wb.boards.timeline.events`` turns the board's stored events into sentences
("Ana moved 3 cards", "Guest added a note") with who, when and what kind;
sharing changes are shown to the owner only, by the same rule as
``wb.boards.history``.

``wb.boards.timeline.restore_to`` puts the board back as it was right after
one event, as *one new change*: the stored inverse operations of every later
change still in force are applied newest first (and a change from before that
point undone since is made again), then the difference between the board
before and after is recorded as one ``update`` event. So the restore shows up
in everyone's open view like any edit, and one undo takes it back. Operations
are absolute, and one on an item someone removed meanwhile is skipped (see
:mod:`workbench.boards.history`); sharing, comments and the board's status are
not part of a board's contents and are never touched.

>>> entries = wb.boards.timeline.events(me, board.id)
>>> entries[0].description
'Ana moved 3 cards'
>>> wb.boards.timeline.restore_to(me, board.id, entries[5].seq)
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from store import Tx
from workbench.boards.history import UNDOABLE, Op, apply_ops, event_from_row, load_items
from workbench.boards.model import MAX_ITEMS, BoardEvent, BoardItem
from workbench.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from workbench.accounts import User
    from workbench.boards.access import Access
    from workbench.boards.core import BoardsBase

__all__ = ["BoardTimeline", "TimelineEntry", "describe_event"]

_NOUNS = {"image": "picture", "note": "note", "script": "script excerpt", "heading": "heading", "link": "link"}
_STATUS = {"archive": "archived the board", "unarchive": "took the board out of the archive",
           "delete": "moved the board to the trash", "restore": "brought the board back from the trash"}
_SHARE = {"link_created": "made a share link", "link_revoked": "revoked a share link",
          "member_set": "shared the board with someone", "member_removed": "stopped sharing with someone"}
_COMMENT = {"added": "commented", "replied": "replied to a comment", "resolved": "resolved a comment",
            "reopened": "reopened a comment", "deleted": "deleted a comment"}


@dataclass(frozen=True)
class TimelineEntry:
    """One change on a board, in words: who did what, and when."""

    seq: int                 # the board's revision right after it: restore_to(seq) goes back here
    kind: str                # the event kind (add, move, update, undo, share...)
    actor: str               # a user id, or "link:<id>" for a share-link holder
    actor_name: str          # "Ana", or "Guest" for a link holder
    summary: str             # "moved 3 cards"
    created_at: datetime
    undone: bool             # taken back by an undo since

    @property
    def description(self) -> str:
        """The change as a sentence: "Ana moved 3 cards"."""
        return f"{self.actor_name} {self.summary}" + (" (undone)" if self.undone else "")


def _cards(n: int) -> str:
    return "a card" if n == 1 else f"{n} cards"


def describe_event(kind: str, payload: dict[str, Any]) -> str:
    """What an event did, without who: "moved 3 cards", "added a note", "renamed the board to 'Night'"."""
    ids = payload.get("ids") or []
    if "restored_to" in payload:
        return f"restored the board to how it was after change #{payload['restored_to']}"
    if kind == "create":
        count = int(payload.get("count") or 0)
        return "created the board" + (f" with {_cards(count)}" if count else "")
    if kind == "add":
        count, kinds = int(payload.get("count") or 0), payload.get("kinds") or []
        if count == 1 and len(kinds) == 1:
            noun = _NOUNS.get(kinds[0], kinds[0])
            return f"added {'an' if noun[0] in 'aeiou' else 'a'} {noun}"
        return f"added {_cards(count)}"
    if kind == "remove":
        return f"removed {_cards(int(payload.get('count') or len(ids)))}"
    if kind == "move":
        return f"moved {_cards(len(ids))}"
    if kind == "reorder":
        where = {"front": "to the front", "back": "to the back"}.get(str(payload.get("to")), "in the stack")
        return f"brought {_cards(len(ids))} {where}" if where != "in the stack" else f"restacked {_cards(len(ids))}"
    if kind == "update":
        fields = set(payload.get("fields") or [])
        what = ("recoloured" if fields == {"color"} else "resized" if fields <= {"w", "h", "x", "y"} and fields
                else "edited")
        return f"{what} {_cards(len(ids))}"
    if kind == "rename":
        return f"renamed the board to '{payload.get('title', '')}'"
    if kind == "describe":
        return "changed the board's description"
    if kind in ("undo", "redo"):
        target = payload.get("target")
        return f"{'undid' if kind == 'undo' else 'redid'} change #{target}"
    if kind == "share":
        return _SHARE.get(str(payload.get("action")), "changed the sharing")
    if kind == "comment":
        raw = payload.get("comment")
        comment: dict[str, Any] = raw if isinstance(raw, dict) else {}
        if payload.get("action") == "added":
            if comment.get("parent_id"):
                return "replied to a comment"
            return ("commented on a card" if comment.get("item_id") else
                    "commented on a spot on the board" if comment.get("x") is not None else "commented")
        return _COMMENT.get(str(payload.get("action")), "changed a comment")
    return _STATUS.get(kind, f"made a change ({kind})")


def _state(cur: Tx, board_id: str) -> tuple[dict[str, BoardItem], dict[str, str]]:
    items = {i.id: i for i in load_items(cur, board_id)}
    row = cur.execute("SELECT title, description FROM boards WHERE id = ?", [board_id]).fetchone()
    return items, {"title": row[0], "description": row[1]} if row else {}


def _diff(a: tuple[dict[str, BoardItem], dict[str, str]],
          b: tuple[dict[str, BoardItem], dict[str, str]]) -> list[Op]:
    """Absolute operations that turn board state ``a`` into ``b``."""
    (old, old_board), (new, new_board) = a, b
    ops: list[Op] = [{"op": "delete", "id": i} for i in old if i not in new]
    ops += [{"op": "insert", "item": item.columns()} for i, item in new.items() if i not in old]
    for i, item in new.items():
        if i in old:
            before, after = old[i].columns(), item.columns()
            changed = {k: v for k, v in after.items() if before[k] != v}
            if changed:
                ops.append({"op": "set", "id": i, "values": changed})
    board = {k: v for k, v in new_board.items() if old_board.get(k) != v}
    if board:
        ops.append({"op": "board", "values": board})
    return ops


def _rows(cur: Tx, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    result = cur.execute(sql, params)
    columns = [d[0] for d in result.description or []]
    return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]


def _plan(cur: Tx, board_id: str, seq: int) -> list[Op]:
    """The operations that take the board back to right after event ``seq``, in the order to apply them.

    Changes after ``seq`` still in force are taken back newest first; a change
    from before ``seq`` whose undo or redo came after it is put back to how it
    stood at ``seq`` (made again, or taken back).
    """
    later = _rows(cur, "SELECT * FROM board_events WHERE board_id = ? AND seq > ? ORDER BY seq DESC", [board_id, seq])
    take_back: list[dict[str, Any]] = [e for e in later if e["kind"] in UNDOABLE and not e["undone"]]
    targets = {int(json.loads(e["payload"]).get("target", 0)) for e in later if e["kind"] in ("undo", "redo")}
    targets = {t for t in targets if 0 < t <= seq}
    make_again: list[dict[str, Any]] = []
    if targets:
        earlier = _rows(cur, "SELECT * FROM board_events WHERE board_id = ? AND seq >= ? AND seq <= ?"
                             " AND list_contains(?, kind) ORDER BY seq",
                        [board_id, min(targets), seq, [*UNDOABLE, "undo", "redo"]])
        by_seq = {int(e["seq"]): e for e in earlier}
        in_force_then = {t: True for t in targets}
        for e in earlier:  # the last undo or redo of a target up to ``seq`` decides how it stood then
            if e["kind"] in ("undo", "redo"):
                target = int(json.loads(e["payload"]).get("target", 0))
                if target in in_force_then:
                    in_force_then[target] = e["kind"] == "redo"
        for t, then in sorted(in_force_then.items()):
            event = by_seq.get(t)
            if event is None or event["kind"] not in UNDOABLE:
                continue
            now = not event["undone"]
            if then and not now:
                make_again.append(event)
            elif now and not then:
                take_back.append(event)
    take_back.sort(key=lambda e: -int(e["seq"]))
    ops: list[Op] = []
    for e in take_back:
        ops += json.loads(e["inverse"] or "[]")
    for e in make_again:
        ops += json.loads(e["payload"]).get("ops", [])
    return ops


class BoardTimeline:
    """A board's history in words, and restore to a point. Reached as ``wb.boards.timeline``."""

    def __init__(self, boards: BoardsBase) -> None:
        self._boards = boards

    def events(self, user: User | None, board_id: str, *, token: str | None = None,
               limit: int = 200) -> list[TimelineEntry]:
        """The board's changes as readable entries, newest first (sharing changes: the owner only).

        >>> [e.description for e in wb.boards.timeline.events(me, board.id, limit=3)]
        ['Ana moved 3 cards', 'Guest added a note', 'Ana created the board']
        """
        if not isinstance(limit, int) or not 1 <= limit <= 1000:
            raise InvalidInput("Ask for between 1 and 1000 timeline entries.")
        access = self._boards._access(user, board_id, token)
        hide = "" if access.receives("share") else " AND kind <> 'share'"
        rows = self._boards._db.query(
            f"SELECT * FROM board_events WHERE board_id = ?{hide} ORDER BY seq DESC LIMIT ?", [board_id, limit])
        names: dict[str, str] = {}
        return [self._entry(event_from_row(r), names) for r in rows]

    def _entry(self, event: BoardEvent, names: dict[str, str]) -> TimelineEntry:
        name = self._signed(event) or str(event.payload.get("by") or "") or self._name(event.actor, names)
        return TimelineEntry(event.seq, event.kind, event.actor, name, describe_event(event.kind, event.payload),
                             event.created_at, event.undone)

    @staticmethod
    def _signed(event: BoardEvent) -> str:
        """The name a guest signed a new comment with (a guest's other changes are "Guest")."""
        comment = event.payload.get("comment")
        if event.kind == "comment" and event.payload.get("action") == "added" and isinstance(comment, dict):
            return str(comment.get("author_name") or "")
        return ""

    def _name(self, actor: str, names: dict[str, str]) -> str:
        """The name an older event (recorded before events carried one) is shown under."""
        if actor.startswith("link:"):
            return "Guest"
        if actor not in names:
            people = self._boards._accounts
            try:
                person = people.get_user(actor) if people is not None else None
            except NotFound:
                person = None
            names[actor] = (person.display_name or person.email.split("@")[0]) if person else "Someone"
        return names[actor]

    def restore_to(self, user: User | None, board_id: str, seq: int, *, token: str | None = None) -> BoardEvent:
        """Put the board back as it was right after change ``seq``, as one new change (undo takes it back).

        Needs the edit role. Cards added since are taken off, cards removed
        since come back, moved and edited cards return to where and what they
        were. Conflict-free by design: a change on a card someone removed
        meanwhile is skipped. Returns the new change's event.
        """
        # core builds the timeline: importing it at the top would loop
        from workbench.boards.core import Change

        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise InvalidInput(f"Choose a point in the board's timeline (a change number from 1), not {seq!r}.")
        marker = "rs_" + uuid.uuid4().hex[:16]

        def build(cur: Tx, access: Access, now: datetime) -> Change[None]:
            revision = int(cur.scalar("SELECT revision FROM boards WHERE id = ?", [board_id]))
            if seq >= revision:
                raise InvalidInput(f"Change #{seq} is the board's latest (or later); there is nothing to go back to.")
            before = _state(cur, board_id)
            apply_ops(cur, board_id, _plan(cur, board_id, seq), now)
            after = _state(cur, board_id)
            if len(after[0]) > MAX_ITEMS:
                raise InvalidInput(f"Going back to change #{seq} would put more than {MAX_ITEMS} items on the board.")
            ops = _diff(before, after)
            if not ops:
                raise InvalidInput(f"The board already looks as it did after change #{seq}; nothing to restore.")
            ids = sorted({op.get("id") or op["item"]["id"] for op in ops if op["op"] != "board"})
            payload = {"restored_to": seq, "restore": marker, "ids": ids, "fields": [], "ops": ops}
            return Change(None, "update", payload, _diff(after, before))

        self._boards._change(user, board_id, token, need="edit", action="restore an earlier version of it",
                             build=build)
        row = self._boards._db.query_one(
            "SELECT * FROM board_events WHERE board_id = ? AND kind = 'update' AND contains(payload, ?)"
            " ORDER BY seq DESC LIMIT 1", [board_id, marker])
        assert row is not None, "the restore's event was committed with the change"
        return event_from_row(row)
