"""The vector store: LanceDB tables of embeddings with owner and filter columns.

A local directory by default, ``az://container/prefix`` on Azure (the
container is created first through adlfs, because LanceDB will not). Every
row carries the owner and visibility, so a search prefilters with a
:class:`VectorFilter` (rendered here into LanceDB's SQL, every value quoted)
and never even scores another user's private rows.

Several processes share a store (web replicas, embedding workers): a connection
checks for their commits at most ``read_consistency_seconds`` after its last
look (LanceDB's ``read_consistency_interval``), so a new image is searchable
everywhere within that bound; 0 checks on every read.

How a table is searched follows its size (:func:`index_plan`, measured in
``bench/search.py``): below ``index_threshold`` rows a search is exact; above
it the table gets an index of about sqrt(rows) partitions: IVF_FLAT up to
500,000 rows (exact distances in the partitions nearest the query; 5 % of them
probed, at least 16), IVF_PQ beyond (compact codes, 1/8 of the partitions
probed, the best 10x re-ranked exactly); plus bitmap indexes on ``owner`` and
``visibility`` so the prefilter is a lookup, not a scan. A fixed number of
probes loses recall as the table grows (8 probes of 256 partitions: recall@10
0.81 at 1,000,000 rows), so the index is rebuilt with more partitions each
time the table has grown enough to want twice as many. Rows added after a
build are searched exactly until enough pile up; then
:meth:`VectorStore.maybe_index` folds them in.
"""

from __future__ import annotations

import math
import os
import re
import threading
import time
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

# lancedb 0.40 logs a deprecation WARN on every projected search (lancedb#2810)
# even when _distance is selected; keep user consoles and notebooks readable.
os.environ.setdefault("LANCE_LOG", "error")

import lancedb  # noqa: E402 - must follow the log setting
import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
from lancedb.index import Bitmap, IvfFlat, IvfPq  # noqa: E402

from store.vector_filter import VectorFilter  # noqa: E402
from store.vector_index import PQ_FROM_ROWS, PQ_REFINE, IndexPlan, index_plan, probes_for, sub_vectors  # noqa: E402

__all__ = ["VectorStore", "VectorFilter", "IndexPlan", "index_plan", "probes_for"]

# Tables indexed by an earlier version (quantized HNSW) re-rank their candidates exactly.
_OLD_REFINE_FACTOR = 2
# The vector index's name records its kind and partition count (LanceDB's statistics do
# not), so a later process knows how many to probe and when the table has outgrown them.
_INDEX_NAME = re.compile(r"^vector_ivf_(flat|pq)_p(\d+)$")
_KINDS = {"flat": "IVF_FLAT", "pq": "IVF_PQ"}
# Columns every search prefilters on; they get bitmap indexes with the vector index.
_FILTER_COLUMNS = ("owner", "visibility")


def sql_quote(value: str) -> str:
    """Quote a string literal for a LanceDB ``where`` clause (store-internal: callers pass a VectorFilter).

    LanceDB's SQL takes backslashes in a plain literal as themselves; only ``'`` needs doubling.
    """
    return "'" + str(value).replace("'", "''") + "'"


# -- VectorFilter -> LanceDB SQL -------------------------------------------------------
def _quoted_list(values: Iterable[str]) -> str:
    return ", ".join(sql_quote(v) for v in sorted(values))


def _in(column: str, values: frozenset[str], *, negate: bool = False) -> str:
    if len(values) == 1:  # "=" keeps the plain form the bitmap index on owner/visibility is known to serve
        return f"{column} {'<>' if negate else '='} {sql_quote(next(iter(values)))}"
    return f"{column} {'NOT IN' if negate else 'IN'} ({_quoted_list(values)})"


def _like_literal(text: str) -> str:
    # LanceDB's LIKE takes only the backslash as its escape character.
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _timestamp(moment: datetime) -> str:
    return f"TIMESTAMP {sql_quote(moment.strftime('%Y-%m-%d %H:%M:%S'))}"


def _lance_terms(where: VectorFilter) -> list[str]:
    terms: list[str] = []
    for column, only, never in (("id", where.ids, where.exclude_ids), ("owner", where.owners, where.not_owners),
                                ("visibility", where.visibility, ())):
        if only is not None:
            terms.append(_in(column, frozenset(only)) if only else "FALSE")
        if never:
            terms.append(_in(column, frozenset(never), negate=True))
    if where.owner_or_visible is not None:
        owner, visibilities = where.owner_or_visible
        mine = f"owner = {sql_quote(owner)}"
        terms.append(f"({mine} OR {_in('visibility', frozenset(visibilities))})" if visibilities else mine)
    for tag in where.tags_all:
        terms.append(f"tags LIKE {sql_quote('%|' + _like_literal(tag) + '|%')} ESCAPE '\\'")
    if where.since is not None:
        terms.append(f"created_at >= {_timestamp(where.since)}")
    if where.until is not None:
        terms.append(f"created_at <= {_timestamp(where.until)}")
    for part in where.all_of:
        terms.extend(_lance_terms(part))
    return terms


