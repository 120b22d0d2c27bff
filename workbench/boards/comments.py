"""Comments on a board: threads pinned to a card or a spot on the canvas, resolved and reopened.

``wb.boards.comments`` is one :class:`BoardComments`. Everyone who can open a
board sees its comments. Who may write them: the owner, every named member (a
view member too), and holders of a ``comment`` or ``edit`` share link; a
``view`` link only reads. A guest (a link holder who is not signed in) signs
with a display name, or appears as "Guest"; a signed-in person's name comes
from the accounts domain, whatever they type.

A comment's text is user text: it passes :func:`~workbench.text.clean_text`
(5 000 characters at most) and is stored as typed, never as markup; whoever
shows it escapes it. ``@name`` mentions of the owner or a member (by display
name, first name, the part of the email before the ``@``, or the whole email)
are resolved to user ids and stored with the comment.

Each change records one board event of kind ``comment`` (``payload["action"]``
is ``added``, ``resolved``, ``reopened`` or ``deleted``, ``payload["comment"]``
the comment, or for ``resolved``/``reopened`` its whole thread, as plain JSON), so
comments arrive on every open view through :meth:`~workbench.boards.Boards.watch`.
Comments are not undoable. Deleting one deletes its words everywhere: the
``deleted`` event carries only ids (``payload["ids"]``, the thread's replies
too), and earlier events of that comment are blanked.

    >>> c = wb.boards.comments.add(me, board.id, "Warmer here? @ben", item_id=card.id)
    >>> wb.boards.comments.add(None, board.id, "Agreed", token=token, parent_id=c.id, display_name="Dee")
    >>> wb.boards.comments.resolve(me, board.id, c.id)
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from store import MetadataStore, Tx
from workbench.accounts import User
from workbench.boards.access import Access, cursor_reader
from workbench.boards.core import BoardsBase, Change, actor_name
from workbench.boards.history import deleted_by
from workbench.boards.model import check_point
from workbench.errors import Conflict, Forbidden, InvalidInput, NotFound
from workbench.text import clean_text

__all__ = ["BoardComments", "Comment", "MAX_COMMENT", "MAX_DISPLAY_NAME", "guest_name", "load_threads"]

MAX_COMMENT = 5000
MAX_DISPLAY_NAME = 60
MAX_COMMENTS = 5000  # per board: past this a board is a chat room, not a board
_MENTION = re.compile(r"(?<![\w@])@([\w][\w.+-]*(?:@[\w-]+(?:\.[\w-]+)+)?)")


@dataclass(frozen=True)
class Comment:
    """One comment; a thread's first comment (``parent_id`` None) carries its ``replies``, oldest first.

    ``author`` is who the history names (a user id, or ``link:<link id>`` for a guest);
    ``author_id`` the signed-in author's user id (None for a guest). A thread is pinned
    to ``item_id`` (a card; it may have been deleted since), or to ``x``, ``y`` on the
    canvas, or to neither (the board as a whole); replies share their thread's pin.
    """

    id: str
    board_id: str
    parent_id: str | None
    item_id: str | None
    x: float | None
    y: float | None
    author: str
    author_id: str | None
    author_name: str
    guest: bool
    text: str
    mentions: tuple[str, ...]
    resolved: bool
    resolved_by: str | None
    resolved_at: datetime | None
    created_at: datetime
    updated_at: datetime
    replies: tuple[Comment, ...] = field(default=())

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Comment:
        return cls(
            id=row["id"], board_id=row["board_id"], parent_id=row["parent_id"], item_id=row["item_id"],
            x=row["x"], y=row["y"], author=row["author"], author_id=row["author_id"],
            author_name=row["author_name"], guest=bool(row["guest"]), text=row["body"],
            mentions=tuple(json.loads(row["mentions"] or "[]")), resolved=row["resolved_at"] is not None,
            resolved_by=row["resolved_by"], resolved_at=row["resolved_at"], created_at=row["created_at"],
            updated_at=row["updated_at"],
        )

    def as_json(self) -> dict[str, Any]:
        """The comment as plain JSON values (what its board event and the ZIP export carry)."""
        return {
            "id": self.id, "parent_id": self.parent_id, "item_id": self.item_id, "x": self.x, "y": self.y,
            "author": self.author, "author_id": self.author_id, "author_name": self.author_name,
            "guest": self.guest, "text": self.text, "mentions": list(self.mentions), "resolved": self.resolved,
            "resolved_by": self.resolved_by,
            "resolved_at": self.resolved_at.isoformat() if self.resolved_at else None,
            "created_at": self.created_at.isoformat(), "updated_at": self.updated_at.isoformat(),
            "replies": [reply.as_json() for reply in self.replies],
        }


def guest_name(display_name: Any) -> str:
    """The name a guest signs with: their display name on one line (60 characters at most), or "Guest"."""
    name = clean_text(display_name if display_name is not None else "", field="display name",
                      max_chars=MAX_DISPLAY_NAME)
    return name or "Guest"


def _rows(cur: Tx, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    return cursor_reader(cur)(sql, params)


class BoardComments:
    """The comments of every board. Reached as ``wb.boards.comments``."""

    def __init__(self, boards: BoardsBase) -> None:
        self._boards = boards
        self._db = boards._db

    # -- writing ------------------------------------------------------------------------------
    def add(self, user: User | None, board_id: str, text: str, *, token: str | None = None,
            item_id: str | None = None, x: float | None = None, y: float | None = None,
            parent_id: str | None = None, display_name: str = "") -> Comment:
        """Comment on a board: a new thread pinned to a card (``item_id``) or a canvas spot (``x``, ``y``),
        or, with ``parent_id``, a reply in that comment's thread. Returns the new comment.

        ``display_name`` is how a guest signs (ignored for a signed-in person).
        """
        body = clean_text(text, field="comment", max_chars=MAX_COMMENT, multiline=True).strip()
        if not body:
            raise InvalidInput("Write something first: a comment cannot be empty.")
        if (x is None) != (y is None):
            raise InvalidInput("Pin a comment to a spot with both x and y, or to a card with item_id.")
        spot = check_point(x, y) if x is not None else None
        if parent_id is not None and (item_id is not None or spot is not None):
            raise InvalidInput("A reply goes in its thread, where the thread is pinned; give no card or spot.")
        if item_id is not None and spot is not None:
            raise InvalidInput("Pin a comment either to a card or to a spot on the canvas, not both.")
        for value, what in ((item_id, "card"), (parent_id, "comment")):
            if value is not None and (not isinstance(value, str) or not 0 < len(value) <= 64):
                raise NotFound(f"That {what} is not on this board.")

        def build(cur: Tx, access: Access, now: datetime) -> Change[Comment]:
            _may_comment(access)
            limits = self._boards._limits
            if limits is not None:  # after the role check: someone who may not comment is refused, not slowed
                limits.check(access.actor, "comment")
            if int(cur.scalar("SELECT count(*) FROM board_comments WHERE board_id = ?", [board_id])) >= MAX_COMMENTS:
                raise InvalidInput(f"This board has {MAX_COMMENTS} comments, the most it can hold; "
                                   "delete resolved threads to make room.")
            root, pin_item, pin = None, item_id, spot
            if parent_id is not None:
                root = self._root(cur, board_id, parent_id)
                pin_item, pin = root["item_id"], (root["x"], root["y"]) if root["x"] is not None else None
            elif item_id is not None:
                _card_is_there(cur, board_id, item_id, access.actor)
            comment = Comment(
                id="cm_" + uuid.uuid4().hex[:16], board_id=board_id, parent_id=root["id"] if root else None,
                item_id=pin_item, x=pin[0] if pin else None, y=pin[1] if pin else None, author=access.actor,
                author_id=access.user.id if access.user else None,
                author_name=actor_name(access) if access.user else guest_name(display_name),
                guest=access.user is None,
                text=body, mentions=tuple(self._mentions(cur, access, body)), resolved=False, resolved_by=None,
                resolved_at=None, created_at=now, updated_at=now,
            )
            cur.execute(
                "INSERT INTO board_comments (id, board_id, parent_id, item_id, x, y, author, author_id, author_name,"
                " guest, body, mentions, resolved_at, resolved_by, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?)",
                [comment.id, board_id, comment.parent_id, comment.item_id, comment.x, comment.y, comment.author,
                 comment.author_id, comment.author_name, comment.guest, body, json.dumps(list(comment.mentions)),
                 now, now])
            return Change(comment, "comment", {"action": "added", "comment": comment.as_json(), "ops": []})

        return self._boards._change(user, board_id, token, need="view", action="comment on it", build=build)

    def resolve(self, user: User | None, board_id: str, comment_id: str, *, token: str | None = None) -> Comment:
        """Mark a thread done (given any comment of it); anyone who may comment may resolve."""
        return self._set_resolved(user, board_id, comment_id, token, resolved=True)

    def reopen(self, user: User | None, board_id: str, comment_id: str, *, token: str | None = None) -> Comment:
        """Open a resolved thread again."""
        return self._set_resolved(user, board_id, comment_id, token, resolved=False)

    def _set_resolved(self, user: User | None, board_id: str, comment_id: str, token: str | None, *,
                      resolved: bool) -> Comment:
        def build(cur: Tx, access: Access, now: datetime) -> Change[Comment]:
            _may_comment(access)
            root = self._root(cur, board_id, comment_id)
            changed = (root["resolved_at"] is None) == resolved
            if changed:
                cur.execute("UPDATE board_comments SET resolved_at = ?, resolved_by = ?, updated_at = ? WHERE id = ?",
                            [now if resolved else None, access.actor if resolved else None, now, root["id"]])
            comment = self._thread(cur, board_id, str(root["id"]))
            action = "resolved" if resolved else "reopened"
            return Change(comment, "comment", {"action": action, "comment": comment.as_json(), "ops": []},
                          record=changed)

        word = "resolve comments" if resolved else "reopen comments"
        return self._boards._change(user, board_id, token, need="view", action=word, build=build)

    def delete(self, user: User | None, board_id: str, comment_id: str, *, token: str | None = None) -> None:
        """Delete a comment (its author, or the board's owner); deleting a thread's first comment
        deletes its replies too."""

        def build(cur: Tx, access: Access, now: datetime) -> Change[None]:
            rows = _rows(cur, "SELECT * FROM board_comments WHERE id = ? AND board_id = ?", [comment_id, board_id])
            if not rows:
                raise NotFound("That comment is not on this board (it may have been deleted).")
            row = rows[0]
            if not access.is_owner and row["author"] != access.actor:
                raise Forbidden("Only the comment's author or the board's owner can delete it.")
            gone = [str(r["id"]) for r in _rows(
                cur, "SELECT id FROM board_comments WHERE board_id = ? AND (id = ? OR parent_id = ?)",
                [board_id, comment_id, comment_id])]
            cur.execute("DELETE FROM board_comments WHERE board_id = ? AND list_contains(?, id)", [board_id, gone])
            _scrub_history(cur, board_id, set(gone))
            # The event names what went, never what it said: a deleted comment's words are gone.
            where = {"id": row["id"], "parent_id": row["parent_id"], "item_id": row["item_id"]}
            return Change(None, "comment", {"action": "deleted", "comment": where, "ids": gone, "ops": []})

        self._boards._change(user, board_id, token, need="view", action="delete comments", build=build)

    # -- helpers ------------------------------------------------------------------------------
    def _root(self, cur: Tx, board_id: str, comment_id: str) -> dict[str, Any]:
        """The first comment of the thread ``comment_id`` belongs to."""
        rows = _rows(cur, "SELECT * FROM board_comments WHERE id = ? AND board_id = ?", [comment_id, board_id])
        if rows and rows[0]["parent_id"] is not None:
            rows = _rows(cur, "SELECT * FROM board_comments WHERE id = ? AND board_id = ?",
                         [rows[0]["parent_id"], board_id])
        if not rows:
            raise NotFound("That comment is not on this board (it may have been deleted).")
        return rows[0]

    def _thread(self, cur: Tx, board_id: str, root_id: str) -> Comment:
        rows = _rows(cur, "SELECT * FROM board_comments WHERE board_id = ? AND (id = ? OR parent_id = ?)"
                          " ORDER BY created_at, id", [board_id, root_id, root_id])
        return _threads([Comment.from_row(r) for r in rows])[0]

    def _mentions(self, cur: Tx, access: Access, text: str) -> list[str]:
        """User ids of the owner and members that ``@name`` in the text names (each unambiguously)."""
        handles = {m.rstrip(".+-").lower() for m in _MENTION.findall(text)}
        if not handles:
            return []
        people = [str(access.board["owner"])] + [str(r[0]) for r in cur.execute(
            "SELECT user_id FROM board_members WHERE board_id = ? ORDER BY user_id", [access.board_id]).fetchall()]
        named: dict[str, set[str]] = {}
        for person in people:
            for key in self._handles(person):
                named.setdefault(key, set()).add(person)
        found = [next(iter(named[h])) for h in sorted(handles) if len(named.get(h, ())) == 1]
        return sorted(set(found))

    def _handles(self, user_id: str) -> set[str]:
        keys = {user_id.lower()}
        accounts = self._boards._accounts
        if accounts is None:
            return keys
        try:
            person = accounts.get_user(user_id)
        except NotFound:
            return keys
        email = person.email.lower()
        keys |= {email, email.split("@")[0]}
        name = person.display_name.lower().split()
        if name:
            keys |= {"".join(name), name[0], ".".join(name), "_".join(name)}
        return keys

    # -- reading (defined last: inside this class body the name ``list`` means this method) ------------------------------------------------------------------------------
    def list(self, user: User | None, board_id: str, *, token: str | None = None) -> list[Comment]:
        """The board's threads, oldest first, each with its replies (anyone who may view the board)."""
        self._boards._access(user, board_id, token)
        return load_threads(self._db, board_id)


def _may_comment(access: Access) -> None:
    if not access.may_comment:
        raise Forbidden("This link lets you view the board but not comment on it; ask its owner for a link "
                        "that allows comments.")
    if access.board["status"] == "archived":
        raise Conflict("This board is archived; its owner can unarchive it to open it for comments again.")


def _scrub_history(cur: Tx, board_id: str, gone: set[str]) -> None:
    """Blank the words of deleted comments in the board's earlier comment events (added, resolved...).

    Comment events are never undone or replayed, so their text is only a record; a deleted
    comment must not live on in it. A view catching up later sees it added blank, then deleted.
    """
    marks = " OR ".join(["contains(payload, ?)"] * len(gone))
    rows = cur.execute(f"SELECT id, payload FROM board_events WHERE board_id = ? AND kind = 'comment' AND ({marks})",
                       [board_id, *sorted(gone)]).fetchall()
    for event_id, raw in rows:
        payload = json.loads(raw)
        if _blank(payload.get("comment"), gone):
            cur.execute("UPDATE board_events SET payload = ? WHERE id = ?", [json.dumps(payload), event_id])


def _blank(comment: Any, gone: set[str]) -> bool:
    """Blank ``comment`` (a JSON dict) and its replies where their id is in ``gone``; True if any was."""
    if not isinstance(comment, dict):
        return False
    changed = False
    if comment.get("id") in gone and comment.get("text"):
        comment.update(text="", mentions=[], deleted=True)
        changed = True
    for reply in comment.get("replies") or []:
        changed = _blank(reply, gone) or changed
    return changed


def _card_is_there(cur: Tx, board_id: str, item_id: str, actor: str) -> None:
    if cur.execute("SELECT 1 FROM board_items WHERE board_id = ? AND id = ?", [board_id, item_id]).fetchone():
        return
    by = deleted_by(cur, board_id, item_id)
    if by is None:
        raise NotFound("That card is not on this board.")
    who = "already" if by == actor else "by someone else"
    raise Conflict(f"This card was deleted {who}, so it cannot take a comment; pin it to the canvas instead.")


def load_threads(db: MetadataStore, board_id: str) -> list[Comment]:
    """A board's threads with their replies, oldest first (access is the caller's to check)."""
    rows = db.query("SELECT * FROM board_comments WHERE board_id = ? ORDER BY created_at, id", [board_id])
    return _threads([Comment.from_row(r) for r in rows])


def _threads(comments: list[Comment]) -> list[Comment]:
    """Roots in order, each with its replies (a reply whose root is gone is not shown)."""
    replies: dict[str, list[Comment]] = {}
    for comment in comments:
        if comment.parent_id is not None:
            replies.setdefault(comment.parent_id, []).append(comment)
    return [replace(c, replies=tuple(replies.get(c.id, ()))) for c in comments if c.parent_id is None]
