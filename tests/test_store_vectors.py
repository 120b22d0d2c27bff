"""The vector contract on a local directory and on Azurite (az://)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from store import VectorStore, azure_storage_options
from store.vectors import IndexPlan, VectorFilter, index_plan, probes_for
from tests.kits.vector_contract import VectorStoreContract


class TestLocalVectors(VectorStoreContract):
    @pytest.fixture
    def vectors(self, tmp_path: Path) -> VectorStore:
        return VectorStore(str(tmp_path / "vectors"))


@pytest.mark.azure
class TestAzuriteVectors(VectorStoreContract):
    @pytest.fixture
    def vectors(self, azurite: str, az_container: str) -> VectorStore:
        creds = {"connection_string": azurite}
        return VectorStore(
            f"az://{az_container}/vectors",
            storage_options=azure_storage_options(f"az://{az_container}", creds),
            fsspec_options=creds,
        )


# -- how a table of some size is indexed and searched -------------------------------------
def test_the_index_plan_follows_the_table_size() -> None:
    assert index_plan(4_999) == IndexPlan("exact")
    assert index_plan(5_000) == IndexPlan("IVF_FLAT", 71, 16)
    assert index_plan(10_000) == IndexPlan("IVF_FLAT", 100, 16)
    assert index_plan(100_000) == IndexPlan("IVF_FLAT", 316, 16)
    assert index_plan(499_999) == IndexPlan("IVF_FLAT", 707, 36)
    # Beyond, compact codes re-ranked exactly: recall@10 0.997 at 1M with 128 probes.
    assert index_plan(500_000) == IndexPlan("IVF_PQ", 707, 89, 10)
    assert index_plan(1_000_000) == IndexPlan("IVF_PQ", 1000, 125, 10)
    assert index_plan(300, threshold=300) == IndexPlan("IVF_FLAT", 17, 16)
    assert probes_for("IVF_FLAT", 8) == 8 and probes_for("IVF_FLAT", 2000) == 100
    assert probes_for("IVF_PQ", 2000) == 250


DIM = 64


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.normal(size=(n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _fill(vectors: VectorStore, data: np.ndarray, owners: list[str], start: int = 0) -> None:
    vectors.upsert("t", [{"id": f"r{start + i}", "owner": owners[i], "visibility": "private", "vector": v.tolist()}
                         for i, v in enumerate(data)])


def test_an_indexed_search_finds_the_exact_nearest_neighbour_with_and_without_the_owner_filter(
        tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    vectors = VectorStore(str(tmp_path / "v"), index_threshold=5000)
    vectors.ensure_table("t", pa.schema([pa.field("id", pa.string()), pa.field("owner", pa.string()),
                                         pa.field("visibility", pa.string()),
                                         pa.field("vector", pa.list_(pa.float32(), DIM))]))
    data = _unit(rng, 6000)
    owners = ["ana" if i % 2 else "ben" for i in range(6000)]
    for i in (17, 2500, 5999):
        owners[i] = "cy"  # three rows in the whole table: a narrow filter
    _fill(vectors, data, owners)
    assert vectors.maybe_index("t") is True and vectors.index_partitions("t") == 77
    queries = _unit(rng, 5)
    planted = queries + 0.05 * _unit(rng, 5)  # a near-copy of each query, owned by ana
    _fill(vectors, planted, ["ana"] * 5, start=6000)
    vectors.optimize("t")  # the planted rows go into the index's partitions
    assert vectors.unindexed_rows("t") == 0
    for i, query in enumerate(queries):
        for where in (None, VectorFilter(owners={"ana"})):
            assert vectors.search("t", query, where=where, limit=1)[0]["id"] == f"r{6000 + i}"
        assert vectors.search("t", query, where=VectorFilter(owners={"ben"}), limit=10)[0]["owner"] == "ben"
    # Probes widen until the filter is satisfied: every one of cy's three rows comes back.
    assert {r["id"] for r in vectors.search("t", queries[0], where=VectorFilter(owners={"cy"}), limit=10)} == \
        {"r17", "r2500", "r5999"}


def test_a_grown_table_gets_an_index_with_more_partitions(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    vectors = VectorStore(str(tmp_path / "v"), index_threshold=300)
    vectors.ensure_table("t", pa.schema([pa.field("id", pa.string()), pa.field("owner", pa.string()),
                                         pa.field("visibility", pa.string()),
                                         pa.field("vector", pa.list_(pa.float32(), DIM))]))
    _fill(vectors, _unit(rng, 400), ["ana"] * 400)
    assert vectors.maybe_index("t") is True and vectors.index_partitions("t") == 20
    more = _unit(rng, 1300)
    _fill(vectors, more, ["ana"] * 1300, start=400)
    assert vectors.maybe_index("t") is True  # 1,700 rows want 41 partitions: twice as many
    assert vectors.index_partitions("t") == 41
    names = [i.name for i in vectors._table("t").list_indices() if "vector" in i.columns]
    assert names == ["vector_ivf_flat_p41"]  # the old index is gone
    again = VectorStore(str(tmp_path / "v"))  # another process reads the partitions from the index
    assert again.index_partitions("t") == 41
    assert again.search("t", more[100], limit=1)[0]["id"] == "r500"


def test_a_table_past_the_quantizing_size_moves_to_ivf_pq_and_still_finds_the_nearest(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    vectors = VectorStore(str(tmp_path / "v"), index_threshold=300, quantize_from=1000)
    vectors.ensure_table("t", pa.schema([pa.field("id", pa.string()), pa.field("owner", pa.string()),
                                         pa.field("visibility", pa.string()),
                                         pa.field("vector", pa.list_(pa.float32(), DIM))]))
    data = _unit(rng, 1100)
    _fill(vectors, data[:400], ["ana"] * 400)
    assert vectors.maybe_index("t") is True
    _fill(vectors, data[400:], ["ana" if i % 2 else "ben" for i in range(700)], start=400)
    assert vectors.maybe_index("t") is True  # 33 partitions, not twice 20, but now quantized
    names = [i.name for i in vectors._table("t").list_indices() if "vector" in i.columns]
    assert names == ["vector_ivf_pq_p33"]
    for i in (5, 640, 1099):
        query = data[i] + 0.02 * _unit(rng, 1)[0]
        assert vectors.search("t", query, limit=1)[0]["id"] == f"r{i}"  # the exact re-rank puts it first
    ben = [i for i in range(400, 1100) if (i - 400) % 2 == 0]
    assert vectors.search("t", data[ben[3]], where=VectorFilter(owners={"ben"}), limit=1)[0]["id"] == f"r{ben[3]}"
