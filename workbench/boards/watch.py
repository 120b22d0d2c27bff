"""One viewer's live stream of one board: every event they may receive, in order, exactly once.

:meth:`BoardWatching.watch` is what an open board view (the web page, a notebook)
listens to. It sits on the board feed (:mod:`workbench.boards.feed`, which hears
every process's changes on a shared backend) and adds what a single viewer needs:

- **only their board**, dispatched by board id (a change on another board costs a
  watcher nothing);
- **in sequence order, exactly once**: each watch keeps the last sequence number it
  passed on; an event at or below it is a duplicate and dropped, an event past the
  next one means the ones in between were missed (events of one process can reach
  listeners out of order when several threads write), so they are read from
  ``board_events`` and passed on first. A gap is repaired, never skipped;
- **catch-up**: with ``since`` the watch first replays the events after ``since``,
  while live events wait in a buffer, then drains the buffer (no gap, no duplicate);
- **visibility**, decided here and nowhere else (:meth:`Access.receives`): sharing
  events reach the owner only, everything else (comments included) everyone who may
  view. Sequence numbers of hidden events still advance, so hiding is not a gap;
- **access that ends**: a change to who may open the board (a share event, the board
  going to the trash) or the viewer's link expiring makes the watch check again on
  the next event. A viewer who lost access gets one last :class:`BoardEvent` of kind
  ``access_ended`` (``payload["reason"]`` says why, ``seq`` is the last one they saw)
  and nothing after it; the watch removes itself.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from workbench.accounts import User
from workbench.boards.access import Access
from workbench.boards.core import BoardsBase
from workbench.boards.feed import BoardFeed
from workbench.boards.history import Listener, event_from_row
from workbench.boards.model import BoardEvent, utcnow
from workbench.errors import Forbidden, InvalidInput, NotFound

__all__ = ["BoardWatching", "ACCESS_ENDED"]

log = logging.getLogger(__name__)

ACCESS_ENDED = "access_ended"
# Events that can change who may open a board: after one, each watch of the board checks again.
_ACCESS_KINDS = frozenset({"share", "delete"})
_PAGE = 1000


class _Watch:
    """One listener on one board, with the viewer's access and the last sequence number passed on."""

    def __init__(self, boards: BoardWatching, user: User | None, board_id: str, token: str | None,
                 listener: Listener, access: Access, last: int) -> None:
        self.boards, self.user, self.board_id, self.token = boards, user, board_id, token
        self.listener = listener
        self.access = access
        self.last = last
        self.expires_at = boards._link_expiry(access)
        self.lock = threading.RLock()  # re-entrant: a listener may itself change the board
        self.ready = False
        self.ended = False
        self.pending: list[BoardEvent] = []
        self.stop: Callable[[], None] = lambda: None

    def offer(self, event: BoardEvent) -> None:
        """An event of this board from the feed (any thread)."""
        with self.lock:
            if self.ended:
                return
            if not self.ready:
                self.pending.append(event)  # the catch-up is still running
                return
            self.take(event)

    def take(self, event: BoardEvent) -> None:
        if event.seq <= self.last:
            return  # heard already (a catch-up read it, or a gap repair)
        if event.seq > self.last + 1:
            self.fill(event.seq)
        if not self.ended and event.seq > self.last:
            self.pass_on(event)

    def fill(self, upto: int | None) -> None:
        """Read and pass on the events after the last one passed on (below ``upto``, or all)."""
        while not self.ended:
            sql = "SELECT * FROM board_events WHERE board_id = ? AND seq > ?"
            params: list[object] = [self.board_id, self.last]
            if upto is not None:
                sql += " AND seq < ?"
                params.append(upto)
            rows = self.boards._db.query(sql + " ORDER BY seq LIMIT ?", [*params, _PAGE])
            for row in rows:
                self.pass_on(event_from_row(row))
                if self.ended:
                    return
            if len(rows) < _PAGE:
                return

    def pass_on(self, event: BoardEvent) -> None:
        self.last = event.seq
        if event.kind in _ACCESS_KINDS or (self.expires_at is not None and utcnow() >= self.expires_at):
            try:
                self.access = self.boards._access(self.user, self.board_id, self.token)
                self.expires_at = self.boards._link_expiry(self.access)
            except (NotFound, Forbidden) as error:
                self.end(str(error), event.created_at)
                return
        if self.access.receives(event.kind):
            self.call(event)

    def end(self, reason: str, when: datetime) -> None:
        self.ended = True
        self.stop()
        self.call(BoardEvent("", self.board_id, self.last, "", ACCESS_ENDED, {"reason": reason}, False, when))

    def call(self, event: BoardEvent) -> None:
        try:
            self.listener(event)
        except Exception:  # a broken viewer must not stop the others, nor the change that was made
            log.exception("board watcher failed on %s #%s", event.board_id, event.seq)


