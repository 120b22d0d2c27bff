"""The board event bus: "board X has reached sequence number N", told to every process that listens.

The bus carries only ``(board_id, seq)``. The events themselves stay in the
``board_events`` table, and a subscriber reads them from there by sequence number,
so a lost notification only delays an event, never loses it.

* :class:`InProcessBus` (the embedded default): one process writes the DuckDB file,
  so its own subscribers are everyone; they are told after each commit.
* :class:`PostgresBus` (metadata in PostgreSQL): ``NOTIFY`` on one fixed channel,
  sent inside the writing transaction on the ``postgres`` backend (PostgreSQL delivers
  it only if and when that transaction commits) or right after the commit on
  ``ducklake`` (whose transactions cannot carry raw SQL). A daemon thread holds a
  dedicated ``LISTEN`` connection; when that connection drops it reconnects with
  backoff and asks its subscribers to *resync* (read what they missed), and every
  ``poll_seconds`` it asks them again anyway, for a notification that never came.

Pick one with :func:`event_bus`.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from store.engines import Engine, _redact
from store.transaction import Tx

__all__ = ["EventBus", "InProcessBus", "PostgresBus", "BusHealth", "Heard", "Resync", "event_bus", "CHANNEL",
           "payload", "parse_payload"]

log = logging.getLogger(__name__)

#: The one PostgreSQL channel board events travel on.
CHANNEL = "workbench_board_events"
#: What a subscriber is told: a board and the sequence number it has reached.
Heard = Callable[[str, int], None]
#: What a subscriber is asked to do after a gap (a reconnect) and on every safety poll: catch up.
Resync = Callable[[], None]

# Board ids are ours ("b_" + hex), but the payload is spliced into SQL: anything else is refused.
_BOARD_ID = re.compile(r"^[A-Za-z0-9_.-]{1,200}$")


def payload(board_id: str, seq: int) -> str:
    """The notification text for one event: ``board_id:seq``."""
    if not _BOARD_ID.match(board_id):
        raise ValueError(f"a board id for the event bus must be letters, digits, '_', '-' or '.': {board_id!r}")
    if int(seq) < 1:
        raise ValueError(f"an event's sequence number starts at 1, not {seq}")
    return f"{board_id}:{int(seq)}"


def parse_payload(text: str) -> tuple[str, int] | None:
    """``(board_id, seq)`` from a notification's text, or None when it is not one of ours."""
    board_id, _, seq = text.rpartition(":")
    if not _BOARD_ID.match(board_id) or not seq.isdigit():
        return None
    return board_id, int(seq)


@dataclass(frozen=True)
class BusHealth:
    """How the bus is doing, for ``workbench doctor``, ``/readyz`` and tests."""

    kind: str
    #: True when notifications from other processes can arrive now (always True in-process).
    listening: bool
    #: Notifications received (PostgreSQL) or delivered (in-process) since start.
    heard: int = 0
    #: How many times the LISTEN connection was lost and made again.
    reconnects: int = 0
    #: Safety polls and resyncs asked of the subscribers.
    resyncs: int = 0
    last_error: str = ""


