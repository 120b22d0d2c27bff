"""What every vector store location must do, written once.

A backend's test class inherits this and overrides the ``vectors`` fixture.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest

from store import VectorStore
from store.vectors import VectorFilter
from tests.helpers import wait_for

DIM = 8
SCHEMA = pa.schema(
    [
        pa.field("id", pa.string()),
        pa.field("owner", pa.string()),
        pa.field("visibility", pa.string()),
        pa.field("tags", pa.string()),
        pa.field("created_at", pa.timestamp("us")),
        pa.field("vector", pa.list_(pa.float32(), DIM)),
    ]
)


def unit(seed: int) -> list[float]:
    vec = np.random.default_rng(seed).normal(size=DIM).astype(np.float32)
    return list(vec / np.linalg.norm(vec))


DAY0 = datetime(2026, 3, 1, 12, 0, 0)
# Values that would be SQL or LIKE wildcards if a filter pasted them in: each must match only itself.
HOSTILE = ["o'brien", "50%", "%", "_", "a_b", "back\\slash", "\\", "\\'", "%'", "été 日本 🎬",
           "x' OR '1'='1", "'; DROP TABLE images; --", "NULL", "AND", "ana' OR owner <> '"]


def row(i: int, owner: str = "ana", visibility: str = "private", tags: str = "") -> dict:
    return {"id": f"img{i}", "owner": owner, "visibility": visibility, "tags": tags,
            "created_at": DAY0 + timedelta(days=i), "vector": unit(i)}


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
        where = VectorFilter(owner_or_visible=("ana", {"public"}))
        hits = vectors.search(table, unit(105), where=where, limit=50)
        owners = {(h["owner"], h["visibility"]) for h in hits}
        assert ("ben", "private") not in owners
        assert len(hits) == 11

    def test_prefilter_on_tags(self, vectors: VectorStore, table: str) -> None:
        vectors.upsert(table, [row(1, tags="|noir|rain|"), row(2, tags="|western|"), row(3, tags="|noir|")])
        hits = vectors.search(table, unit(2), where=VectorFilter(tags_all=["noir"]), limit=10)
        assert {h["id"] for h in hits} == {"img1", "img3"}

    def test_delete_removes_rows(self, vectors: VectorStore, table: str) -> None:
        vectors.upsert(table, [row(i) for i in range(5)])
        vectors.delete(table, ["img1", "img3", "missing"])
        assert vectors.ids(table) == {"img0", "img2", "img4"}

    def test_update_changes_filter_columns(self, vectors: VectorStore, table: str) -> None:
        vectors.upsert(table, [row(1)])
        vectors.update(table, VectorFilter(ids={"img1"}), {"visibility": "public"})
        assert vectors.count(table, VectorFilter(visibility={"public"})) == 1

    def test_quotes_in_filters_are_safe(self, vectors: VectorStore, table: str) -> None:
        vectors.upsert(table, [row(1, owner="o'brien")])
        assert vectors.count(table, VectorFilter(owners={"' OR 1=1 --"})) == 0
        assert vectors.count(table, VectorFilter(owners={"o'brien"})) == 1

    def test_index_built_above_threshold_and_search_still_exact_for_top_hit(
        self, vectors: VectorStore, table: str
    ) -> None:
        vectors.index_threshold = 300
        vectors.upsert(table, [row(i) for i in range(299)])
        assert vectors.maybe_index(table) is False
        vectors.upsert(table, [row(i) for i in range(299, 400)])
        assert vectors.maybe_index(table) is True
        assert vectors.has_index(table)
        hits = vectors.search(table, unit(123), limit=5, where=VectorFilter(owners={"ana"}))
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
        assert vectors.search(table, unit(415), limit=1, where=VectorFilter(owners={"cy"}))[0]["id"] == "img415"
        vectors.upsert(table, [row(i, owner="cy") for i in range(430, 470)])
        vectors.maybe_index(table)
        assert vectors.unindexed_rows(table) == 0
        assert vectors.count(table, VectorFilter(owners={"cy"})) == 70
        assert vectors.search(table, unit(455), limit=1, where=VectorFilter(owners={"cy"}))[0]["id"] == "img455"
        assert vectors.search(table, unit(7), limit=1, where=VectorFilter(owners={"ana"}))[0]["id"] == "img7"

    def test_reopening_sees_the_same_rows(self, vectors: VectorStore, table: str) -> None:
        vectors.upsert(table, [row(i) for i in range(3)])
        again = VectorStore(
            vectors.uri, storage_options=vectors.storage_options, fsspec_options=vectors.fsspec_options
        )
        assert again.ids(table) == {"img0", "img1", "img2"}

    # -- typed filters: every field, rendered by the store -------------------------------------
    def test_every_filter_field_selects_exactly_its_rows(self, vectors: VectorStore, table: str) -> None:
        vectors.upsert(table, [row(0, "ana", "private", "|noir|rain|"), row(1, "ana", "team", "|noir|"),
                               row(2, "ben", "private", "|rain|"), row(3, "ben", "public", "|noir|rain|"),
                               row(4, "cy", "team", "")])

        def ids(where: VectorFilter) -> set[str]:
            found = vectors.ids(table, where)
            assert vectors.count(table, where) == len(found)
            assert {h["id"] for h in vectors.search(table, unit(0), where=where, limit=10)} == found
            return found

        assert ids(VectorFilter()) == {f"img{i}" for i in range(5)}
        assert ids(VectorFilter(ids={"img1", "img3", "nope"})) == {"img1", "img3"}
        assert ids(VectorFilter(ids=[])) == set()  # an empty id list matches nothing, not everything
        assert ids(VectorFilter(exclude_ids={"img0", "img4"})) == {"img1", "img2", "img3"}
        assert ids(VectorFilter(owners="ben")) == {"img2", "img3"}
        assert ids(VectorFilter(owners={"ana", "cy"})) == {"img0", "img1", "img4"}
        assert ids(VectorFilter(not_owners={"ana"})) == {"img2", "img3", "img4"}
        assert ids(VectorFilter(visibility={"team", "public"})) == {"img1", "img3", "img4"}
        assert ids(VectorFilter(owner_or_visible=("ben", {"team", "public"}))) == {"img1", "img2", "img3", "img4"}
        assert ids(VectorFilter(owner_or_visible=("ben", ()))) == {"img2", "img3"}
        assert ids(VectorFilter(tags_all=["noir"])) == {"img0", "img1", "img3"}
        assert ids(VectorFilter(tags_all=["noir", "rain"])) == {"img0", "img3"}
        assert ids(VectorFilter(tags_all=["noi"])) == set()  # whole tags only
        assert ids(VectorFilter(since=DAY0 + timedelta(days=3))) == {"img3", "img4"}  # inclusive
        assert ids(VectorFilter(until=DAY0 + timedelta(days=1))) == {"img0", "img1"}  # inclusive
        assert ids(VectorFilter(since=DAY0 + timedelta(days=1), until=DAY0 + timedelta(days=2, hours=1))) == \
            {"img1", "img2"}
        shared_with_ana = VectorFilter(not_owners={"ana"}, visibility={"team", "public"})
        assert ids(shared_with_ana) == {"img3", "img4"}
        assert ids(shared_with_ana & VectorFilter(tags_all=["noir"])) == {"img3"}
        assert ids(VectorFilter(owners={"ana"}) & VectorFilter(owners={"ben"})) == set()  # AND, not OR

    def test_hostile_values_are_matched_literally(self, vectors: VectorStore, table: str) -> None:
        rows = [{**row(i, owner=value, tags=f"|{value}|"), "id": f"id:{value}"} for i, value in enumerate(HOSTILE)]
        decoys = [row(100, owner="50x", tags="|50x|"), row(101, owner="axb", tags="|axb|"),
                  row(102, owner="ana", tags="|back|slash|")]
        vectors.upsert(table, rows + decoys)
        everyone = len(rows) + len(decoys)
        for value in HOSTILE:
            mine = {f"id:{value}"}
            assert vectors.ids(table, VectorFilter(owners={value})) == mine, value
            assert vectors.ids(table, VectorFilter(tags_all=[value])) == mine, value
            assert vectors.ids(table, VectorFilter(ids=mine)) == mine, value
            assert vectors.count(table, VectorFilter(exclude_ids=mine)) == everyone - 1, value
            assert vectors.count(table, VectorFilter(not_owners={value})) == everyone - 1, value
            assert vectors.count(table, VectorFilter(owner_or_visible=(value, {value}))) == 1, value
            hits = vectors.search(table, unit(0), where=VectorFilter(tags_all=[value]), limit=50)
            assert [h["id"] for h in hits] == [f"id:{value}"], value
        assert vectors.count(table, VectorFilter(owners=HOSTILE)) == len(HOSTILE)
        vectors.update(table, VectorFilter(owners={"%"}), {"visibility": "public"})
        assert vectors.ids(table, VectorFilter(visibility={"public"})) == {"id:%"}
        vectors.delete(table, VectorFilter(tags_all=["_"]))
        assert vectors.count(table) == everyone - 1

    def test_a_write_without_a_filter_is_refused(self, vectors: VectorStore, table: str) -> None:
        vectors.upsert(table, [row(1)])
        with pytest.raises(ValueError, match="every row"):
            vectors.update(table, VectorFilter(), {"visibility": "public"})
        with pytest.raises(ValueError, match="every row"):
            vectors.delete(table, VectorFilter())
        with pytest.raises(TypeError, match="VectorFilter"):
            vectors.count(table, "owner = 'ana'")  # type: ignore[arg-type]
        assert vectors.count(table, VectorFilter(visibility={"private"})) == 1

    def test_another_store_on_the_same_location_sees_new_rows_within_the_bound(
        self, vectors: VectorStore, table: str
    ) -> None:
        # A second web replica: its table handle is open (and cached) before the writer adds rows.
        reader = VectorStore(vectors.uri, storage_options=vectors.storage_options,
                             fsspec_options=vectors.fsspec_options, read_consistency_seconds=0.5)
        vectors.upsert(table, [row(0)])
        assert reader.ids(table) == {"img0"}
        vectors.upsert(table, [row(1, owner="ben")])
        vectors.update(table, VectorFilter(ids={"img0"}), {"visibility": "public"})
        # The timeout only catches a hang; it is not a speed claim.
        wait_for(lambda: reader.ids(table, VectorFilter(owners={"ben"})) == {"img1"}, 60, "the new row")
        wait_for(lambda: reader.count(table, VectorFilter(visibility={"public"})) == 1, 60, "the update")
        assert reader.search(table, unit(1), limit=1)[0]["id"] == "img1"
        strong = VectorStore(vectors.uri, storage_options=vectors.storage_options,
                             fsspec_options=vectors.fsspec_options, read_consistency_seconds=0)
        assert strong.count(table) == 2
        vectors.delete(table, ["img1"])
        assert strong.ids(table) == {"img0"}  # 0: every read looks for other writers' commits
