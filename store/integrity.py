"""Does every index of the metadata database still match its table? Repair what does not.

Why this exists: DuckDB 1.4.4 can persist an ART index that no longer matches
its table. A process that stops without a checkpoint leaves its changes in the
WAL; the next process replays them into an index it loads lazily, and if it
then closes cleanly without having used that index, the shutdown checkpoint
writes the index back *without* the replayed changes (duckdb/duckdb#23788,
#23848). Lookups through the index then miss rows that a scan finds: boards
opened with 0 cards, a balance that disagreed with the ledger.

Migration 6 dropped every secondary index (zonemaps serve those lookups; see
``bench/metadata.py``). Primary-key and UNIQUE indexes remain, so at start-up
the store looks keys found by a *scan* up again through an equality filter
(which DuckDB answers from the index) and rebuilds any index that misses one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

__all__ = ["IndexCheck", "check_indexes", "FULL_CHECK_ROWS", "SAMPLE_ROWS"]

# Tables up to this size are checked key by key; above it, the newest rows
# (those a replayed WAL last touched) plus a random sample.
FULL_CHECK_ROWS = 5_000
SAMPLE_ROWS = 256
_BATCH = 1_000  # keys per IN-list lookup


@dataclass(frozen=True)
class IndexCheck:
    """One index compared with a scan of its table."""

    table: str
    index: str
    columns: tuple[str, ...]
    rows: int
    checked: int
    missing: int
    rebuilt: bool = False
    error: str = ""

    @property
    def ok(self) -> bool:
        """True when the index matched, or disagreed and was rebuilt."""
        return not self.error and (self.missing == 0 or self.rebuilt)

    def describe(self) -> str:
        """One line for the log and ``workbench doctor``."""
        what = f"{self.table}.{self.index} ({', '.join(self.columns)})"
        if self.error:
            return f"{what}: {self.missing} of {self.checked} keys missing; not repaired: {self.error}"
        if self.missing:
            return f"{what}: {self.missing} of {self.checked} keys missing from the index; rebuilt"
        return f"{what}: {self.checked} of {self.rows} keys found"


@dataclass(frozen=True)
class _Index:
    table: str
    name: str
    columns: tuple[str, ...]
    sql: str  # CREATE INDEX statement; empty for a PRIMARY KEY / UNIQUE constraint


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _indexes(conn: duckdb.DuckDBPyConnection) -> list[_Index]:
    found = []
    for table, kind, columns, name in conn.execute(
        "SELECT table_name, constraint_type, constraint_column_names, constraint_name FROM duckdb_constraints()"
        " WHERE database_name = current_database() AND schema_name = 'main'"
        " AND constraint_type IN ('PRIMARY KEY', 'UNIQUE') ORDER BY table_name, constraint_index"
    ).fetchall():
        found.append(_Index(table, name or kind, tuple(columns), ""))
    for table, name, expressions, sql in conn.execute(
        "SELECT table_name, index_name, expressions, sql FROM duckdb_indexes()"
        " WHERE database_name = current_database() AND schema_name = 'main' ORDER BY table_name, index_name"
    ).fetchall():
        columns = tuple(c.strip().strip('"') for c in str(expressions).strip("[]").split(","))
        if all(re.fullmatch(r"\w+", c) for c in columns):  # expression indexes are not checked
            found.append(_Index(table, name, columns, sql))
    return found


def _keys(conn: duckdb.DuckDBPyConnection, index: _Index, rows: int, full: bool) -> dict[tuple, int]:
    """Keys found by a scan, each with how many rows hold it (1 for keys only sampled)."""
    cols = ", ".join(_quote(c) for c in index.columns)
    present = " AND ".join(f"{_quote(c)} IS NOT NULL" for c in index.columns)
    table = _quote(index.table)
    if full or rows <= FULL_CHECK_ROWS:
        found = conn.execute(f"SELECT {cols}, count(*) FROM {table} WHERE {present} GROUP BY ALL").fetchall()
        return {tuple(row[:-1]): int(row[-1]) for row in found}
    newest = conn.execute(
        f"SELECT {cols} FROM {table} WHERE {present} ORDER BY rowid DESC LIMIT {SAMPLE_ROWS}").fetchall()
    sample = conn.execute(
        f"SELECT {cols} FROM (SELECT {cols} FROM {table} WHERE {present}) USING SAMPLE {SAMPLE_ROWS} ROWS"
    ).fetchall()
    return dict.fromkeys(newest + sample, 1)


def _missing(conn: duckdb.DuckDBPyConnection, index: _Index, keys: dict[tuple, int]) -> int:
    """How many ``keys`` an index lookup finds in fewer rows than the scan did."""
    table = _quote(index.table)
    if len(index.columns) == 1:
        # An IN list of parameters is answered from the index (checked against a
        # stale index: it misses exactly what an equality lookup misses), about
        # 40 times faster than one query per key.
        column = _quote(index.columns[0])
        wanted = [key[0] for key in keys]
        missing = 0
        for start in range(0, len(wanted), _BATCH):
            batch = wanted[start:start + _BATCH]
            marks = ", ".join("?" * len(batch))
            seen = dict(conn.execute(
                f"SELECT {column}, count(*) FROM {table} WHERE {column} IN ({marks}) GROUP BY ALL", batch).fetchall())
            missing += sum(1 for key in batch if seen.get(key, 0) < keys[(key,)])
        return missing
    where = " AND ".join(f"{_quote(c)} = ?" for c in index.columns)
    query = f"SELECT count(*) FROM {table} WHERE {where}"
    missing = 0
    for key, scanned in keys.items():
        row = conn.execute(query, list(key)).fetchone()
        missing += (int(row[0]) if row else 0) < scanned
    return missing


def _rebuild(conn: duckdb.DuckDBPyConnection, index: _Index) -> None:
    """Rebuild one index in one transaction: re-create a secondary index, or copy a constrained table."""
    conn.execute("BEGIN TRANSACTION")
    try:
        if index.sql:
            conn.execute(f"DROP INDEX {_quote(index.name)}")
            conn.execute(index.sql)
        else:
            _rebuild_table(conn, index.table)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _rebuild_table(conn: duckdb.DuckDBPyConnection, table: str) -> None:
    # A PRIMARY KEY or UNIQUE index cannot be dropped on its own: copy the rows
    # into a fresh table with the same definition (which builds its indexes from
    # the rows), then swap. The secondary indexes of the table are re-created.
    row = conn.execute(
        "SELECT sql FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main'"
        " AND table_name = ?", [table]).fetchone()
    if row is None:
        raise LookupError(f"no table {table}")
    extra = [sql for (sql,) in conn.execute(
        "SELECT sql FROM duckdb_indexes() WHERE database_name = current_database() AND table_name = ?",
        [table]).fetchall()]
    fresh = f"{table}__rebuilt"
    create = re.sub(rf"^CREATE TABLE (main\.)?\"?{re.escape(table)}\"?", f"CREATE TABLE {_quote(fresh)}",
                    str(row[0]), count=1)
    if create == row[0]:
        raise ValueError(f"cannot read the definition of {table}")
    conn.execute(create)
    conn.execute(f"INSERT INTO {_quote(fresh)} SELECT * FROM {_quote(table)}")
    conn.execute(f"DROP TABLE {_quote(table)}")
    conn.execute(f"ALTER TABLE {_quote(fresh)} RENAME TO {_quote(table)}")
    for sql in extra:
        conn.execute(sql)


def check_indexes(conn: duckdb.DuckDBPyConnection, *, full: bool = False, repair: bool = True) -> list[IndexCheck]:
    """Compare every PRIMARY KEY, UNIQUE and secondary index with a scan; rebuild those that disagree.

    ``full`` looks up every key; otherwise tables above ``FULL_CHECK_ROWS`` rows
    are checked on their newest rows and a random sample. ``conn`` must be the
    store's write connection when ``repair`` is true.
    """
    results = []
    for index in _indexes(conn):
        rows = int(conn.execute(f"SELECT count(*) FROM {_quote(index.table)}").fetchone()[0])  # type: ignore[index]
        keys = _keys(conn, index, rows, full)
        missing = _missing(conn, index, keys)
        rebuilt, error = False, ""
        if missing and repair:
            try:
                _rebuild(conn, index)
                rebuilt = _missing(conn, index, keys) == 0
                error = "" if rebuilt else "the rebuilt index still misses keys"
            except duckdb.Error as failure:  # e.g. duplicate keys that a broken unique index let in
                error = str(failure).splitlines()[0]
        elif missing:
            error = "repair not requested"
        results.append(IndexCheck(index.table, index.name, index.columns, rows, len(keys), missing, rebuilt, error))
    return results
