"""Metadata and vectors in and out of a backup folder (``workbench backup`` / ``restore``): the engine-specific part."""

from __future__ import annotations

from pathlib import Path

import duckdb
import lancedb
import pyarrow as pa

from store.transaction import Tx
from store.vectors import VectorStore

__all__ = ["export_tables", "import_tables", "export_vectors", "read_vectors"]


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


def export_vectors(vectors: VectorStore, folder: Path) -> dict[str, int]:
    """Copy every vector table of ``vectors`` into a local LanceDB folder; returns rows per table."""
    source = lancedb.connect(vectors.uri, storage_options=vectors.storage_options or None)
    target = lancedb.connect(str(folder))
    counts: dict[str, int] = {}
    for name in vectors.table_names():
        data = source.open_table(name).to_arrow()
        target.create_table(name, data=data, schema=data.schema)
        counts[name] = data.num_rows
    return counts


def read_vectors(folder: Path, name: str) -> pa.Table:
    """One table of an :func:`export_vectors` folder."""
    return lancedb.connect(str(folder)).open_table(name).to_arrow()