class _Subscribers:
    """The callbacks of one bus; a failing one is logged and never stops the others."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[tuple[Heard, Resync | None]] = []

    def add(self, heard: Heard, resync: Resync | None) -> Callable[[], None]:
        entry = (heard, resync)
        with self._lock:
            self._items.append(entry)

        def remove() -> None:
            with self._lock:
                if entry in self._items:
                    self._items.remove(entry)

        return remove

    def heard(self, board_id: str, seq: int) -> None:
        with self._lock:
            items = list(self._items)
        for heard, _ in items:
            try:
                heard(board_id, seq)
            except Exception:  # one broken subscriber must not deafen the rest
                log.exception("event bus: a subscriber failed on %s #%s", board_id, seq)

    def resync(self) -> None:
        with self._lock:
            items = [resync for _, resync in self._items if resync is not None]
        for resync in items:
            try:
                resync()
            except Exception:
                log.exception("event bus: a subscriber failed to resync")


class EventBus(ABC):
    """Tells subscribers which board reached which sequence number once that change is committed."""

    #: True when other processes publish on this bus too (subscribers must read events from the table).
    shared: bool = False

    @abstractmethod
    def publish(self, tx: Tx, board_id: str, seq: int) -> None:
        """Announce event ``seq`` of ``board_id``, written in ``tx``: heard only if ``tx`` commits."""

    @abstractmethod
    def subscribe(self, heard: Heard, *, resync: Resync | None = None) -> Callable[[], None]:
        """Call ``heard(board_id, seq)`` for each announcement, ``resync()`` after a gap; returns unsubscribe."""

    @abstractmethod
    def describe(self) -> str:
        """What carries the events, in one line (no password)."""

    @abstractmethod
    def health(self) -> BusHealth:
        """How the bus is doing now."""

    def close(self) -> None:  # noqa: B027 - nothing to release in-process
        """Stop listening and release connections (idempotent)."""


class InProcessBus(EventBus):
    """Subscribers in this process, told after each commit (the embedded default: one writer process)."""

    shared = False

    def __init__(self) -> None:
        self._subscribers = _Subscribers()
        self._heard = 0

    def publish(self, tx: Tx, board_id: str, seq: int) -> None:
        """Tell this process's subscribers after ``tx`` commits (never if it rolls back)."""
        payload(board_id, seq)  # the same rule as on PostgreSQL, so a bad id fails the same everywhere

        def deliver() -> None:
            self._heard += 1
            self._subscribers.heard(board_id, seq)

        tx.after_commit(deliver)

    def subscribe(self, heard: Heard, *, resync: Resync | None = None) -> Callable[[], None]:
        """Subscribe in this process; nothing can be missed here, so ``resync`` is never called."""
        return self._subscribers.add(heard, resync)

    def describe(self) -> str:
        """Where the events travel."""
        return "in-process (one process writes the metadata)"

    def health(self) -> BusHealth:
        """Always listening: there is no connection to lose."""
        return BusHealth("in-process", True, heard=self._heard)


