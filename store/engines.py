"""Where the metadata lives: a DuckDB file, PostgreSQL, or DuckLake — DuckDB is the query engine for all three.

The service layer writes DuckDB SQL and never learns which of these is underneath:

* ``duckdb`` (the embedded default): one local file, owned for writing by one process.
* ``postgres``: the tables live in PostgreSQL, attached through DuckDB's ``postgres``
  extension. PostgreSQL enforces PRIMARY KEY and UNIQUE constraints and isolates each
  transaction (REPEATABLE READ), so any number of processes may write. Chosen for
  several replicas (see the backend comparison in the README and ``bench/backends.py``).
* ``ducklake``: a DuckLake catalog in PostgreSQL with its data files in a folder or
  Azure Blob. DuckLake has no PRIMARY KEY or UNIQUE constraints: its tables are created
  without them, and every uniqueness rule must hold inside the writing transaction.

The extensions are loaded from the ``duckdb-ext-postgres`` and ``duckdb-ext-ducklake``
wheels, never downloaded.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import duckdb

__all__ = ["Engine", "Backend", "BACKENDS", "classify", "extension_file", "attach", "ddl", "MissingExtension"]

Backend = Literal["duckdb", "postgres", "ducklake"]
BACKENDS: tuple[str, ...] = ("duckdb", "postgres", "ducklake")
#: The catalog name the attached database gets; every cursor ``USE``s it.
CATALOG = "meta"
_EXTENSION_DIR = ("duckdb_ext", "extensions", "v" + duckdb.__version__, "linux_amd64")
_EXTENSION_WHEELS = {"postgres_scanner": "duckdb-ext-postgres", "ducklake": "duckdb-ext-ducklake"}
# A key for PostgreSQL's advisory lock that serializes migrations of one workspace.
_MIGRATION_LOCK_KEY = int.from_bytes(hashlib.sha256(b"filmmaker-workbench:migrate").digest()[:7], "big")


class MissingExtension(RuntimeError):
    """A DuckDB extension this backend needs is not installed."""


@dataclass(frozen=True)
class Engine:
    """Which backend holds the metadata, and where.

    ``path`` is the DuckDB file (``duckdb``); ``dsn`` a PostgreSQL connection string
    (``postgres``, ``ducklake``); ``data_path`` DuckLake's data-file folder or ``az://`` URL.
    """

    backend: Backend = "duckdb"
    path: str = ""
    dsn: str = field(default="", repr=False)  # may hold a password
    data_path: str = ""
    #: DuckLake: rows a small insert keeps inline in the catalog instead of a new data file. Off:
    #: with it on, DuckLake 1.4.4 fails to commit a transaction that inserts a row and then
    #: updates it (every new board does), so small writes make files and need compaction.
    inline_rows: int = 0

    @property
    def shared(self) -> bool:
        """True when several processes may write at once (the PostgreSQL-backed backends)."""
        return self.backend != "duckdb"

    def describe(self) -> str:
        """Where the metadata is, without the password (for ``workbench doctor`` and logs)."""
        if self.backend == "duckdb":
            return f"DuckDB file {self.path}"
        where = _redact(self.dsn)
        if self.backend == "postgres":
            return f"PostgreSQL ({where}) through DuckDB"
        return f"DuckLake (catalog in PostgreSQL {where}, data in {self.data_path})"


def _redact(dsn: str) -> str:
    dsn = re.sub(r"(password\s*=\s*)\S+", r"\1***", dsn)
    return re.sub(r"(://[^:/@]+:)[^@]+@", r"\1***@", dsn)


def extension_file(name: str) -> str:
    """The installed extension file of ``name`` (from its wheel), or :class:`MissingExtension`."""
    spec = importlib.util.find_spec("duckdb_ext")
    for root in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(root).joinpath(*_EXTENSION_DIR[1:], f"{name}.duckdb_extension")
        if candidate.exists():
            return str(candidate)
    raise MissingExtension(f"The DuckDB extension {name!r} is not installed: pip install "
                           f"{_EXTENSION_WHEELS.get(name, 'duckdb-ext-' + name)}=={duckdb.__version__}.*")


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def attach(conn: duckdb.DuckDBPyConnection, engine: Engine) -> None:
    """Load the backend's extensions and attach its database as ``meta`` (not for ``duckdb``)."""
    conn.execute(f"LOAD {_sql_text(extension_file('postgres_scanner'))}")
    if engine.backend == "postgres":
        conn.execute(f"ATTACH {_sql_text(engine.dsn)} AS {CATALOG} (TYPE postgres)")
    elif engine.backend == "ducklake":
        conn.execute(f"LOAD {_sql_text(extension_file('ducklake'))}")
        if engine.data_path.startswith("az://"):
            conn.execute(f"LOAD {_sql_text(extension_file('azure'))}")
        else:
            Path(engine.data_path).mkdir(parents=True, exist_ok=True)
        # The first ATTACH creates DuckLake's catalog tables: replicas starting together take turns.
        with migration_lock(engine):
            conn.execute(
                f"ATTACH {_sql_text('ducklake:postgres:' + engine.dsn)} AS {CATALOG}"
                f" (DATA_PATH {_sql_text(engine.data_path)}, DATA_INLINING_ROW_LIMIT {int(engine.inline_rows)})")
    else:
        raise ValueError(f"nothing to attach for the {engine.backend} backend")
    # Statements sent to PostgreSQL are pushed down with their filters (an equality on a
    # key becomes a WHERE on the server, not a copy of the table).
    conn.execute("SET pg_experimental_filter_pushdown = true")
    # Every replica stamps rows on one clock face, whatever its node's time zone (leases and
    # "older than" comparisons mix timestamps written by different processes).
    conn.execute("SET TimeZone = 'UTC'")


