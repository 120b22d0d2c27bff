"""Typed vector filters (issue #19): the store renders them, values match literally, and
another process's new vectors reach an open store within its read-consistency bound."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from store.vectors import VectorFilter, VectorStore, _lance_where
from tests.helpers import open_wb, png_bytes, wait_for
from tests.kits.vector_contract import SCHEMA, row, unit
from workbench.library.catalog import Library

ROOT = Path(__file__).resolve().parents[1]


# -- the value --------------------------------------------------------------------------
def test_a_filter_is_a_frozen_normalized_value() -> None:
    a = VectorFilter(owners=["ana", "ben"], tags_all=["rain", "noir"], exclude_ids=("x",))
    b = VectorFilter(owners={"ben", "ana"}, tags_all=("noir", "rain"), exclude_ids={"x"})
    assert a == b and hash(a) == hash(b)
    assert a.owners == frozenset({"ana", "ben"}) and a.tags_all == ("noir", "rain")
    assert VectorFilter(owners="ana").owners == frozenset({"ana"})  # one owner, not three letters
    with pytest.raises(AttributeError):
        a.owners = frozenset()  # type: ignore[misc]
    assert VectorFilter().matches_everything and VectorFilter(exclude_ids=()).matches_everything
    assert not VectorFilter(ids=()).matches_everything  # an empty id list matches nothing


def test_filters_compose_with_and() -> None:
    mine, noir = VectorFilter(owners={"ana"}), VectorFilter(tags_all=["noir"])
    assert mine & VectorFilter() is mine and VectorFilter() & noir is noir
    both = mine & noir
    assert both.all_of == (mine, noir)
    assert _lance_where(both) == "owner = 'ana' AND tags LIKE '%|noir|%' ESCAPE '\\'"


@pytest.mark.parametrize("bad", [dict(owners=[1]), dict(ids=[None]), dict(since="2026-01-01"),
                                 dict(owner_or_visible=(7, ["public"])), dict(all_of=("owner = 'x'",))])
def test_a_malformed_filter_is_refused_when_built(bad: dict) -> None:
    with pytest.raises(TypeError, match="VectorFilter"):
        VectorFilter(**bad)


# -- the LanceDB rendering: the same conditions workbench used to write by hand ----------------
def test_the_scopes_render_as_before() -> None:
    me = type("U", (), {"id": "u'1"})()  # a signed-in person whose id has a quote in it
    assert _lance_where(Library.vector_where(me, "mine")) == "owner = 'u''1'"
    assert _lance_where(Library.vector_where(me, "shared")) == "owner <> 'u''1' AND visibility IN ('public', 'team')"
    assert _lance_where(Library.vector_where(me, "all")) == "(owner = 'u''1' OR visibility IN ('public', 'team'))"


def test_every_field_renders_with_its_values_quoted() -> None:
    moment = datetime(2026, 11, 1, 9, 30, 15, 999)
    assert _lance_where(None) is None and _lance_where(VectorFilter()) is None
    assert _lance_where(VectorFilter(ids=[])) == "FALSE"
    assert _lance_where(VectorFilter(ids=["b", "a'"])) == "id IN ('a''', 'b')"
    assert _lance_where(VectorFilter(exclude_ids=["a"], not_owners=["x", "y"])) == \
        "id <> 'a' AND owner NOT IN ('x', 'y')"
    assert _lance_where(VectorFilter(since=moment, until=moment)) == \
        "created_at >= TIMESTAMP '2026-11-01 09:30:15' AND created_at <= TIMESTAMP '2026-11-01 09:30:15'"
    # LIKE's wildcards and its escape character are escaped; quotes are doubled; backslashes are literal.
    assert _lance_where(VectorFilter(tags_all=["50%_o'k\\"])) == "tags LIKE '%|50\\%\\_o''k\\\\|%' ESCAPE '\\'"
    with pytest.raises(TypeError, match="not str"):
        _lance_where("owner = 'ana'")  # type: ignore[arg-type]


def test_read_consistency_must_be_zero_or_more(tmp_path: Path) -> None:
    for bad in (-1.0, float("nan")):
        with pytest.raises(ValueError, match="read_consistency_seconds"):
            VectorStore(str(tmp_path / "v"), read_consistency_seconds=bad)
    assert VectorStore(str(tmp_path / "v")).read_consistency_seconds == 5.0


# -- through the product: tags with wildcard characters match only themselves -------------
def test_search_tags_and_exclusions_are_literal(tmp_path: Path) -> None:
    wb = open_wb(tmp_path)
    try:
        me = wb.accounts.create_user("ana@studio.test")
        other = wb.accounts.create_user("ben@studio.test")
        tags = ["50%", "500", "a_b", "axb", "o'brien", "été"]
        images = {t: wb.library.ingest(me, png_bytes(seed=i), filename=f"{i}.png", tags=[t], wait=True)
                  for i, t in enumerate(tags)}
        theirs = wb.library.ingest(other, png_bytes(seed=99), filename="x.png", tags=["50%"], wait=True)
        for tag, image in images.items():
            hits = wb.search.by_text(me, "a picture", tags=[tag], limit=50)
            assert [h.image.id for h in hits] == [image.id], tag
        assert wb.search.by_text(me, "a picture", tags="%", limit=50) == []
        # ben's private "50%" is never found by ana, and shows up for ben only in his scopes
        assert theirs.id not in {h.image.id for h in wb.search.by_text(me, "a picture", limit=50)}
        assert [h.image.id for h in wb.search.by_text(other, "x", tags=["50%"], scope="mine")] == [theirs.id]
        assert wb.search.by_text(other, "x", tags=["50%"], scope="shared") == []
        wb.library.set_visibility(me, images["50%"].id, "team")
        shared = wb.search.by_text(other, "x", tags=["50%"], scope="shared")
        assert [h.image.id for h in shared] == [images["50%"].id]
        # the example itself is excluded in the prefilter, and the limit is still filled
        first = images["50%"]
        similar = wb.search.similar_to(me, first.id, limit=3)
        assert len(similar) == 3 and first.id not in {h.image.id for h in similar}
        later = wb.search.by_text(me, "x", since=first.created_at + timedelta(days=1), limit=50)
        assert later == []
    finally:
        wb.close()


# -- two processes: a worker appends, an open store sees it --------------------------------
CHILD = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[1])
    import pyarrow as pa
    from store.vectors import VectorStore
    from tests.kits.vector_contract import row
    writer = VectorStore(sys.argv[2])
    first, count = int(sys.argv[3]), int(sys.argv[4])
    writer.append("images", pa.Table.from_pylist([row(i, owner="worker") for i in range(first, first + count)]))
""")


