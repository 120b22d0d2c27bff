"""The metadata store: one DuckDB database with versioned migrations.

The single-writer rule
----------------------
DuckDB lets exactly one *process* open a database file for writing. Inside that
process every write goes through :meth:`MetadataStore.write`, which runs the
caller's function in one transaction on one dedicated connection, one write at
a time, and retries on DuckDB's optimistic "Conflict on update" error. Reads use
their own cursor per thread and run concurrently with the writer (MVCC).

A second process (a notebook while the web app runs) must therefore open the
same file read-only, or use its own workbench home. When several processes
must write (web replicas on AKS), the metadata moves to DuckLake with a
PostgreSQL catalog; nothing outside ``store/`` knows which it is.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from store.integrity import IndexCheck, check_indexes
from store.migrations import MIGRATIONS, Migration

__all__ = ["MetadataStore", "migrate", "schema_version", "WriteConflict", "DatabaseInUse", "StoreClosed",
           "IndexCheck"]

T = TypeVar("T")
log = logging.getLogger(__name__)


class WriteConflict(RuntimeError):
    """A write kept conflicting after every retry."""


class DatabaseInUse(RuntimeError):
    """Another process (usually the running web workbench) holds the database file for writing."""


class StoreClosed(RuntimeError):
    """The store is shutting down (or shut): this write was not started."""


def _in_use_message(path: str, error: Exception) -> str:
    pid = re.search(r"PID (\d+)", str(error))
    holder = f"process {pid.group(1)}" if pid else "another process"
    return (f"The workbench database {path} is in use by {holder} (usually the running web workbench). "
            "Stop that process first, make this change in the web app, or point this command at its own "
            "WORKBENCH_HOME. Nothing was changed.")


def _is_conflict(error: Exception) -> bool:
    return isinstance(error, duckdb.TransactionException) or "Conflict on" in str(error)


def schema_version(conn: duckdb.DuckDBPyConnection) -> int:
    """The highest migration applied to this database (0 for a new one)."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def migrate(conn: duckdb.DuckDBPyConnection, migrations: Sequence[Migration] = MIGRATIONS) -> list[int]:
    """Apply the migrations this database has not seen, in order, each in one transaction.

    DuckDB's DDL is transactional, so a migration interrupted at any point
    (even by SIGKILL) leaves the database at the previous version.
    Returns the versions applied.
    """
    current = schema_version(conn)
    versions = [m.version for m in migrations]
    if versions != sorted(versions) or len(set(versions)) != len(versions):
        raise ValueError("migrations must have unique, increasing versions")
    applied = []
    for migration in migrations:
        if migration.version <= current:
            continue
        conn.execute("BEGIN TRANSACTION")
        try:
            for statement in migration.statements:
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_version VALUES (?, ?, now())", [migration.version, migration.name]
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        applied.append(migration.version)
    return applied