def use(cursor: duckdb.DuckDBPyConnection, engine: Engine) -> duckdb.DuckDBPyConnection:
    """Point a new cursor at the metadata catalog (``USE`` is per connection in DuckDB)."""
    if engine.shared:
        cursor.execute(f"USE {CATALOG}")
    return cursor


_CONFLICT = re.compile(
    r"Conflict on|could not serialize access|deadlock detected|Transaction conflict|"
    r"conflict.*(commit|transaction)|concurrent update", re.IGNORECASE)
_DUPLICATE = re.compile(r"duplicate key|violates unique constraint|violates primary key|"
                        r"PRIMARY KEY or UNIQUE constraint violat", re.IGNORECASE)


def classify(error: BaseException) -> str | None:
    """``"conflict"`` (retry the transaction), ``"duplicate"`` (a uniqueness rule) or None."""
    text = str(error)
    if isinstance(error, duckdb.ConstraintException) or _DUPLICATE.search(text):
        return "duplicate"
    # Only a real conflict is retried: a commit that fails for another reason fails the same
    # way every time (DuckDB raises TransactionException for both).
    if _CONFLICT.search(text):
        return "conflict"
    return None


_INDEX = re.compile(r"^\s*(CREATE\s+(UNIQUE\s+)?INDEX|DROP\s+INDEX)\b", re.IGNORECASE)
_COLUMN_KEY = re.compile(r"\s+(PRIMARY\s+KEY|UNIQUE)(?=\s*[,)\n])", re.IGNORECASE)
_TABLE_KEY = re.compile(r",\s*(PRIMARY\s+KEY|UNIQUE)\s*\([^)]*\)", re.IGNORECASE)


def ddl(engine: Engine, statement: str) -> list[tuple[str, str]]:
    """How one migration statement runs on this backend: ``[(how, sql)]``, ``how`` ``duckdb`` or ``server``.

    ``server`` statements are sent to PostgreSQL as they are (its own indexes);
    DuckLake tables are created without the keys it cannot enforce, and get no indexes.
    """
    if engine.backend == "duckdb":
        return [("duckdb", statement)]
    if _INDEX.match(statement):
        if engine.backend == "ducklake":
            return []
        return [("server", re.sub(r"^\s*CREATE\s+(UNIQUE\s+)?INDEX\s+", r"CREATE \1INDEX IF NOT EXISTS ",
                                  statement, flags=re.IGNORECASE))]
    if engine.backend == "ducklake" and re.match(r"^\s*CREATE\s+TABLE", statement, re.IGNORECASE):
        # DuckLake takes only literal defaults; a boolean keyword is not one to it.
        statement = re.sub(r"DEFAULT (true|false)\b", r"DEFAULT '\1'", statement, flags=re.IGNORECASE)
        return [("duckdb", _TABLE_KEY.sub("", _COLUMN_KEY.sub("", statement)))]
    return [("duckdb", statement)]


def run_on_server(cursor: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Send one statement to PostgreSQL as it is, inside the cursor's transaction."""
    cursor.execute(f"CALL postgres_execute({_sql_text(CATALOG)}, {_sql_text(sql)})")


@contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Hold the workspace's migration lock: replicas starting together migrate one at a time.

    The first to get it applies what is pending; the others wait, then find nothing left.
    A DuckDB file needs none (one process owns it for writing).
    """
    if not engine.shared:
        # One process owns the file, but several stores inside it share one DuckDB database
        # (a notebook opening a second workbench): they take turns too.
        with _file_lock(engine.path):
            yield
        return
    connection = _psycopg_connect(engine.dsn)
    try:
        connection.execute("SELECT pg_advisory_lock(%s)", [_MIGRATION_LOCK_KEY])
        try:
            yield
        finally:
            connection.execute("SELECT pg_advisory_unlock(%s)", [_MIGRATION_LOCK_KEY])
    finally:
        connection.close()


_FILE_LOCKS: dict[str, threading.Lock] = {}
_FILE_LOCKS_GUARD = threading.Lock()


def _file_lock(path: str) -> threading.Lock:
    key = path if path == ":memory:" else str(Path(path).resolve())
    with _FILE_LOCKS_GUARD:
        return _FILE_LOCKS.setdefault(key, threading.Lock())


def _psycopg_connect(dsn: str) -> Any:
    import psycopg  # only the PostgreSQL-backed backends need it

    return psycopg.connect(dsn, autocommit=True, connect_timeout=10)


def answers(engine: Engine, timeout: float = 5.0) -> str:
    """A one-line health answer from the backend's server (``workbench doctor``, ``/readyz``)."""
    if not engine.shared:
        return "local file"
    import psycopg

    with psycopg.connect(engine.dsn, autocommit=True, connect_timeout=max(1, int(timeout))) as connection:
        row = connection.execute("SHOW server_version").fetchone()
    return f"PostgreSQL {row[0] if row else '?'} answers"