class _Watchers:
    """The watches of this process, by board, fed by one feed listener."""

    def __init__(self, feed: BoardFeed) -> None:
        self._feed = feed
        self._lock = threading.Lock()
        self._by_board: dict[str, list[_Watch]] = {}
        self._unsubscribe: Callable[[], None] | None = None

    def add(self, watch: _Watch) -> Callable[[], None]:
        with self._lock:
            if self._unsubscribe is None:
                self._unsubscribe = self._feed.add(self._dispatch)
            self._by_board.setdefault(watch.board_id, []).append(watch)

        def remove() -> None:
            with self._lock:
                watches = self._by_board.get(watch.board_id, [])
                if watch in watches:
                    watches.remove(watch)
                if not watches:
                    self._by_board.pop(watch.board_id, None)

        return remove

    def _dispatch(self, event: BoardEvent) -> None:
        with self._lock:
            watches = list(self._by_board.get(event.board_id, ()))
        for watch in watches:
            watch.offer(event)


class BoardWatching(BoardsBase):
    """The filtered live stream of :class:`~workbench.boards.Boards`."""

    _watchers: _Watchers

    def watch(self, user: User | None, board_id: str, listener: Listener, *, token: str | None = None,
              since: int | None = None) -> Callable[[], None]:
        """Call ``listener(event)`` with every event of one board this viewer may receive; returns a stop function.

        Events come in sequence order, each once: first (with ``since``) the ones after
        ``since`` that the viewer missed, then live ones, with no gap and no duplicate. Pass
        ``since=view.board.revision`` of the :meth:`get` the view was drawn from; without
        it the stream starts at the board's revision now. Sharing events go to the owner
        only. When the viewer loses access (link revoked or expired, membership taken away,
        board deleted), the next event brings a last ``BoardEvent`` of kind
        ``"access_ended"`` with ``payload["reason"]``, and the stream stops.

        The listener runs on the thread that made or heard the change: keep it quick (hand
        the event to the view's own loop) and do not change boards from inside it.

        >>> stop = wb.boards.watch(me, board.id, lambda e: print(e.seq, e.kind), since=view.board.revision)
        >>> stop()
        """
        if since is not None and (not isinstance(since, int) or isinstance(since, bool) or since < 0):
            raise InvalidInput("Catch up from a sequence number: a whole number, 0 or more.")
        access = self._access(user, board_id, token)
        watch = _Watch(self, user, board_id, token, listener, access,
                       since if since is not None else int(access.board["revision"]))
        # Registered before reading what was missed: whatever is committed meanwhile waits in
        # the buffer, and the duplicate check drops what the catch-up already passed on.
        watch.stop = self._watchers.add(watch)
        with watch.lock:
            try:
                # Also without ``since``: a change committed between reading the revision and
                # registering would otherwise wait for the next change to be noticed as a gap.
                watch.fill(None)
            finally:
                watch.ready = True
                pending, watch.pending = sorted(watch.pending, key=lambda e: e.seq), []
                for event in pending:
                    if watch.ended:
                        break
                    watch.take(event)
        return watch.stop

    def _link_expiry(self, access: Access) -> datetime | None:
        """When the viewer's link stops working, if their access comes from a link that expires."""
        if access.person_role is not None or access.link_id is None:
            return None
        row = self._db.query_one("SELECT expires_at FROM share_links WHERE id = ?", [access.link_id])
        return row["expires_at"] if row else None