def _lance_where(where: VectorFilter | None) -> str | None:
    """The LanceDB SQL for a filter, or None when it leaves every row in."""
    if where is None:
        return None
    if not isinstance(where, VectorFilter):
        raise TypeError(f"A vector filter is a store.VectorFilter, not {type(where).__name__}: "
                        "the store writes the SQL so every value is quoted.")
    return " AND ".join(_lance_terms(where)) or None


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

    ``read_consistency_seconds``: how stale a read may be against other processes'
    writes (0: every read checks for them; this process's own writes are always seen).

    >>> vs = VectorStore("/tmp/vectors-doc")
    >>> vs.count("images", VectorFilter(owners={"u1"}))
    """

    def __init__(
        self,
        uri: str,
        *,
        storage_options: dict[str, str] | None = None,
        index_threshold: int = 5000,
        fsspec_options: dict[str, Any] | None = None,
        quantize_from: int = PQ_FROM_ROWS,
        read_consistency_seconds: float = 5.0,
    ) -> None:
        if not read_consistency_seconds >= 0:  # also refuses NaN
            raise ValueError(f"read_consistency_seconds must be 0 or more, not {read_consistency_seconds}.")
        self.uri = uri
        self.read_consistency_seconds = float(read_consistency_seconds)
        self.quantize_from = quantize_from  # rows from which the index is IVF_PQ (see index_plan)
        self.storage_options = storage_options or {}
        self.index_threshold = index_threshold
        self.fsspec_options = fsspec_options or {}
        if uri.startswith(("az://", "abfs://", "abfss://")):
            self._ensure_container(uri, self.fsspec_options)
        # The interval makes every open table handle (cached below) look for other processes'
        # commits once it is older than the bound, so caching handles hides nothing for longer.
        self._db = lancedb.connect(uri, storage_options=self.storage_options or None,
                                   read_consistency_interval=timedelta(seconds=self.read_consistency_seconds))
        self._tables: dict[str, Any] = {}
        # table -> (IVF_FLAT/IVF_PQ/other, partitions, when seen): another process may rebuild the
        # index with more partitions, so what we saw is trusted only for the same bound.
        self._indexed: dict[str, tuple[str, int, float]] = {}
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

    def append(self, name: str, rows: pa.Table) -> None:
        """Add rows known to be new (a bulk load: no check for existing ids, unlike :meth:`upsert`)."""
        table = self._table(name)
        with self._lock:
            table.add(rows.select(table.schema.names).cast(table.schema))

    def delete(self, name: str, ids: Sequence[str] | VectorFilter) -> None:
        """Remove the rows with these ids, or the rows a filter matches (missing ids are ignored)."""
        where = ids if isinstance(ids, VectorFilter) else VectorFilter(ids=ids)
        if where.ids is not None and not where.ids:
            return
        sql = self._writable_where(where, "delete")
        table = self._table(name)
        with self._lock:
            table.delete(sql)

    def update(self, name: str, where: VectorFilter, values: dict[str, Any]) -> None:
        """Set column values on the rows matching ``where`` (e.g. a new visibility).

        >>> vs.update("images", VectorFilter(ids={"img1"}), {"visibility": "public"})
        """
        sql = self._writable_where(where, "update")
        table = self._table(name)
        with self._lock:
            table.update(where=sql, values=values)

    @staticmethod
    def _writable_where(where: VectorFilter, verb: str) -> str:
        sql = _lance_where(where)
        if sql is None:  # a forgotten filter must not rewrite a whole table
            raise ValueError(f"Refusing to {verb} every row: pass a VectorFilter that says which.")
        return sql

    # -- reads -------------------------------------------------------------
    def count(self, name: str, where: VectorFilter | None = None) -> int:
        """Number of rows (matching ``where``)."""
        return int(self._table(name).count_rows(_lance_where(where)))

    def refresh(self, name: str) -> None:
        """Look for other processes' commits to ``name`` now, not at the next read-consistency check.

        For decisions that must not take "not in my view yet" for "missing" (reconcile).
        """
        self._table(name).checkout_latest()

    def ids(self, name: str, where: VectorFilter | None = None) -> set[str]:
        """The ids of all rows (matching ``where``)."""
        sql = _lance_where(where)
        query = self._table(name).search().select(["id"])
        if sql:
            query = query.where(sql)
        return {row["id"] for row in query.limit(None).to_list()} if self.count(name) else set()

    def get(self, name: str, ids: Sequence[str], columns: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Rows by id (in no particular order)."""
        if not ids:
            return []
        query = self._table(name).search().where(_lance_where(VectorFilter(ids=ids)))
        if columns:
            query = query.select(list(columns))
        return list(query.limit(len(ids)).to_list())

    def search(
        self,
        name: str,
        vector: Sequence[float] | np.ndarray,
        *,
        where: VectorFilter | None = None,
        limit: int = 10,
        columns: Sequence[str] | None = None,
        exact: bool = False,
    ) -> list[dict[str, Any]]:
        """Nearest rows by cosine distance, prefiltered by ``where``; each row has ``_distance``.

        ``exact=True`` scans every row even when an index exists (the ground truth for recall).

        >>> vs.search("images", query, where=VectorFilter(owner_or_visible=("u1", {"team", "public"})))
        """
        sql = _lance_where(where)
        table = self._table(name)
        query = table.search(np.asarray(vector, dtype=np.float32)).distance_type("cosine")
        if sql:
            query = query.where(sql, prefilter=True)
        if columns:
            query = query.select([*columns, "_distance"])
        if exact:
            query = query.bypass_vector_index()
        elif self.has_index(name):
            kind, partitions, _ = self._indexed[name]
            probes = probes_for(kind, partitions)
            if sql:
                # A narrow filter (one person's few images) may leave too few rows in the
                # probed partitions: LanceDB then probes further, up to 4x. Not without a cap:
                # at 1M rows an unbounded maximum made filtered searches 3x slower (100 vs 33 ms).
                query = query.minimum_nprobes(probes).maximum_nprobes(min(partitions, 4 * probes))
            else:
                query = query.nprobes(probes)  # fixes the maximum too, or it scans every partition
            if kind == "IVF_PQ":
                query = query.refine_factor(PQ_REFINE)
            elif kind != "IVF_FLAT":
                query = query.refine_factor(_OLD_REFINE_FACTOR)
        return list(query.limit(limit).to_list())

    # -- index ---------------------------------------------------------------
    def _vector_index(self, name: str) -> Any:
        return next((idx for idx in self._table(name).list_indices() if "vector" in idx.columns), None)

    def has_index(self, name: str) -> bool:
        """Whether the table has an ANN index on its vector column."""
        # Asked on every search: remember a yes for the read-consistency bound (maybe_index
        # updates it when it rebuilds here; another process's rebuild is seen after the bound).
        seen = self._indexed.get(name)
        if seen is not None and time.monotonic() - seen[2] <= self.read_consistency_seconds:
            return True
        index = self._vector_index(name)
        if index is None:
            self._indexed.pop(name, None)
            return False
        self._indexed[name] = (*self._describe(name, index), time.monotonic())
        return True

    def _describe(self, name: str, index: Any) -> tuple[str, int]:
        found = _INDEX_NAME.match(index.name)
        if found:
            return _KINDS[found.group(1)], int(found.group(2))
        # Built by an earlier version (IVF_FLAT, or HNSW before that): sqrt(rows) partitions
        # at build time, at most 256.
        stats = self._table(name).index_stats(index.name)
        rows = int(stats.num_indexed_rows) if stats else self.count(name)
        kind = "IVF_FLAT" if str(index.index_type) == "IvfFlat" else str(index.index_type)
        return kind, max(1, min(256, int(math.sqrt(max(rows, 1)))))

    def index_partitions(self, name: str) -> int:
        """Partitions of the table's vector index (0 when it has none)."""
        return self._indexed[name][1] if self.has_index(name) else 0

    def maybe_index(self, name: str, *, force: bool = False) -> bool:
        """Give the table the index its size calls for (:func:`index_plan`); returns True if one was built.

        Builds the first index once the table passes the threshold, rebuilds it
        with more partitions once the table wants at least twice as many, and
        otherwise folds rows added since into the index once they reach a tenth
        of the table (they are searched exactly until then).
        """
        table = self._table(name)
        rows = table.count_rows()
        plan = index_plan(rows, threshold=0 if force else self.index_threshold, quantize_from=self.quantize_from)
        if rows == 0 or plan.kind == "exact":
            return False
        current = self.index_partitions(name)
        if current and plan.partitions < 2 * current and self._indexed[name][0] == plan.kind:
            if self.unindexed_rows(name) >= max(self.index_threshold // 5, rows // 10):
                self.optimize(name)
            return False
        old = self._vector_index(name) if current else None
        index_name = f"vector_ivf_{'pq' if plan.kind == 'IVF_PQ' else 'flat'}_p{plan.partitions}"
        config: Any = IvfFlat(distance_type="cosine", num_partitions=plan.partitions)
        if plan.kind == "IVF_PQ":
            dimension = table.schema.field("vector").type.list_size
            config = IvfPq(distance_type="cosine", num_partitions=plan.partitions,
                           num_sub_vectors=sub_vectors(dimension))
        with self._lock:
            # The new index is built beside the old one, which keeps answering until it is dropped.
            table.create_index("vector", config=config, name=index_name, replace=True)
            if old is not None and old.name != index_name:
                table.drop_index(old.name)
            self._indexed.pop(name, None)
            if not current:
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