class MetadataStore:
    """The DuckDB database behind the workbench: migrations, one write path, many readers.

    >>> db = MetadataStore(":memory:")
    >>> db.write(lambda cur: cur.execute("INSERT INTO users (id, email, plan, created_at) VALUES ('u1','a@b','free', now())"))
    """

    def __init__(
        self,
        path: str | Path,
        *,
        migrations: Sequence[Migration] = MIGRATIONS,
        read_only: bool = False,
        max_retries: int = 8,
        checkpoint_seconds: float | None = None,
    ) -> None:
        self.path = str(path)
        wal = Path(self.path + ".wal")
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        #: True when the last process stopped without a checkpoint and its WAL was replayed here.
        self.recovered_wal = self.path != ":memory:" and wal.exists() and wal.stat().st_size > 0
        self.read_only = read_only
        try:
            self._conn = duckdb.connect(self.path, read_only=read_only)
        except duckdb.IOException as error:
            if "lock" in str(error).lower():
                raise DatabaseInUse(_in_use_message(self.path, error)) from error
            raise
        self._writer = self._conn.cursor()
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._max_retries = max_retries
        self._closed = False
        self._closing = False
        self._pending = 0  # writes started and not yet finished (close waits for them)
        self._idle = threading.Condition()
        self._dirty = False
        #: The start-up comparison of every index with a scan (see store/integrity.py).
        self.integrity: list[IndexCheck] = []
        if not read_only:
            with self._write_lock:
                migrate(self._writer, migrations)
                self._check_at_start()
        self._stop_checkpoints = threading.Event()
        self._checkpointer: threading.Thread | None = None
        if checkpoint_seconds and not read_only:
            self._checkpointer = threading.Thread(
                target=self._checkpoint_every, args=(checkpoint_seconds,), name="metadata-checkpoint", daemon=True)
            self._checkpointer.start()

    def _check_at_start(self) -> None:
        # A replayed WAL is checkpointed at once, so the replay is persisted while
        # this process is known to be healthy, then every index is compared with
        # a scan (what a replay can leave stale) and rebuilt if it disagrees.
        if self.recovered_wal:
            log.warning("metadata: %s was not shut down cleanly; its write-ahead log was replayed", self.path)
            self._writer.execute("CHECKPOINT")
        self.integrity = check_indexes(self._writer)
        repaired = [check for check in self.integrity if check.missing]
        for check in repaired:
            log.error("metadata index disagreed with its table: %s", check.describe())
        if repaired:
            self._writer.execute("CHECKPOINT")

    # -- reads -------------------------------------------------------------
    def _cursor(self) -> duckdb.DuckDBPyConnection:
        # A DuckDB connection must not be shared by threads at the same time;
        # each thread reads through its own cursor on the shared database.
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._conn.cursor()
            self._local.cursor = cursor
        return cursor

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run a read query and return rows as dicts."""
        cursor = self._cursor()
        result = cursor.execute(sql, params or [])
        columns = [d[0] for d in result.description or []]
        return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]

    def query_one(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> dict[str, Any] | None:
        """Run a read query and return the first row, or None."""
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> Any:
        """Run a read query and return the first column of the first row."""
        # Read the whole result: a result left open on this thread's cursor while
        # another thread commits can crash DuckDB 1.4.4 (seen as a segfault).
        rows = self._cursor().execute(sql, params or []).fetchall()
        return rows[0][0] if rows else None

    # -- writes ------------------------------------------------------------
    def write(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run ``work(cursor)`` as one transaction on the single write path.

        Writes are serialized; a "Conflict on update" (a reader's transaction
        overlapping ours, or a DuckLake peer) is retried with jittered backoff.
        ``work`` may run more than once, so it must only touch the database.
        """
        if self.read_only:
            raise PermissionError("this metadata store was opened read-only")
        with self._idle:
            if self._closing:
                raise StoreClosed("The workbench is shutting down; this change was not saved. "
                                  "Try again in a moment.")
            self._pending += 1
        try:
            return self._write_with_retries(work)
        finally:
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()

    def _write_with_retries(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        delay = 0.005
        for attempt in range(self._max_retries + 1):
            with self._write_lock:
                cur = self._writer
                cur.execute("BEGIN TRANSACTION")
                try:
                    result = work(cur)
                    cur.execute("COMMIT")
                    self._dirty = True
                    return result
                except Exception as error:
                    try:
                        cur.execute("ROLLBACK")
                    except duckdb.Error:
                        pass
                    if not _is_conflict(error) or attempt == self._max_retries:
                        if _is_conflict(error):
                            raise WriteConflict(str(error)) from error
                        raise
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 0.5)
        raise AssertionError("unreachable")

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> None:
        """Run one write statement on the write path."""
        self.write(lambda cur: cur.execute(sql, params or []))

    @contextmanager
    def snapshot(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read cursor holding one consistent snapshot for several queries."""
        cursor = self._conn.cursor()
        cursor.execute("BEGIN TRANSACTION")
        try:
            yield cursor
        finally:
            cursor.execute("ROLLBACK")
            cursor.close()

    def version(self) -> int:
        """The schema version of the open database."""
        return int(self.scalar("SELECT coalesce(max(version), 0) FROM schema_version") or 0)

    # -- durability ----------------------------------------------------------
    def checkpoint(self) -> None:
        """Write the WAL into the database file now (on the write path, between writes)."""
        if self.read_only:
            return
        with self._write_lock:
            if not self._closed:
                self._writer.execute("CHECKPOINT")
                self._dirty = False

    def _checkpoint_every(self, seconds: float) -> None:
        # Periodic checkpoints keep the WAL short, so a crash (SIGKILL, a lost
        # node) leaves little to replay at the next start.
        while not self._stop_checkpoints.wait(seconds):
            if self._dirty:
                try:
                    self.checkpoint()
                except duckdb.Error as error:
                    log.warning("metadata checkpoint failed (retried later): %s", error)

    def check_indexes(self, *, full: bool = False, repair: bool = True) -> list[IndexCheck]:
        """Compare every index with a scan of its table, rebuilding any that disagree (``workbench doctor``)."""
        with self._write_lock:
            return check_indexes(self._writer, full=full, repair=repair and not self.read_only)

    def close(self, *, timeout: float = 30.0) -> None:
        """Stop taking writes, let those under way finish, checkpoint and close (idempotent).

        Writes that arrive after this starts raise :class:`StoreClosed`.
        """
        with self._idle:
            if self._closed or self._closing:
                return
            self._closing = True
            finished = self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)
        if not finished:
            log.error("metadata: %d write(s) still running after %.0f s; closing anyway", self._pending, timeout)
        self._stop_checkpoints.set()
        if self._checkpointer is not None:
            self._checkpointer.join(timeout=timeout)
        with self._write_lock:
            self._closed = True
            if not self.read_only:
                try:
                    self._writer.execute("CHECKPOINT")
                except duckdb.Error as error:  # the close below still persists through the WAL
                    log.warning("metadata: final checkpoint failed: %s", error)
            self._conn.close()
