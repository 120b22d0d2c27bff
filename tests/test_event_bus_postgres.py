"""The board event bus between replicas: PostgreSQL LISTEN/NOTIFY (the in-process bus: test_event_bus.py).

Two real workbenches on one throwaway database (two replicas), and one a real
second process. Outages are real too: the bus's LISTEN backend is terminated on
the server, and for a gap of known length the bus reaches PostgreSQL through a
small TCP forwarder that stops accepting for a while. Waits are hang guards with
a deadline, never speed checks.
"""

from __future__ import annotations

import json
import select
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from store import Engine, MetadataStore
from store.bus import CHANNEL, PostgresBus
from tests.helpers import Heard
from tests.postgres import Cluster, free_port
from tests.shared_replicas import open_replica
from workbench import NotFound, User, Workbench
from workbench.boards import Boards
from workbench.boards.history import record_event
from workbench.boards.model import utcnow

DEADLINE = 60.0  # a hang guard: every wait below normally ends in well under a second (the poll: 5 s)


def wait_until(check: Callable[[], bool], what: str, timeout: float = DEADLINE) -> None:
    end = time.monotonic() + timeout
    while not check():
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


# -- PostgreSQL: replicas sharing one database ---------------------------------------------------
@pytest.fixture
def replicas(pg_dsn: str, tmp_path: Path) -> Iterator[tuple[Workbench, Workbench]]:
    a = open_replica(tmp_path, pg_dsn, "a")
    b = open_replica(tmp_path, pg_dsn, "b")
    for wb in (a, b):
        assert isinstance(wb.bus, PostgresBus) and wb.bus.wait_listening(DEADLINE)
    yield a, b
    a.close()
    b.close()


def test_a_change_on_one_replica_reaches_the_others_listener(replicas: tuple[Workbench, Workbench]) -> None:
    a, b = replicas
    heard = Heard()
    b.boards.subscribe(heard)
    me = a.accounts.create_user("ana@example.com")
    board = a.boards.create(me, "Night shoot")
    note = a.boards.add_note(me, board.id, "rain on neon")
    wait_until(lambda: heard.seqs(board.id) == [1, 2], "B to hear A's two changes")
    stored = a.boards.history(me, board.id)
    assert [(e.id, e.kind, e.actor, e.payload) for e in heard.events] == \
        [(e.id, e.kind, e.actor, e.payload) for e in reversed(stored)]
    assert heard.events[1].payload["ops"][0]["item"]["id"] == note.id


def test_every_replica_hears_every_change_once_in_order_per_board(replicas: tuple[Workbench, Workbench]) -> None:
    a, b = replicas
    heard_a, heard_b = Heard(), Heard()
    a.boards.subscribe(heard_a)
    b.boards.subscribe(heard_b)
    me = a.accounts.create_user("ana@example.com")
    boards = [a.boards.create(me, "One"), a.boards.create(me, "Two")]
    per_writer = 6

    def write(wb: Workbench, name: str) -> None:
        user = wb.accounts.get_user(me.id)
        for n in range(per_writer):
            for board in boards:
                wb.boards.add_note(user, board.id, f"{name} {n}")

    writers = [threading.Thread(target=write, args=(wb, name)) for wb, name in ((a, "A"), (b, "B"))]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(timeout=DEADLINE * 3)
        assert not thread.is_alive()
    total = 1 + 2 * per_writer
    for board in boards:
        assert a.boards.get(me, board.id).board.revision == total
        for heard in (heard_a, heard_b):
            wait_until(lambda h=heard, b_id=board.id: len(h.seqs(b_id)) >= total, "every event of the board")
    # Let any late notification arrive: it must not deliver anything a second time.
    wait_until(lambda: a.bus.health().heard >= 2 * total and b.bus.health().heard >= 2 * total,
               "every notification to arrive")
    for board in boards:
        for heard in (heard_a, heard_b):
            assert heard.seqs(board.id) == list(range(1, total + 1))
    ids = Counter(e.id for e in heard_a.events + heard_b.events)
    assert set(ids.values()) == {2}


def test_a_replica_hears_its_own_change_once(replicas: tuple[Workbench, Workbench]) -> None:
    a, _ = replicas
    heard = Heard()
    a.boards.subscribe(heard)
    me = a.accounts.create_user("ana@example.com")
    before = a.bus.health().heard
    board = a.boards.create(me, "Mine")
    # Told during the change itself (the web page counts on this), before the notification.
    assert heard.seqs(board.id) == [1]
    a.boards.add_note(me, board.id, "mine too")
    assert heard.seqs(board.id) == [1, 2]
    wait_until(lambda: a.bus.health().heard >= before + 2, "A's own notifications to come back")
    resyncs = a.bus.health().resyncs
    wait_until(lambda: a.bus.health().resyncs > resyncs, "a safety poll")
    assert heard.seqs(board.id) == [1, 2]


