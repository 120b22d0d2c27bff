"""What every vector store location must do, written once.

A backend's test class inherits this and overrides the ``vectors`` fixture.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from store import VectorStore, sql_quote

DIM = 8
SCHEMA = pa.schema(
    [
        pa.field("id", pa.string()),
        pa.field("owner", pa.string()),
        pa.field("visibility", pa.string()),
        pa.field("tags", pa.string()),
        pa.field("vector", pa.list_(pa.float32(), DIM)),
    ]
)


def unit(seed: int) -> list[float]:
    vec = np.random.default_rng(seed).normal(size=DIM).astype(np.float32)
    return list(vec / np.linalg.norm(vec))


def row(i: int, owner: str = "ana", visibility: str = "private", tags: str = "") -> dict:
    return {"id": f"img{i}", "owner": owner, "visibility": visibility, "tags": tags, "vector": unit(i)}


class VectorStoreContract:
    @pytest.fixture
    def vectors(self) -> VectorStore:  # pragma: no cover - overridden
        raise NotImplementedError

    @pytest.fixture
    def table(self, vectors: VectorStore) -> str:
        vectors.ensure_table("images", SCHEMA)
        return "images"

    def test_add_and_search_finds_nearest_first(self, vectors: VectorStore, table: str) -> None:
        vectors.upsert(table, [row(i) for i in range(20)])
        hits = vectors.search(table, unit(7), limit=3)
        assert hits[0]["id"] == "img7"
        assert hits[0]["_distance"] == pytest.approx(0.0, abs=1e-5)
        assert len(hits) == 3

    def test_upsert_replaces_by_id(self, vectors: VectorStore, table: str) -> None:
        vectors.upsert(table, [row(1)])
        vectors.upsert(table, [{**row(1), "tags": "|noir|"}])
        assert vectors.count(table) == 1
        assert vectors.get(table, ["img1"])[0]["tags"] == "|noir|"

    def test_prefilter_never_returns_other_owners_private_rows(self, vectors: VectorStore, table: str) -> None:
        vectors.upsert(table, [row(i, owner="ana") for i in range(10)])
        vectors.upsert(table, [row(i + 100, owner="ben") for i in range(10)])
        vectors.upsert(table, [row(200, owner="ben", visibility="public")])
        where = f"owner = {sql_quote('ana')} OR visibility = 'public'"
        hits = vectors.search(table, unit(105), where=where, limit=50)
        owners = {(h["owner"], h["visibility"]) for h in hits}
        assert ("ben", "private") not in owners
        assert len(hits) == 11

    def test_prefilter_on_tags(self, vectors: VectorStore, table: str) -> None:
        vectors.upsert(table, [row(1, tags="|noir|rain|"), row(2, tags="|western|"), row(3, tags="|noir|")])
        hits = vectors.search(table, unit(2), where="tags LIKE '%|noir|%'", limit=10)
        assert {h["id"] for h in hits} == {"img1", "img3"}

    def test_delete_removes_rows(self, vectors: VectorStore, table: str) -> None:
        vectors.upsert(table, [row(i) for i in range(5)])
        vectors.delete(table, ["img1", "img3", "missing"])
        assert vectors.ids(table) == {"img0", "img2", "img4"}

    def test_update_changes_filter_columns(self, vectors: VectorStore, table: str) -> None:
        vectors.upsert(table, [row(1)])
        vectors.update(table, "id = 'img1'", {"visibility": "public"})
        assert vectors.count(table, "visibility = 'public'") == 1

    def test_quotes_in_filters_are_safe(self, vectors: VectorStore, table: str) -> None:
        vectors.upsert(table, [row(1, owner="o'brien")])
        assert vectors.count(table, f"owner = {sql_quote(chr(39) + ' OR 1=1 --')}") == 0
        assert vectors.count(table, f"owner = {sql_quote('o' + chr(39) + 'brien')}") == 1

    def test_index_built_above_threshold_and_search_still_exact_for_top_hit(
        self, vectors: VectorStore, table: str
    ) -> None:
        vectors.index_threshold = 300
        vectors.upsert(table, [row(i) for i in range(299)])
        assert vectors.maybe_index(table) is False
        vectors.upsert(table, [row(i) for i in range(299, 400)])
        assert vectors.maybe_index(table) is True
        assert vectors.has_index(table)
        hits = vectors.search(table, unit(123), limit=5, where="owner = 'ana'")
        assert hits[0]["id"] == "img123"

    def test_rows_added_after_the_index_are_found_then_folded_in(self, vectors: VectorStore, table: str) -> None:
        vectors.index_threshold = 300
        vectors.upsert(table, [row(i, owner="ana" if i % 2 else "ben") for i in range(400)])
        assert vectors.maybe_index(table) is True
        indexed = {tuple(idx.columns) for idx in vectors._table(table).list_indices()}
        assert {("vector",), ("owner",), ("visibility",)} <= indexed
        vectors.upsert(table, [row(i, owner="cy") for i in range(400, 430)])
        assert vectors.unindexed_rows(table) == 30
        assert vectors.maybe_index(table) is False and vectors.unindexed_rows(table) == 30  # too few to fold yet
        assert vectors.search(table, unit(415), limit=1, where="owner = 'cy'")[0]["id"] == "img415"
        vectors.upsert(table, [row(i, owner="cy") for i in range(430, 470)])
        vectors.maybe_index(table)
        assert vectors.unindexed_rows(table) == 0
        assert vectors.count(table, "owner = 'cy'") == 70
        assert vectors.search(table, unit(455), limit=1, where="owner = 'cy'")[0]["id"] == "img455"
        assert vectors.search(table, unit(7), limit=1, where="owner = 'ana'")[0]["id"] == "img7"

    def test_reopening_sees_the_same_rows(self, vectors: VectorStore, table: str) -> None:
        vectors.upsert(table, [row(i) for i in range(3)])
        again = VectorStore(
            vectors.uri, storage_options=vectors.storage_options, fsspec_options=vectors.fsspec_options
        )
        assert again.ids(table) == {"img0", "img1", "img2"}
