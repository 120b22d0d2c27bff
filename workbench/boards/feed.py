"""Who hears about board changes: this process's listeners, told every committed event once, in order.

On the embedded default one process writes the metadata, so the events it has
just committed are all there is: they go to the listeners straight after the
write, as they always have.

When several processes write (metadata in PostgreSQL), the event bus only says
"board X reached sequence number N". The feed keeps the last number it delivered
per board and reads everything after it from ``board_events``, in order, so each
listener gets every process's events exactly once and in sequence per board,
whether the news came from this process's own write, a notification, a reconnect
or the bus's safety poll (which compares each board's revision, its last event's
number, with what was delivered).
"""

from __future__ import annotations

import logging
import threading
import zlib
from collections.abc import Callable, Iterable

from store import MetadataStore, Tx
from store.bus import EventBus
from workbench.boards.history import Listener, Listeners, event_from_row
from workbench.boards.model import BoardEvent

__all__ = ["BoardFeed"]

log = logging.getLogger(__name__)

# Deliveries for one board take turns (so its events stay in order); boards are spread
# over a fixed set of locks. Re-entrant: a listener may itself change a board.
_STRIPES = 64


class BoardFeed:
    """This process's board listeners and the bus that tells it about other processes' changes."""

    def __init__(self, db: MetadataStore, bus: EventBus) -> None:
        self._db = db
        self._bus = bus
        self._listeners = Listeners()
        self._last_seen: dict[str, int] = {}
        self._seen_lock = threading.Lock()
        self._turns = [threading.RLock() for _ in range(_STRIPES)]
        self._stop: Callable[[], None] | None = None
        if bus.shared:
            # The starting line: what is already committed counts as heard. Taken before
            # subscribing, and the resync after it reads whatever landed in between.
            self._last_seen.update(self._revisions())
            self._stop = bus.subscribe(self._heard, resync=self._resync)
            self._resync()

    @property
    def bus(self) -> EventBus:
        """The event bus this feed listens to."""
        return self._bus

    def add(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(event)`` for every committed board event; returns an unsubscribe function."""
        return self._listeners.add(listener)

    def publish(self, tx: Tx, event: BoardEvent) -> None:
        """Announce ``event`` on the bus, in the transaction that records it."""
        self._bus.publish(tx, event.board_id, event.seq)

    def committed(self, events: Iterable[BoardEvent]) -> None:
        """Tell the listeners about events this process has just committed."""
        events = list(events)
        if not self._bus.shared:
            self._listeners.notify(events)
            return
        for event in events:
            with self._turn(event.board_id):
                last = self._seen(event.board_id)
                if event.seq == last + 1:
                    self._deliver([event])  # nothing in between: no need to read it back
                elif event.seq > last:
                    self._catch_up(event.board_id)

    def close(self) -> None:
        """Stop hearing the bus (the bus itself is closed by its owner)."""
        if self._stop is not None:
            self._stop()
            self._stop = None

    # -- other processes' events -----------------------------------------------------------
    def _heard(self, board_id: str, seq: int) -> None:
        if seq > self._seen(board_id):
            with self._turn(board_id):
                self._catch_up(board_id)

    def _resync(self) -> None:
        behind = [board_id for board_id, revision in self._revisions().items() if revision > self._seen(board_id)]
        for board_id in behind:
            with self._turn(board_id):
                self._catch_up(board_id)

    def _revisions(self) -> dict[str, int]:
        # A board's revision is the sequence number of its last event (both set in one transaction).
        rows = self._db.query("SELECT id, revision FROM boards WHERE revision > 0")
        return {row["id"]: int(row["revision"]) for row in rows}

    def _catch_up(self, board_id: str) -> None:
        """Read and deliver the board's events after the last one delivered (the caller holds its turn)."""
        rows = self._db.query("SELECT * FROM board_events WHERE board_id = ? AND seq > ? ORDER BY seq",
                              [board_id, self._seen(board_id)])
        self._deliver([event_from_row(row) for row in rows])

    def _deliver(self, events: list[BoardEvent]) -> None:
        for event in events:
            # Checked again per event: a listener that changed this board meanwhile has already
            # delivered the later ones (the turn is re-entrant).
            if event.seq <= self._seen(event.board_id):
                continue
            with self._seen_lock:
                self._last_seen[event.board_id] = event.seq
            self._listeners.notify([event])

    # -- bookkeeping -------------------------------------------------------------------------
    def _seen(self, board_id: str) -> int:
        with self._seen_lock:
            return self._last_seen.get(board_id, 0)

    def _turn(self, board_id: str) -> threading.RLock:
        return self._turns[zlib.crc32(board_id.encode()) % _STRIPES]
