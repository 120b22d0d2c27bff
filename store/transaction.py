"""The one handle the service layer gets inside a write: :class:`Tx`.

A ``Tx`` is one open transaction on the metadata store's write path. It speaks
DuckDB SQL whatever the backend (DuckDB is the query engine on all of them), so
nothing above ``store/`` imports ``duckdb`` or learns which engine holds the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["Tx", "Rows", "Params"]

Params = Sequence[Any] | dict[str, Any] | None


class Rows:
    """The result of one statement: ``fetchone()``, ``fetchall()`` and the column names."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    @property
    def columns(self) -> list[str]:
        """The result's column names, in order."""
        return [d[0] for d in self._cursor.description or []]

    @property
    def description(self) -> Any:
        """DB-API style column descriptions (the first item of each is the name)."""
        return self._cursor.description

    def fetchone(self) -> tuple[Any, ...] | None:
        """The next row as a tuple, or None."""
        row = self._cursor.fetchone()
        return tuple(row) if row is not None else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        """Every remaining row as tuples."""
        return [tuple(row) for row in self._cursor.fetchall()]

    def dicts(self) -> list[dict[str, Any]]:
        """Every remaining row as a dict keyed by column name."""
        columns = self.columns
        return [dict(zip(columns, row, strict=True)) for row in self._cursor.fetchall()]


class Tx:
    """One write transaction: run statements, read inside it, act after it commits.

    ``work(tx)`` passed to :meth:`store.MetadataStore.write` may run more than once
    (a conflict with another writer is retried), so it must only touch the database;
    anything else belongs in :meth:`after_commit`.
    """

    def __init__(self, cursor: Any, *, server: Callable[[str], None] | None = None) -> None:
        self._cursor = cursor
        self._server = server
        self._after: list[Callable[[], None]] = []

    def execute(self, sql: str, params: Params = None) -> Rows:
        """Run one statement; its rows (if any) are in the returned :class:`Rows`."""
        self._cursor.execute(sql, params or [])
        return Rows(self._cursor)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement once per parameter row."""
        if rows:
            self._cursor.executemany(sql, rows)

    def query(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        """Rows as dicts, read inside this transaction (sees its own writes)."""
        return self.execute(sql, params).dicts()

    def one(self, sql: str, params: Params = None) -> dict[str, Any] | None:
        """The first row as a dict, or None."""
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: Params = None) -> Any:
        """The first column of the first row, or None."""
        row = self.execute(sql, params).fetchone()
        return row[0] if row else None

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` once this transaction has committed (never if it rolls back)."""
        self._after.append(callback)

    def on_server(self, sql: str) -> bool:
        """Send ``sql`` to the backing server inside this transaction; False on the embedded file.

        Used for what only PostgreSQL has (``NOTIFY`` on commit); callers fall back otherwise.
        """
        if self._server is None:
            return False
        self._server(sql)
        return True

    def _committed(self) -> list[Callable[[], None]]:
        return list(self._after)
