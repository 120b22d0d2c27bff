"""What every part of the boards domain shares: the stores, access checks and the change path.

Every change to a board goes through :meth:`BoardsBase._change`: one
transaction on the metadata store's single write path that checks the actor's
role, makes the change and writes its one event. A failure anywhere rolls the
whole transaction back, so a refused or broken change leaves nothing behind.
Subscribers hear about the event only after it is committed: at once in this
process, and through the event bus in every other process that shares the
metadata (see :mod:`workbench.boards.feed`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any, Generic, Protocol, TypeVar

from store import MetadataStore, Tx
from store.bus import EventBus, InProcessBus
from workbench.accounts import User
from workbench.boards.access import Access, cursor_reader, resolve
from workbench.boards.feed import BoardFeed
from workbench.boards.history import Listener, Op, apply_ops, insert_ops, record_event
from workbench.boards.model import GRACE_DAYS, Board, BoardEvent, BoardItem, utcnow
from workbench.boards.timeline import BoardTimeline
from workbench.library.catalog import Library
from workbench.library.model import LibraryImage
from workbench.limits import RateLimits

__all__ = ["BoardsBase", "Change", "DocumentSource", "People", "actor_name", "open_thumbnail"]

log = logging.getLogger(__name__)
T = TypeVar("T")


class Document(Protocol):
    """A writing document, as far as a script excerpt needs it."""

    @property
    def id(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def body(self) -> str: ...


class DocumentSource(Protocol):
    """The writing domain as boards need it: a document the acting user may read."""

    def get(self, user: User, document_id: str) -> Document: ...


class People(Protocol):
    """The accounts domain as sharing needs it: find a person by email or id."""

    def find_by_email(self, email: str) -> User | None: ...

    def get_user(self, user_id: str) -> User: ...


@dataclass
class Change(Generic[T]):
    """What a change did: its result for the caller, and the event to record (None: nothing changed)."""

    result: T
    kind: str = ""
    payload: dict[str, Any] = field(default_factory=dict)
    inverse: list[Op] | None = None
    record: bool = True


class BoardsBase:
    """Stores, access checks and the one change path the boards domain is built on."""

    def __init__(
        self,
        db: MetadataStore,
        library: Library,
        writing: DocumentSource | None = None,
        *,
        accounts: People | None = None,
        grace_days: int = GRACE_DAYS,
        limits: RateLimits | None = None,
        bus: EventBus | None = None,
    ) -> None:
        self._db = db
        self._limits = limits
        self._library = library
        self._writing = writing
        self._accounts = accounts
        self.grace_days = grace_days
        # ``bus``: how other processes hear of this one's changes and it of theirs (the
        # Workbench passes the one its metadata backend needs; none: this process only).
        self._feed = BoardFeed(db, bus or InProcessBus())
        self.timeline = BoardTimeline(self)  # the history in words, and restore to a point

    # -- real-time seam ----------------------------------------------------------------
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(event)`` after every committed board change; returns an unsubscribe function.

        With several replicas sharing the metadata, every replica's listeners hear every
        replica's changes, once each and in order per board. Keep a listener quick: it runs on
        the thread that made or heard the change (one that raises is logged and skipped).

        >>> stop = wb.boards.subscribe(lambda event: print(event.board_id, event.kind))
        >>> stop()
        """
        return self._feed.add(listener)

    # -- access --------------------------------------------------------------------------
    def _access(
        self, user: User | None, board_id: str, token: str | None, *, need: str = "view", action: str = "",
        allow_deleted: bool = False,
    ) -> Access:
        access = resolve(lambda sql, params: self._db.query(sql, list(params)), user, board_id, token,
                         allow_deleted=allow_deleted)
        access.require(need, action or "do that")
        return access

    # -- the change path -----------------------------------------------------------------
    def _change(
        self,
        user: User | None,
        board_id: str,
        token: str | None,
        *,
        need: str,
        action: str,
        build: Callable[[Tx, Access, datetime], Change[T]],
        allow_deleted: bool = False,
    ) -> T:
        """Check the role and make one change with its event, all in one transaction."""
        # Checked once outside for a fast, read-only refusal, then again inside the
        # transaction: a link revoked a moment ago must not let a change through.
        self._access(user, board_id, token, need=need, action=action, allow_deleted=allow_deleted)

        def work(cur: Tx) -> tuple[T, BoardEvent | None]:
            access = resolve(cursor_reader(cur), user, board_id, token, allow_deleted=allow_deleted)
            access.require(need, action)
            now = utcnow()
            change = build(cur, access, now)
            if not change.record:
                return change.result, None
            # "by": the name a co-editor's view shows ("Ana changed this note while you were editing").
            payload = {**change.payload, "by": actor_name(access)}
            event = record_event(cur, board_id, access.actor, change.kind, payload, change.inverse, now)
            self._feed.publish(cur, event)
            return change.result, event

        result, event = self._db.write(work)
        if event is not None:
            self._feed.committed([event])
        return result

    def _record_new_board(
        self, cur: Tx, board_id: str, owner: str, title: str, description: str,
        now: datetime,
    ) -> None:
        cur.execute(
            "INSERT INTO boards (id, owner, title, description, status, deleted_at, revision, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, 'active', NULL, 0, ?, ?)",
            [board_id, owner, title, description, now, now],
        )

    def _board(self, user: User | None, board_id: str, token: str | None = None, **kw: Any) -> Board:
        access = self._access(user, board_id, token, **kw)
        row = self._db.query_one(
            "SELECT count(*) AS n, (SELECT image_id FROM board_items WHERE board_id = ? AND kind = 'image'"
            " ORDER BY z DESC, id LIMIT 1) AS cover FROM board_items WHERE board_id = ?", [board_id, board_id])
        assert row is not None
        return Board.from_row(access.board, access.role, int(row["n"]), row["cover"])

    def _create_with(self, user: User, board_id: str, title: str, description: str, items: list[BoardItem],
                     payload: dict[str, Any], kind: str = "create") -> None:
        """A new board with its first items and its first event, in one transaction."""

        def work(cur: Tx) -> BoardEvent:
            now = utcnow()
            self._record_new_board(cur, board_id, user.id, title, description, now)
            ops, _ = insert_ops(items)
            apply_ops(cur, board_id, ops, now)
            event = record_event(cur, board_id, user.id, kind, {**payload, "count": len(items)}, None, now)
            self._feed.publish(cur, event)
            return event

        self._notify([self._db.write(work)])

    def _notify(self, events: list[BoardEvent]) -> None:
        self._feed.committed(events)


def actor_name(access: Access) -> str:
    """The name a change is shown under: the person's display name, or "Guest" for a link holder."""
    if access.user is not None:
        return access.user.display_name or access.user.email.split("@")[0] or "Someone"
    return "Guest"


def open_thumbnail(library: Library, image: LibraryImage) -> IO[bytes]:
    """A stream of an image's stored thumbnail; access is checked by the caller (like ``open_original``)."""
    return library.open_thumbnail(image)
