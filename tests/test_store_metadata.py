"""The DuckDB metadata store: migrations, crash safety, the single write path."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import duckdb
import pytest

from store import MIGRATIONS, MetadataStore, Migration, migrate, schema_version


def test_new_database_gets_every_migration_once(tmp_path: Path) -> None:
    db = MetadataStore(tmp_path / "wb.duckdb")
    assert db.version() == MIGRATIONS[-1].version
    tables = {r["table_name"] for r in db.query("SELECT table_name FROM information_schema.tables")}
    for name in ("users", "plans", "credit_ledger", "images", "image_tags", "boards", "board_items",
                 "share_links", "board_members", "board_events", "documents", "document_versions", "outbox"):
        assert name in tables
    db.close()
    again = MetadataStore(tmp_path / "wb.duckdb")
    rows = again.query("SELECT version FROM schema_version ORDER BY version")
    assert [r["version"] for r in rows] == [m.version for m in MIGRATIONS]


def test_failing_migration_leaves_previous_version(tmp_path: Path) -> None:
    conn = duckdb.connect(str(tmp_path / "m.duckdb"))
    broken = (*MIGRATIONS, Migration(99, "broken", ("CREATE TABLE half_done (a INTEGER)", "SELECT * FROM nope")))
    with pytest.raises(duckdb.CatalogException):
        migrate(conn, broken)
    assert schema_version(conn) == MIGRATIONS[-1].version
    assert conn.execute("SELECT count(*) FROM information_schema.tables WHERE table_name='half_done'").fetchone() == (0,)


def test_migrations_must_be_ordered(tmp_path: Path) -> None:
    conn = duckdb.connect(":memory:")
    with pytest.raises(ValueError):
        migrate(conn, (MIGRATIONS[1], MIGRATIONS[0]))


_SLOW_MIGRATION = """
import sys
sys.path.insert(0, {repo!r})
from store import MIGRATIONS, Migration, MetadataStore
slow = Migration(100, "slow", (
    "CREATE TABLE killed_midway AS SELECT range AS n FROM range(1000)",
    "INSERT INTO killed_midway SELECT count(*) FROM range(100000000000) a",
))
print("start", flush=True)
MetadataStore({path!r}, migrations=(*MIGRATIONS, slow))
"""


@pytest.mark.slow
def test_process_killed_mid_migration_leaves_usable_old_version(tmp_path: Path) -> None:
    path = str(tmp_path / "killed.duckdb")
    db = MetadataStore(path)
    db.execute("INSERT INTO users VALUES ('u1', 'ana@example.com', 'Ana', 'free', NULL, now())")
    db.close()
    script = _SLOW_MIGRATION.format(repo=str(Path(__file__).resolve().parent.parent), path=path)
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(script)], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"start"
    time.sleep(2.0)  # the slow statement is now running inside the migration transaction
    proc.kill()
    proc.wait()
    reopened = MetadataStore(path)
    assert reopened.version() == MIGRATIONS[-1].version
    assert reopened.scalar("SELECT count(*) FROM information_schema.tables WHERE table_name='killed_midway'") == 0
    assert reopened.scalar("SELECT email FROM users WHERE id='u1'") == "ana@example.com"
    reopened.execute("INSERT INTO users VALUES ('u2', 'ben@example.com', 'Ben', 'free', NULL, now())")
    assert reopened.scalar("SELECT count(*) FROM users") == 2


def test_eight_threads_writing_lose_nothing(tmp_path: Path) -> None:
    db = MetadataStore(tmp_path / "threads.duckdb")
    db.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER)")
    db.execute("INSERT INTO counter VALUES (1, 0)")
    errors: list[BaseException] = []

    def writer(t: int) -> None:
        try:
            for i in range(50):
                def work(cur: duckdb.DuckDBPyConnection, t: int = t, i: int = i) -> None:
                    cur.execute("UPDATE counter SET n = n + 1 WHERE id = 1")
                    cur.execute(
                        "INSERT INTO credit_ledger VALUES (?, 'u', 'grant', 1, 'test', NULL, NULL, '', now())",
                        [f"{t}-{i}"],
                    )
                db.write(work)
                # readers on their own cursors, concurrently with the writer
                assert db.scalar("SELECT n FROM counter WHERE id = 1") >= 1
        except BaseException as error:  # collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert db.scalar("SELECT n FROM counter") == 400
    assert db.scalar("SELECT count(*) FROM credit_ledger") == 400


def test_write_rolls_back_on_error(tmp_path: Path) -> None:
    db = MetadataStore(tmp_path / "rb.duckdb")

    def work(cur: duckdb.DuckDBPyConnection) -> None:
        cur.execute("INSERT INTO users VALUES ('u1', 'a@b.c', 'A', 'free', NULL, now())")
        raise RuntimeError("the caller changed its mind")

    with pytest.raises(RuntimeError):
        db.write(work)
    assert db.scalar("SELECT count(*) FROM users") == 0


def test_conflict_from_another_connection_is_retried(tmp_path: Path) -> None:
    db = MetadataStore(tmp_path / "conflict.duckdb")
    db.execute("CREATE TABLE shot (id INTEGER PRIMARY KEY, take INTEGER)")
    db.execute("INSERT INTO shot VALUES (1, 0)")
    # A second connection (standing in for a DuckLake peer) holds an open
    # transaction that updated the same row; our write must conflict, retry
    # and succeed once the peer commits.
    peer = db._conn.cursor()
    peer.execute("BEGIN TRANSACTION")
    peer.execute("UPDATE shot SET take = 10 WHERE id = 1")
    attempts = []

    def work(cur: duckdb.DuckDBPyConnection) -> None:
        attempts.append(1)
        if len(attempts) == 2:
            peer.execute("COMMIT")
        cur.execute("UPDATE shot SET take = take + 1 WHERE id = 1")

    db.write(work)
    assert len(attempts) >= 2
    assert db.scalar("SELECT take FROM shot WHERE id = 1") == 11


def test_read_only_store_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "ro.duckdb"
    MetadataStore(path).close()
    ro = MetadataStore(path, read_only=True)
    with pytest.raises(PermissionError):
        ro.execute("DELETE FROM users")
