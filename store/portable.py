"""Metadata in and out as Parquet (``workbench backup`` / ``restore``): the part that knows it is DuckDB."""

from __future__ import annotations

from pathlib import Path

import duckdb

from store.transaction import Tx

__all__ = ["export_tables", "import_tables"]


def export_tables(tx: Tx, folder: Path) -> tuple[int, dict[str, int]]:
    """Every table of the database ``tx`` writes to into ``folder`` (Parquet); returns (schema version, row counts).

    Run it inside a write, so no other change commits while the tables are copied.
    """
    folder.mkdir(parents=True)
    tx.execute(f"EXPORT DATABASE '{folder}' (FORMAT parquet)")  # path is ours, made by mkdir above
    names = [row[0] for row in tx.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1").fetchall()]
    counts = {name: int(tx.scalar(f'SELECT count(*) FROM "{name}"')) for name in names}
    version = int(tx.scalar("SELECT coalesce(max(version), 0) FROM schema_version"))
    return version, counts


def import_tables(db_path: str, folder: Path, export_path: str) -> dict[str, int]:
    """Load an :func:`export_tables` folder into a new DuckDB file; returns the row counts."""
    load = (folder / "load.sql").read_text().replace(export_path, str(folder))
    conn = duckdb.connect(db_path)
    try:
        conn.execute((folder / "schema.sql").read_text())
        conn.execute(load)
        names = [row[0] for row in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()]
        counts = {name: int(conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])  # type: ignore[index]
                  for name in names}
        conn.execute("CHECKPOINT")
    finally:
        conn.close()
    return counts
