"""The metadata store: DuckDB SQL over a local file, PostgreSQL or DuckLake, with versioned migrations.

The write path
--------------
Every write goes through :meth:`MetadataStore.write`: the caller's function runs
in one transaction on one dedicated connection, on the store's *writer thread*
(fed by a queue, the caller waits for its answer, or awaits it with
:meth:`MetadataStore.write_async`), so a web server's event loop never runs a
transaction. A conflict with another writer (DuckDB's optimistic "Conflict on
update", PostgreSQL's serialization failures, a DuckLake commit conflict) is
retried with jittered backoff. Reads use their own cursor per thread and run
concurrently with the writer (MVCC).

Which engine holds the rows is :class:`store.engines.Engine`: on the embedded
DuckDB file exactly one *process* may write (a notebook opens it read-only or
uses its own home); on the PostgreSQL-backed backends any number may, and the
uniqueness rules hold across them. Nothing outside ``store/`` knows which.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import queue
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from store import engines
from store.engines import Engine
from store.integrity import IndexCheck, check_indexes
from store.migrations import MIGRATIONS, Migration
from store.transaction import Params, Tx

__all__ = ["MetadataStore", "migrate", "schema_version", "WriteConflict", "DatabaseInUse", "StoreClosed",
           "Duplicate", "SchemaBehind", "IndexCheck", "Engine"]

T = TypeVar("T")
log = logging.getLogger(__name__)


class WriteConflict(RuntimeError):
    """A write kept conflicting after every retry."""


class Duplicate(ValueError):
    """A uniqueness rule refused the write (same email, same picture twice, same token)."""


class DatabaseInUse(RuntimeError):
    """Another process (usually the running web workbench) holds the database file for writing."""


class StoreClosed(RuntimeError):
    """The store is shutting down (or shut): this write was not started."""


class SchemaBehind(RuntimeError):
    """The database has migrations still to apply and this process was told not to apply them."""


def _in_use_message(path: str, error: Exception) -> str:
    pid = re.search(r"PID (\d+)", str(error))
    holder = f"process {pid.group(1)}" if pid else "another process"
    return (f"The workbench database {path} is in use by {holder} (usually the running web workbench). "
            "Stop that process first, make this change in the web app, or point this command at its own "
            "WORKBENCH_HOME. Nothing was changed.")


def schema_version(conn: duckdb.DuckDBPyConnection) -> int:
    """The highest migration applied to this database (0 for a new one)."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def migrate(conn: duckdb.DuckDBPyConnection, migrations: Sequence[Migration] = MIGRATIONS,
            engine: Engine | None = None) -> list[int]:
    """Apply the migrations this database has not seen, in order, each in one transaction.

    DDL is transactional on every backend, so a migration interrupted at any point
    (even by SIGKILL) leaves the database at the previous version.
    Returns the versions applied.
    """
    engine = engine or Engine()
    if engine.backend == "ducklake":
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version ("
                     " version INTEGER NOT NULL, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)")
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
                for how, sql in engines.ddl(engine, statement):
                    if how == "server":
                        engines.run_on_server(conn, sql)
                    else:
                        conn.execute(sql)
            if engine.backend == "postgres":
                for sql in migration.postgres:
                    engines.run_on_server(conn, sql)
            conn.execute(
                "INSERT INTO schema_version VALUES (?, ?, now())", [migration.version, migration.name]
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        applied.append(migration.version)
    return applied


@dataclass
class _Job:
    work: Callable[[Tx], Any]
    context: contextvars.Context
    future: Future[Any]
    raw: bool = False  # maintenance outside any transaction (a checkpoint)


_STOP = object()


class MetadataStore:
    """The metadata database behind the workbench: migrations, one write path, many readers.

    >>> db = MetadataStore(":memory:")
    >>> db.write(lambda tx: tx.execute("INSERT INTO users (id, email, display_name, plan, created_at)"
    ...                                " VALUES ('u1', 'a@b', 'A', 'free', now())"))
    """

    def __init__(
        self,
        path: str | Path = "",
        *,
        engine: Engine | None = None,
        migrations: Sequence[Migration] = MIGRATIONS,
        read_only: bool = False,
        max_retries: int | None = None,
        checkpoint_seconds: float | None = None,
        migrate_at_start: bool = True,
        refuse_old_schema: bool = True,
    ) -> None:
        self.engine = engine or Engine(path=str(path))
        if self.engine.backend == "duckdb" and not self.engine.path:
            raise ValueError("a DuckDB metadata store needs a file path (or ':memory:')")
        self.path = self.engine.path if self.engine.backend == "duckdb" else self.engine.describe()
        self.read_only = read_only
        # Several replicas dragging cards on one board all bump its revision row, so under load a
        # write may lose that race many times in a row (bench/backends.py saw 0.7 % of drags give
        # up after 8 tries): shared backends keep trying longer (about 10 s in all) before
        # WriteConflict.
        self._max_retries = max_retries if max_retries is not None else (25 if self.engine.shared else 8)
        #: True when the last process stopped without a checkpoint and its WAL was replayed here.
        self.recovered_wal = False
        self._conn = self._connect()
        # A missing table must be an error, never a Python variable of the same name that
        # happens to be in scope (DuckDB's replacement scans).
        self._conn.execute("SET python_enable_replacements = false")
        self._writer = engines.use(self._conn.cursor(), self.engine)
        self._local = threading.local()
        self._closed = False
        self._closing = False
        self._pending = 0  # writes started and not yet finished (close waits for them)
        self._idle = threading.Condition()
        self._dirty = False
        #: The start-up comparison of every index with a scan (see store/integrity.py).
        self.integrity: list[IndexCheck] = []
        self._migrations = tuple(migrations)
        if not read_only:
            if migrate_at_start:
                self.migrate()
            elif refuse_old_schema and self.pending_migrations():
                raise SchemaBehind(f"The workbench database ({self.path}) needs migrations "
                                   f"{self.pending_migrations()}: run `workbench migrate` first.")
            if self.engine.backend == "duckdb":
                self._check_at_start()
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._writer_thread: threading.Thread | None = None
        if not read_only:
            self._writer_thread = threading.Thread(target=self._write_loop, name="metadata-writer", daemon=True)
            self._writer_thread.start()
        self._stop_checkpoints = threading.Event()
        self._checkpointer: threading.Thread | None = None
        if checkpoint_seconds and not read_only and self.engine.backend == "duckdb":
            self._checkpointer = threading.Thread(
                target=self._checkpoint_every, args=(checkpoint_seconds,), name="metadata-checkpoint", daemon=True)
            self._checkpointer.start()

    def _connect(self) -> duckdb.DuckDBPyConnection:
        if self.engine.backend != "duckdb":
            conn = duckdb.connect(":memory:")
            engines.attach(conn, self.engine)
            return conn
        path = self.engine.path
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            wal = Path(path + ".wal")
            self.recovered_wal = wal.exists() and wal.stat().st_size > 0
        try:
            return duckdb.connect(path, read_only=self.read_only)
        except duckdb.IOException as error:
            if "lock" in str(error).lower():
                raise DatabaseInUse(_in_use_message(path, error)) from error
            raise

    @property
    def shared(self) -> bool:
        """True when other processes may write to this database at the same time."""
        return self.engine.shared

    def migrate(self) -> list[int]:
        """Apply pending migrations (``workbench migrate``); replicas starting together take turns."""
        if self.read_only:
            raise PermissionError("this metadata store was opened read-only")
        with engines.migration_lock(self.engine):
            return migrate(self._writer, self._migrations, self.engine)

    def pending_migrations(self) -> list[int]:
        """Versions of the known migrations this database has not applied yet."""
        current = self.version()
        return [m.version for m in self._migrations if m.version > current]

    def _has_schema_table(self) -> bool:
        return bool(self.scalar("SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
                                + (" AND table_catalog = 'meta'" if self.engine.shared else "")))

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
            cursor = engines.use(self._conn.cursor(), self.engine)
            self._local.cursor = cursor
        return cursor

    def query(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        """Run a read query and return rows as dicts."""
        cursor = self._cursor()
        result = cursor.execute(sql, params or [])
        columns = [d[0] for d in result.description or []]
        return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]

    def query_one(self, sql: str, params: Params = None) -> dict[str, Any] | None:
        """Run a read query and return the first row, or None."""
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: Params = None) -> Any:
        """Run a read query and return the first column of the first row."""
        # Read the whole result: a result left open on this thread's cursor while
        # another thread commits can crash DuckDB 1.4.4 (seen as a segfault).
        rows = self._cursor().execute(sql, params or []).fetchall()
        return rows[0][0] if rows else None

    # -- writes ------------------------------------------------------------
    def write(self, work: Callable[[Tx], T]) -> T:
        """Run ``work(tx)`` as one transaction on the writer thread and return its result.

        Writes are serialized per process; a conflict with another writer is retried
        with jittered backoff, so ``work`` may run more than once and must only touch
        the database (use :meth:`Tx.after_commit` for the rest).
        """
        return self._submit(work).result()

    async def write_async(self, work: Callable[[Tx], T]) -> T:
        """:meth:`write` for a coroutine: awaits the writer thread without blocking the event loop."""
        return await asyncio.wrap_future(self._submit(work))

    def _submit(self, work: Callable[..., T], *, raw: bool = False) -> Future[T]:
        if self.read_only:
            raise PermissionError("this metadata store was opened read-only")
        if threading.current_thread() is self._writer_thread:
            raise RuntimeError("a write cannot start another write inside its transaction")
        with self._idle:
            if self._closing:
                raise StoreClosed("The workbench is shutting down; this change was not saved. "
                                  "Try again in a moment.")
            self._pending += 1
        future: Future[T] = Future()
        future.add_done_callback(self._finished)
        self._queue.put(_Job(work, contextvars.copy_context(), future, raw))
        return future

    def _finished(self, _: Future[Any]) -> None:
        with self._idle:
            self._pending -= 1
            self._idle.notify_all()

    def _write_loop(self) -> None:
        while True:
            job = self._queue.get()
            if job is _STOP:
                return
            if not job.future.set_running_or_notify_cancel():
                continue
            try:
                if job.raw:
                    result, callbacks = job.context.run(job.work), []
                else:
                    result, callbacks = job.context.run(self._write_with_retries, job.work)
            except BaseException as error:  # noqa: BLE001 - handed to the waiting caller
                job.future.set_exception(error)
                continue
            for callback in callbacks:  # after the commit, before the caller sees the result
                try:
                    job.context.run(callback)
                except Exception:  # a hook must not fail a committed write
                    log.exception("metadata: an after-commit hook failed")
            job.future.set_result(result)

    def _on_server(self, sql: str) -> None:
        engines.run_on_server(self._writer, sql)

    def _write_with_retries(self, work: Callable[[Tx], T]) -> tuple[T, list[Callable[[], None]]]:
        delay = 0.005
        # Another writer (a process, or a second store on the same file in this one) may insert
        # the same key between a read and our insert: re-run the work twice so it finds that row.
        duplicates = 2
        for attempt in range(self._max_retries + 1):
            cur = self._writer
            tx = Tx(cur, server=self._on_server if self.engine.backend == "postgres" else None)
            cur.execute("BEGIN TRANSACTION")
            try:
                result = work(tx)
                cur.execute("COMMIT")
                self._dirty = True
                return result, tx._committed()
            except Exception as error:
                try:
                    cur.execute("ROLLBACK")
                except duckdb.Error:
                    pass
                kind = engines.classify(error)
                if kind == "duplicate":
                    # Another process inserted the same key first: run the work again, so
                    # it finds that row (one picture per owner and content, one email).
                    if duplicates == 0:
                        raise Duplicate(str(error)) from error
                    duplicates -= 1
                elif kind != "conflict":
                    raise
                elif attempt == self._max_retries:
                    raise WriteConflict(str(error)) from error
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 0.5)
        raise WriteConflict("the write kept conflicting with other writers")

    def execute(self, sql: str, params: Params = None) -> None:
        """Run one write statement on the write path."""
        self.write(lambda tx: tx.execute(sql, params))

    @contextmanager
    def snapshot(self) -> Iterator[Tx]:
        """A read handle holding one consistent snapshot for several queries."""
        cursor = engines.use(self._conn.cursor(), self.engine)
        cursor.execute("BEGIN TRANSACTION")
        try:
            yield Tx(cursor)
        finally:
            cursor.execute("ROLLBACK")
            cursor.close()

    def version(self) -> int:
        """The schema version of the open database (0 before the first migration)."""
        if not self._has_schema_table():
            return 0
        return int(self.scalar("SELECT coalesce(max(version), 0) FROM schema_version") or 0)

    # -- durability ----------------------------------------------------------
    def checkpoint(self) -> None:
        """Write the WAL into the database file now (on the write path, between writes)."""
        if self.read_only or self.engine.backend != "duckdb" or self._closed:
            return
        self._run_on_writer(lambda: self._writer.execute("CHECKPOINT"))
        self._dirty = False

    def _run_on_writer(self, action: Callable[[], T]) -> T:
        # Maintenance (checkpoints, index repair) queues like a write, so it never
        # runs while a transaction is open on the write connection.
        if self._writer_thread is None or not self._writer_thread.is_alive():
            return action()
        return self._submit(action, raw=True).result()

    def _checkpoint_every(self, seconds: float) -> None:
        # Periodic checkpoints keep the WAL short, so a crash (SIGKILL, a lost
        # node) leaves little to replay at the next start.
        while not self._stop_checkpoints.wait(seconds):
            if self._dirty:
                try:
                    self.checkpoint()
                except (duckdb.Error, StoreClosed) as error:
                    log.warning("metadata checkpoint failed (retried later): %s", error)

    def check_indexes(self, *, full: bool = False, repair: bool = True) -> list[IndexCheck]:
        """Compare every index with a scan of its table, rebuilding any that disagree (``workbench doctor``)."""
        if self.engine.backend != "duckdb":
            return []  # PostgreSQL keeps its own indexes; DuckLake has none
        return self._run_on_writer(
            lambda: check_indexes(self._writer, full=full, repair=repair and not self.read_only))

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
        if self._writer_thread is not None:
            self._queue.put(_STOP)
            self._writer_thread.join(timeout=timeout)
        self._closed = True
        if not self.read_only and self.engine.backend == "duckdb":
            try:
                self._writer.execute("CHECKPOINT")
            except duckdb.Error as error:  # the close below still persists through the WAL
                log.warning("metadata: final checkpoint failed: %s", error)
        self._conn.close()