def test_an_event_whose_notification_never_comes_arrives_with_the_safety_poll(
        replicas: tuple[Workbench, Workbench]) -> None:
    a, b = replicas
    heard = Heard()
    b.boards.subscribe(heard)
    me = a.accounts.create_user("ana@example.com")
    board = a.boards.create(me, "Quiet")
    wait_until(lambda: heard.seqs(board.id) == [1], "the board's first event")
    notified = b.bus.health().heard
    # Recorded as the boards domain records events, but with nobody announcing it.
    a.db.write(lambda tx: record_event(tx, board.id, me.id, "describe", {"ops": []}, None, utcnow()))
    wait_until(lambda: heard.seqs(board.id) == [1, 2], "the safety poll to deliver the silent event")
    assert b.bus.health().heard == notified
    assert heard.events[-1].kind == "describe"


def _listen_backends(admin: psycopg.Connection) -> list[int]:
    return [row[0] for row in admin.execute(
        "SELECT pid FROM pg_stat_activity WHERE query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()").fetchall()]


def test_a_subscriber_catches_up_after_its_listen_connection_is_killed(
        replicas: tuple[Workbench, Workbench], pg_dsn: str) -> None:
    a, b = replicas
    heard = Heard()
    b.boards.subscribe(heard)
    me = a.accounts.create_user("ana@example.com")
    board = a.boards.create(me, "Through the outage")
    wait_until(lambda: heard.seqs(board.id) == [1], "the board's first event")
    with psycopg.connect(pg_dsn, autocommit=True) as admin:
        assert len(_listen_backends(admin)) == 2
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                      " WHERE query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()")
    for n in range(5):
        a.boards.add_note(me, board.id, f"during the outage {n}")
    wait_until(lambda: b.bus.health().reconnects >= 1 and b.bus.health().listening, "B's bus to reconnect")
    wait_until(lambda: len(heard.seqs(board.id)) >= 6, "B to catch up")
    assert heard.seqs(board.id) == [1, 2, 3, 4, 5, 6]