class PostgresBus(EventBus):
    """PostgreSQL ``LISTEN``/``NOTIFY`` on :data:`CHANNEL`, with reconnects, resyncs and a safety poll.

    ``poll_seconds``: how often subscribers are asked to catch up even with no gap seen
    (the bound on how late an event whose notification was lost can be).
    """

    shared = True

    def __init__(self, dsn: str, *, poll_seconds: float = 5.0, max_backoff: float = 5.0,
                 connect_timeout: int = 10) -> None:
        self._dsn = dsn
        self._poll_seconds = poll_seconds
        self._max_backoff = max_backoff
        self._connect_timeout = connect_timeout
        self._subscribers = _Subscribers()
        self._stop = threading.Event()
        self._listening = threading.Event()
        self._counts = {"heard": 0, "reconnects": 0, "resyncs": 0}
        self._last_error = ""
        self._conn: Any = None
        self._publisher: Any = None  # after-commit NOTIFYs (DuckLake), made on first use
        self._publish_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="board-event-bus", daemon=True)
        self._thread.start()

    # -- publishing ------------------------------------------------------------------------
    def publish(self, tx: Tx, board_id: str, seq: int) -> None:
        """``NOTIFY`` inside ``tx`` where the backend allows it (atomic with the commit), else right after."""
        text = payload(board_id, seq)
        # The payload is checked above (no quote can be in it); doubling quotes keeps the literal safe anyway.
        if tx.on_server(f"NOTIFY {CHANNEL}, '{text.replace(chr(39), chr(39) * 2)}'"):
            return
        tx.after_commit(lambda: self._notify_now(text))

    def _notify_now(self, text: str) -> None:
        # A NOTIFY lost here only delays the event until the subscribers' next poll.
        with self._publish_lock:
            for attempt in (1, 2):
                try:
                    if self._publisher is None or self._publisher.closed:
                        self._publisher = self._connect()
                    self._publisher.execute("SELECT pg_notify(%s, %s)", [CHANNEL, text])
                    return
                except Exception as error:  # noqa: BLE001 - a committed change must not fail here
                    self._close_quietly(self._publisher)
                    self._publisher = None
                    if attempt == 2:
                        log.warning("event bus: NOTIFY of %s failed (heard at the next poll): %s", text, error)

    # -- subscribing -----------------------------------------------------------------------
    def subscribe(self, heard: Heard, *, resync: Resync | None = None) -> Callable[[], None]:
        """Hear every process's announcements; ``resync()`` runs after each (re)connect and poll."""
        return self._subscribers.add(heard, resync)

    def wait_listening(self, timeout: float) -> bool:
        """Wait until the LISTEN connection is up (True) or ``timeout`` seconds pass (False)."""
        return self._listening.wait(timeout)

    def listener_pid(self) -> int | None:
        """The PostgreSQL backend process of the LISTEN connection, when connected."""
        conn = self._conn
        try:
            return int(conn.info.backend_pid) if conn is not None and not conn.closed else None
        except Exception:  # noqa: BLE001 - a connection closing under us
            return None

    def describe(self) -> str:
        """The channel and server, without the password."""
        return f"PostgreSQL LISTEN/NOTIFY on {CHANNEL} ({_redact(self._dsn)})"

    def health(self) -> BusHealth:
        """Whether the LISTEN connection is up, and what it has heard and survived."""
        return BusHealth("postgres", self._listening.is_set(), heard=self._counts["heard"],
                         reconnects=self._counts["reconnects"], resyncs=self._counts["resyncs"],
                         last_error=self._last_error)

    def close(self) -> None:
        """Stop the listening thread and close both connections (idempotent)."""
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=30)
        with self._publish_lock:
            self._close_quietly(self._publisher)
            self._publisher = None

    # -- the listening thread ----------------------------------------------------------------
    def _connect(self) -> Any:
        import psycopg  # only the PostgreSQL-backed backends need it

        # Keepalives: a connection silently cut (a node gone) is noticed in about a minute.
        return psycopg.connect(self._dsn, autocommit=True, connect_timeout=self._connect_timeout,
                               keepalives=1, keepalives_idle=30, keepalives_interval=10, keepalives_count=3)

    @staticmethod
    def _close_quietly(conn: Any) -> None:
        try:
            if conn is not None:
                conn.close()
        except Exception:  # noqa: BLE001, S110 - already broken
            pass

    def _run(self) -> None:
        backoff = 0.1
        first = True
        while not self._stop.is_set():
            try:
                self._conn = self._connect()
                self._conn.execute(f"LISTEN {CHANNEL}")
            except Exception as error:  # noqa: BLE001 - the server is away: wait and try again
                self._lost(error)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            if not first:
                self._counts["reconnects"] += 1
            first, backoff = False, 0.1
            self._listening.set()
            # Whatever was committed while nobody listened (or before the first LISTEN) is read now.
            self._resync()
            try:
                self._listen()
            except Exception as error:  # noqa: BLE001 - the connection dropped: reconnect, then resync
                self._lost(error)
            finally:
                self._listening.clear()
                self._close_quietly(self._conn)
                self._conn = None

    def _lost(self, error: BaseException) -> None:
        self._last_error = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        if not self._stop.is_set():
            log.warning("event bus: LISTEN connection unavailable (retrying): %s", self._last_error)

    def _listen(self) -> None:
        next_poll = time.monotonic() + self._poll_seconds
        while not self._stop.is_set():
            # Short waits, so close() is noticed within a second.
            wait = max(0.0, min(1.0, next_poll - time.monotonic()))
            for note in self._conn.notifies(timeout=wait):
                parsed = parse_payload(note.payload) if note.channel == CHANNEL else None
                if parsed is not None:
                    self._counts["heard"] += 1
                    self._subscribers.heard(*parsed)
            if time.monotonic() >= next_poll:
                self._resync()
                next_poll = time.monotonic() + self._poll_seconds

    def _resync(self) -> None:
        self._counts["resyncs"] += 1
        self._subscribers.resync()


def event_bus(engine: Engine, *, poll_seconds: float = 5.0) -> EventBus:
    """The bus for this metadata backend: in-process on the DuckDB file, PostgreSQL otherwise."""
    if engine.shared:
        return PostgresBus(engine.dsn, poll_seconds=poll_seconds)
    return InProcessBus()