def _append_in_another_process(uri: str, first: int, count: int) -> None:
    done = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), uri, str(first), str(count)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_an_open_store_sees_another_processes_new_vectors_within_the_bound(tmp_path: Path) -> None:
    uri = str(tmp_path / "vectors")
    web = VectorStore(uri)  # the default bound, 5 s
    strong = VectorStore(uri, read_consistency_seconds=0)
    web.ensure_table("images", SCHEMA)
    web.upsert("images", [row(i) for i in range(3)])
    # Both stores have the table open (and cached) before the other process writes.
    assert web.count("images") == 3 and strong.count("images") == 3
    assert web.search("images", unit(0), limit=1)[0]["id"] == "img0"

    _append_in_another_process(uri, 100, 20)
    worker = VectorFilter(owners={"worker"})
    assert strong.count("images", worker) == 20  # 0 s: the very next read sees the commit
    # The timeout only catches a hang; the bound itself is LanceDB's to keep.
    wait_for(lambda: web.count("images", worker) == 20, 60, "the worker's vectors in the open store")
    assert web.search("images", unit(117), limit=1, where=worker)[0]["id"] == "img117"
    assert web.ids("images", VectorFilter(ids={"img105", "img2"})) == {"img105", "img2"}

    _append_in_another_process(uri, 200, 5)  # and again: the handle keeps refreshing, not just once
    wait_for(lambda: web.count("images") == 28, 60, "the second batch in the open store")


def test_an_index_built_by_another_store_is_picked_up(tmp_path: Path) -> None:
    uri = str(tmp_path / "vectors")
    web = VectorStore(uri, read_consistency_seconds=0.5)
    web.ensure_table("images", SCHEMA)
    web.upsert("images", [row(i) for i in range(300)])
    assert not web.has_index("images")
    builder = VectorStore(uri, index_threshold=100)
    assert builder.maybe_index("images")  # as an embedding worker would, elsewhere
    wait_for(lambda: web.has_index("images"), 60, "the other store's index")
    assert web.index_partitions("images") == builder.index_partitions("images")
    assert web.search("images", unit(42), limit=1)[0]["id"] == "img42"