class Forwarder:
    """A TCP forwarder to PostgreSQL that can stop accepting connections: an outage of known length."""

    def __init__(self, port: int) -> None:
        self.target = port
        self.port = free_port()
        self._server: socket.socket | None = None
        self._stop = threading.Event()
        self.open()

    def open(self) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen()
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def refuse(self) -> None:
        """New connections are refused until :meth:`open` (existing ones carry on)."""
        assert self._server is not None
        # shutdown() wakes the thread blocked in accept(); close() alone would leave it accepting.
        self._server.shutdown(socket.SHUT_RDWR)
        self._server.close()
        self._server = None

    def close(self) -> None:
        self._stop.set()
        if self._server is not None:
            self.refuse()

    def _accept(self, server: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                client, _ = server.accept()
            except OSError:
                return  # refused from now on
            upstream = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()

    def _pipe(self, one: socket.socket, two: socket.socket) -> None:
        try:
            while not self._stop.is_set():
                ready, _, _ = select.select([one, two], [], [], 0.5)
                for side in ready:
                    data = side.recv(65536)
                    if not data:
                        return
                    (two if side is one else one).sendall(data)
        except OSError:
            return
        finally:
            one.close()
            two.close()


def test_changes_made_while_nobody_listens_arrive_after_the_reconnect(
        replicas: tuple[Workbench, Workbench], postgres: Cluster, pg_dsn: str) -> None:
    a, b = replicas
    forwarder = Forwarder(postgres.port)
    # B's own feed, on a bus that reaches PostgreSQL through the forwarder and never polls:
    # only the reconnect's resync can bring back what was said while it was away.
    bus = PostgresBus(pg_dsn.replace(f"port={postgres.port}", f"port={forwarder.port}"), poll_seconds=3600)
    try:
        assert bus.wait_listening(DEADLINE)
        boards_b = Boards(b.db, b.library, b.writing, accounts=b.accounts, bus=bus)
        heard = Heard()
        boards_b.subscribe(heard)
        me = a.accounts.create_user("ana@example.com")
        board = a.boards.create(me, "Long outage")
        wait_until(lambda: heard.seqs(board.id) == [1], "the board's first event")
        pid = bus.listener_pid()
        forwarder.refuse()
        with psycopg.connect(pg_dsn, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                          " WHERE query ILIKE 'LISTEN%%' AND pid = %s", [pid])
        wait_until(lambda: not bus.health().listening, "the bus to notice it is cut off")
        for n in range(4):
            a.boards.add_note(me, board.id, f"nobody on B hears this {n}")
        assert not bus.health().listening and heard.seqs(board.id) == [1]
        forwarder.open()
        wait_until(lambda: len(heard.seqs(board.id)) >= 5, "B to catch up after reconnecting")
        assert heard.seqs(board.id) == [1, 2, 3, 4, 5]
        assert bus.health().reconnects >= 1 and bus.listener_pid() != pid
        assert bus.health().last_error  # what cut it off, for doctor and the logs
    finally:
        bus.close()
        forwarder.close()


def test_a_second_process_s_changes_reach_this_one_in_order(
        replicas: tuple[Workbench, Workbench], pg_dsn: str, tmp_path: Path) -> None:
    a, _ = replicas
    heard = Heard()
    a.boards.subscribe(heard)
    me = a.accounts.create_user("ana@example.com")
    board = a.boards.create(me, "Two processes")
    count = 6
    script = Path(__file__).with_name("bus_writer.py")
    done = subprocess.run(
        [sys.executable, str(script), pg_dsn, str(tmp_path / "child"), str(tmp_path / "blobs"),
         str(tmp_path / "vectors"), me.id, board.id, str(count)],
        capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(json.loads(done.stdout.strip().splitlines()[-1])["seqs"]) == count
    wait_until(lambda: len(heard.seqs(board.id)) >= count + 1, "the other process's changes")
    assert heard.seqs(board.id) == list(range(1, count + 2))
    assert [e.payload["ops"][0]["item"]["text"] for e in heard.events[1:]] == \
        [f"from the other process #{n}" for n in range(count)]


def test_a_link_revoked_on_one_replica_is_refused_on_the_other_at_once(
        replicas: tuple[Workbench, Workbench]) -> None:
    a, b = replicas
    owner: User = a.accounts.create_user("ana@example.com")
    board = a.boards.create(owner, "Shared wall")
    link, token = a.boards.create_link(owner, board.id, "edit")
    b.boards.add_note(None, board.id, "while the link works", token=token)
    a.boards.revoke_link(owner, board.id, link.id)
    with pytest.raises(NotFound, match="revoked or has expired"):
        b.boards.add_note(None, board.id, "after revoking", token=token)
    with pytest.raises(NotFound, match="revoked or has expired"):
        b.boards.get(None, board.id, token=token)
    assert [i.text for i in b.boards.get(owner, board.id).items] == ["while the link works"]


def test_closing_a_replica_stops_its_bus(pg_dsn: str, tmp_path: Path) -> None:
    wb = open_replica(tmp_path, pg_dsn, "solo")
    assert isinstance(wb.bus, PostgresBus) and wb.bus.wait_listening(DEADLINE)
    assert CHANNEL in wb.bus.describe() and "password" not in wb.bus.describe()
    wb.close()
    assert not wb.bus.health().listening and wb.bus.listener_pid() is None



def test_on_ducklake_the_notification_follows_the_commit(pg_dsn: str, tmp_path: Path) -> None:
    # DuckLake's transactions cannot carry a NOTIFY, so the bus sends it right after the commit
    # (and never for a transaction that rolled back).
    db = MetadataStore(engine=Engine(backend="ducklake", dsn=pg_dsn, data_path=str(tmp_path / "lake")))
    writer, listener = PostgresBus(pg_dsn), PostgresBus(pg_dsn)
    told: list[tuple[str, int]] = []
    try:
        listener.subscribe(lambda board_id, seq: told.append((board_id, seq)))
        assert listener.wait_listening(DEADLINE)

        def refused(tx):  # type: ignore[no-untyped-def]
            writer.publish(tx, "b_rolled_back", 1)
            raise ValueError("refused inside the transaction")

        with pytest.raises(ValueError, match="refused"):
            db.write(refused)
        db.write(lambda tx: writer.publish(tx, "b_on_the_lake", 3))
        wait_until(lambda: told == [("b_on_the_lake", 3)], "the after-commit notification")
    finally:
        writer.close()
        listener.close()
        db.close()
