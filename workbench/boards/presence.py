"""Who has a board open right now: their name, initials and colour, their selection and cursor.

``wb.boards.presence`` is one :class:`BoardPresence`. An open view joins with a
session id of its own (one per tab), beats every second or two with what is
selected and where the pointer is, and leaves when it closes. A view that stops
beating (a closed tab, a lost connection) drops off the list 10 seconds after
its last beat; its row is deleted by the first join after a minute. Rows live in
the ``board_presence`` table, so every replica lists everyone, whichever replica
they are connected to.

A beat is one UPDATE of one row by its key and checks no access (it is the hot
path: 25 viewers beat 12 to 25 times a second). Access is checked when a view
joins and when anyone lists who is there; a link that is revoked (or a member
taken off the board) takes its rows with it, and an expired link's rows are no
longer listed, so a beat from it finds nothing and the view must join again,
which is refused.

    >>> me_here = wb.boards.presence.join(me, board.id, session_id=tab_id)
    >>> wb.boards.presence.beat(tab_id, selection=[card.id], cursor=(120.0, 340.5))
    >>> [p.name for p in wb.boards.presence.present(me, board.id)]
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from store import Tx
from workbench.accounts import User
from workbench.boards.access import cursor_reader, resolve
from workbench.boards.comments import guest_name
from workbench.boards.core import BoardsBase, actor_name
from workbench.boards.model import MAX_ITEMS, check_point, utcnow
from workbench.errors import InvalidInput

__all__ = ["BoardPresence", "Presence", "PALETTE", "PRESENT_FOR", "forget_presence", "initials"]

#: How long after its last beat a view is still listed.
PRESENT_FOR = timedelta(seconds=10)
# Rows older than this are deleted when anyone joins a board (cheap: the table holds the open views).
_FORGET_AFTER = timedelta(seconds=60)
#: Presence colours: distinct from each other on white and on black, none of them grey.
PALETTE = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#9a6324",
           "#469990", "#800000", "#808000", "#000075")
_SESSION = re.compile(r"[A-Za-z0-9_\-:.]{8,128}")


@dataclass(frozen=True)
class Presence:
    """One open view of a board: who (``user_id`` None for a guest), how to draw them, and what they point at."""

    session_id: str
    board_id: str
    user_id: str | None
    name: str
    initials: str
    colour: str
    selection: tuple[str, ...]
    cursor: tuple[float, float] | None
    guest: bool
    seen_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Presence:
        cursor = (float(row["cursor_x"]), float(row["cursor_y"])) if row["cursor_x"] is not None else None
        return cls(
            session_id=row["session_id"], board_id=row["board_id"], user_id=row["user_id"], name=row["name"],
            initials=initials(row["name"]), colour=row["colour"], selection=tuple(json.loads(row["selection"])),
            cursor=cursor, guest=bool(row["guest"]), seen_at=row["seen_at"],
        )


def initials(name: str) -> str:
    """Up to two capital letters for an avatar: "Ana Lima" -> "AL", "ben" -> "B", "" -> "?"."""
    words = [w for w in re.split(r"[\s._\-@]+", name) if w and w[0].isalnum()]
    return "".join(w[0] for w in words[:2]).upper() or "?"


def colour_for(key: str) -> str:
    """The person's own colour: the same on every replica, every day; a board gives it to them when
    nobody else there has it (else the next free one, see ``join``)."""
    return PALETTE[zlib.crc32(key.encode("utf-8", "surrogatepass")) % len(PALETTE)]


def _free_colour(cur: Tx, board_id: str, session: str, user_id: str | None, now: datetime) -> str:
    """The colour this view joins ``board_id`` with: one nobody else on the board has now.

    The person's own colour (:func:`colour_for`) when it is free, so they keep it from board
    to board; their other open tab's colour if they have one here (one person, one colour);
    else the next free palette colour after their own, in palette order (deterministic:
    the same people joining in the same order get the same colours). With every colour
    taken (more than 12 people) two share one again, their own. Joins go through the one
    write path and claim the board's row, so two people joining at once, even on two replicas,
    do not both take the same free colour.
    """
    key = user_id if user_id is not None else session
    own = colour_for(key)
    rows = cur.execute("SELECT user_id, colour FROM board_presence WHERE board_id = ? AND session_id <> ?"
                       " AND seen_at >= ?", [board_id, session, now - PRESENT_FOR]).fetchall()
    if user_id is not None:
        mine = [str(colour) for uid, colour in rows if uid == user_id]
        if mine:
            return mine[0]
    taken = {str(colour) for uid, colour in rows if user_id is None or uid != user_id}
    start = PALETTE.index(own)
    for step in range(len(PALETTE)):
        colour = PALETTE[(start + step) % len(PALETTE)]
        if colour not in taken:
            return colour
    return own


def _session(session_id: Any) -> str:
    if not isinstance(session_id, str) or not _SESSION.fullmatch(session_id):
        raise InvalidInput("A presence session id is 8 to 128 letters, digits or -_:. characters.")
    return session_id


def _selection(selection: Iterable[str]) -> list[str]:
    if isinstance(selection, str):
        raise InvalidInput("A selection is a list of card ids, not one string.")
    ids = list(dict.fromkeys(selection))
    if len(ids) > MAX_ITEMS or not all(isinstance(i, str) and 0 < len(i) <= 64 for i in ids):
        raise InvalidInput(f"A selection is at most {MAX_ITEMS} card ids.")
    return ids


class BoardPresence:
    """Who is on which board. Reached as ``wb.boards.presence``."""

    def __init__(self, boards: BoardsBase) -> None:
        self._boards = boards
        self._db = boards._db

    def join(self, user: User | None, board_id: str, *, token: str | None = None, session_id: str,
             display_name: str = "") -> Presence:
        """Say that this view (``session_id``, unique per open tab) has the board open; returns how it is shown.

        ``session_id`` is the view's own secret (make it with ``secrets.token_urlsafe``):
        beats and leaving go by it alone, which keeps a beat one cheap write.

        A signed-in person is shown by their name from the accounts domain; a guest by
        ``display_name`` (cleaned, one line, 60 characters at most) or "Guest". Joining
        again with the same session id (a reconnect) is fine. The colour is one nobody
        else on the board has now (up to 12 people; see ``_free_colour``).
        """
        session = _session(session_id)

        def work(cur: Tx) -> Presence:
            access = resolve(cursor_reader(cur), user, board_id, token)  # a revoked link cannot join
            now = utcnow()
            name = actor_name(access) if access.user is not None else guest_name(display_name)
            link_id = access.link_id if access.person_role is None else None
            # Claim the board's row first: two joins of one board at once (two replicas on a shared
            # database) then conflict, and the one retried sees the other's colour as taken.
            cur.execute("UPDATE boards SET revision = revision WHERE id = ?", [board_id])
            colour = _free_colour(cur, board_id, session, access.user.id if access.user is not None else None,
                                  now)
            taken = cur.execute("SELECT board_id, user_id, link_id FROM board_presence WHERE session_id = ?",
                                [session]).fetchone()
            if taken is not None and tuple(taken) != (board_id, access.user.id if access.user else None, link_id):
                # Someone else's view (or another board's): a session id is the view's own secret.
                raise InvalidInput("This presence session id is in use by another view; make a new one.")
            # Long-silent views of any board go here, so the table holds little more than the open views.
            cur.execute("DELETE FROM board_presence WHERE session_id = ? OR seen_at < ?", [session, now - _FORGET_AFTER])
            cur.execute(
                "INSERT INTO board_presence (session_id, board_id, user_id, link_id, name, colour, guest, selection,"
                " cursor_x, cursor_y, joined_at, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, '[]', NULL, NULL, ?, ?)",
                [session, board_id, access.user.id if access.user else None, link_id, name, colour,
                 access.user is None, now, now])
            return Presence(session, board_id, access.user.id if access.user else None, name, initials(name), colour,
                            (), None, access.user is None, now)

        self._boards._access(user, board_id, token)  # the quick refusal, before taking the write path
        return self._db.write(work)

    def beat(self, session_id: str, *, selection: Iterable[str] = (),
             cursor: tuple[float, float] | None = None) -> bool:
        """The view is still open: its selection (card ids) and cursor (board coordinates, or None).

        Returns False when the session is no longer on the board (it left, was forgotten
        after a long silence, or its access was taken away): join again.
        """
        session = _session(session_id)
        ids = _selection(selection)
        x, y = check_point(*cursor) if cursor is not None else (None, None)
        updated = self._db.write(lambda cur: cur.scalar(
            "UPDATE board_presence SET selection = ?, cursor_x = ?, cursor_y = ?, seen_at = ? WHERE session_id = ?",
            [json.dumps(ids), x, y, utcnow(), session]))
        return bool(updated)

    def leave(self, session_id: str) -> None:
        """The view closed: it leaves the list at once (leaving twice is fine)."""
        session = _session(session_id)
        self._db.write(lambda cur: cur.execute("DELETE FROM board_presence WHERE session_id = ?", [session]))

    def present(self, user: User | None, board_id: str, *, token: str | None = None) -> list[Presence]:
        """Everyone with the board open now (a beat within the last 10 s), first to join first.

        The caller's own views are in the list too (tell them apart by ``session_id``).
        A guest whose link expired is no longer listed.
        """
        self._boards._access(user, board_id, token)
        now = utcnow()
        rows = self._db.query(
            "SELECT p.* FROM board_presence p LEFT JOIN share_links l ON l.id = p.link_id"
            " WHERE p.board_id = ? AND p.seen_at >= ? AND (p.link_id IS NULL OR"
            " (l.revoked_at IS NULL AND (l.expires_at IS NULL OR l.expires_at > ?)))"
            " ORDER BY p.joined_at, p.session_id", [board_id, now - PRESENT_FOR, now])
        return [Presence.from_row(r) for r in rows]


def forget_presence(cur: Tx, board_id: str, *, link_id: str | None = None, user_id: str | None = None) -> None:
    """Take the rows of a revoked link or a removed member off the board (inside their change)."""
    if link_id is not None:
        cur.execute("DELETE FROM board_presence WHERE board_id = ? AND link_id = ?", [board_id, link_id])
    if user_id is not None:
        cur.execute("DELETE FROM board_presence WHERE board_id = ? AND user_id = ?", [board_id, user_id])
