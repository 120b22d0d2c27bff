"""The vector store: LanceDB tables of embeddings with owner and filter columns.

A local directory by default, ``az://container/prefix`` on Azure (the
container is created first through adlfs, because LanceDB will not). Every
row carries the owner and visibility, so a search prefilters with a ``where``
clause and never even scores another user's private rows.

Below ``index_threshold`` rows a search is exact (a flat scan is both exact
and fast at that size); above it the table gets an IVF_FLAT index (a search
scores only the few partitions nearest the query, with exact distances) and
bitmap indexes on ``owner`` and ``visibility`` so the prefilter is a lookup,
not a scan. Rows added after the index are searched exactly until enough of
them pile up; then :meth:`VectorStore.maybe_index` folds them in.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any

# lancedb 0.40 logs a deprecation WARN on every projected search (lancedb#2810)
# even when _distance is selected; keep user consoles and notebooks readable.
os.environ.setdefault("LANCE_LOG", "error")

import lancedb  # noqa: E402 - must follow the log setting
import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
from lancedb.index import Bitmap, IvfFlat  # noqa: E402

__all__ = ["VectorStore", "sql_quote"]

# Measured on 100k clustered vectors (bench/search.py): IVF_FLAT scores exact distances in
# the probed partitions, so 8 of 256 partitions (3 %) keep recall@10 at 1.0 with no re-rank.
_NPROBES = 8
# Tables indexed by an earlier version (quantized HNSW) re-rank their candidates exactly.
_REFINE_FACTOR = 2
# Columns every search prefilters on; they get bitmap indexes with the vector index.
_FILTER_COLUMNS = ("owner", "visibility")


def sql_quote(value: str) -> str:
    """Quote a string literal for a LanceDB ``where`` clause."""
    return "'" + str(value).replace("'", "''") + "'"


def azure_storage_options(container_url: str, creds: dict[str, str]) -> dict[str, str]:
    """LanceDB ``storage_options`` for an Azure (or Azurite) account."""
    options: dict[str, str] = {}
    conn = creds.get("connection_string", "")
    parts = dict(p.split("=", 1) for p in conn.split(";") if "=" in p)
    name = creds.get("account_name") or parts.get("AccountName", "")
    key = creds.get("account_key") or parts.get("AccountKey", "")
    if name:
        options["account_name"] = name
    if key:
        options["account_key"] = key
    endpoint = parts.get("BlobEndpoint")
    if endpoint:
        options["endpoint"] = endpoint.rstrip("/")
        if endpoint.startswith("http://"):
            options["allow_http"] = "true"
    return options


class VectorStore:
    """Named LanceDB tables with upsert, delete and prefiltered search.

    >>> vs = VectorStore("/tmp/vectors-doc")
    """

    def __init__(
        self,
        uri: str,
        *,
        storage_options: dict[str, str] | None = None,
        index_threshold: int = 5000,
        fsspec_options: dict[str, Any] | None = None,
    ) -> None:
        self.uri = uri
        self.storage_options = storage_options or {}
        self.index_threshold = index_threshold
        self.fsspec_options = fsspec_options or {}
        if uri.startswith(("az://", "abfs://", "abfss://")):
            self._ensure_container(uri, self.fsspec_options)
        self._db = lancedb.connect(uri, storage_options=self.storage_options or None)
        self._tables: dict[str, Any] = {}
        self._indexed: dict[str, str] = {}  # table -> vector index type, once seen
        # Opening a table and merging into it from two threads at once makes
        # two commits race; LanceDB retries, but serializing our own writes
        # keeps the ordering simple and the error paths clear.
        self._lock = threading.RLock()

    @staticmethod
    def _ensure_container(uri: str, fsspec_options: dict[str, Any]) -> None:
        import adlfs

        container = uri.split("://", 1)[1].split("/", 1)[0]
        fs = adlfs.AzureBlobFileSystem(**fsspec_options)
        if not fs.exists(container):
            fs.mkdir(container)

    # -- tables ------------------------------------------------------------
    def ensure_table(self, name: str, schema: pa.Schema) -> None:
        """Create the table if it does not exist (the schema must have ``id`` and ``vector``)."""
        with self._lock:
            if name in self._tables:
                return
            self._tables[name] = self._db.create_table(name, schema=schema, exist_ok=True)

    def _table(self, name: str) -> Any:
        with self._lock:
            if name not in self._tables:
                self._tables[name] = self._db.open_table(name)
            return self._tables[name]

    def table_names(self) -> list[str]:
        """Names of every table in this store."""
        names: list[str] = []
        token = None
        while True:
            page = self._db.list_tables(page_token=token) if token else self._db.list_tables()
            names.extend(page.tables)
            token = page.page_token
            if not token:
                return names

    def has_table(self, name: str) -> bool:
        """Whether the table exists."""
        return name in self._tables or name in self.table_names()

    def drop_table(self, name: str) -> None:
        """Remove a table and all its vectors."""
        with self._lock:
            self._tables.pop(name, None)
            self._indexed.pop(name, None)
            if name in self.table_names():
                self._db.drop_table(name)

    # -- writes ------------------------------------------------------------
    def upsert(self, name: str, rows: Sequence[dict[str, Any]]) -> None:
        """Insert rows, replacing any with the same ``id``."""
        if not rows:
            return
        table = self._table(name)
        data = pa.Table.from_pylist(list(rows), schema=table.schema)
        with self._lock:
            (
                table.merge_insert("id")
                .when_matched_update_all()
                .when_not_matched_insert_all()
                .execute(data)
            )

    def delete(self, name: str, ids: Sequence[str]) -> None:
        """Remove the rows with these ids (missing ids are ignored)."""
        if not ids:
            return
        table = self._table(name)
        with self._lock:
            table.delete("id IN (" + ", ".join(sql_quote(i) for i in ids) + ")")

    def update(self, name: str, where: str, values: dict[str, Any]) -> None:
        """Set column values on the rows matching ``where`` (e.g. a new visibility)."""
        table = self._table(name)
        with self._lock:
            table.update(where=where, values=values)

    # -- reads -------------------------------------------------------------
    def count(self, name: str, where: str | None = None) -> int:
        """Number of rows (matching ``where``)."""
        return int(self._table(name).count_rows(where))

    def ids(self, name: str, where: str | None = None) -> set[str]:
        """The ids of all rows (matching ``where``)."""
        query = self._table(name).search().select(["id"])
        if where:
            query = query.where(where)
        return {row["id"] for row in query.limit(None).to_list()} if self.count(name) else set()

    def get(self, name: str, ids: Sequence[str], columns: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Rows by id (in no particular order)."""
        if not ids:
            return []
        query = self._table(name).search().where("id IN (" + ", ".join(sql_quote(i) for i in ids) + ")")
        if columns:
            query = query.select(list(columns))
        return list(query.limit(len(ids)).to_list())

    def search(
        self,
        name: str,
        vector: Sequence[float] | np.ndarray,
        *,
        where: str | None = None,
        limit: int = 10,
        columns: Sequence[str] | None = None,
        exact: bool = False,
    ) -> list[dict[str, Any]]:
        """Nearest rows by cosine distance, prefiltered by ``where``; each row has ``_distance``.

        ``exact=True`` scans every row even when an index exists (the ground truth for recall).
        """
        table = self._table(name)
        query = table.search(np.asarray(vector, dtype=np.float32)).distance_type("cosine")
        if where:
            query = query.where(where, prefilter=True)
        if columns:
            query = query.select([*columns, "_distance"])
        if exact:
            query = query.bypass_vector_index()
        elif self.has_index(name):
            query = query.nprobes(_NPROBES)
            if self._indexed[name] != "IvfFlat":
                query = query.refine_factor(_REFINE_FACTOR)
        return list(query.limit(limit).to_list())

    # -- index ---------------------------------------------------------------
    def _vector_index(self, name: str) -> Any:
        return next((idx for idx in self._table(name).list_indices() if "vector" in idx.columns), None)

    def has_index(self, name: str) -> bool:
        """Whether the table has an ANN index on its vector column."""
        # Asked on every search: remember a yes (an index is never dropped here).
        if name in self._indexed:
            return True
        index = self._vector_index(name)
        if index is None:
            return False
        self._indexed[name] = str(index.index_type)
        return True

    def maybe_index(self, name: str, *, force: bool = False) -> bool:
        """Build the ANN index once the table passes the threshold; returns True if built.

        On an indexed table, folds the rows added since into the index once they
        reach a tenth of the table (they are searched exactly until then).
        """
        table = self._table(name)
        rows = table.count_rows()
        if rows == 0 or (rows < self.index_threshold and not force):
            return False
        if self.has_index(name):
            if self.unindexed_rows(name) >= max(self.index_threshold // 5, rows // 10):
                self.optimize(name)
            return False
        partitions = max(1, min(256, int(np.sqrt(rows))))
        with self._lock:
            table.create_index("vector", config=IvfFlat(distance_type="cosine", num_partitions=partitions))
            for column in _FILTER_COLUMNS:
                if column in table.schema.names:
                    table.create_index(column, config=Bitmap())
        return self.has_index(name)

    def unindexed_rows(self, name: str) -> int:
        """Rows not yet in the vector index (all of them when there is none)."""
        index = self._vector_index(name)
        if index is None:
            return self.count(name)
        stats = self._table(name).index_stats(index.name)
        return int(stats.num_unindexed_rows) if stats else 0

    def optimize(self, name: str) -> None:
        """Compact files and fold new rows into the index."""
        with self._lock:
            self._table(name).optimize()
