"""Switching embedding models: `reindex` re-embeds the library into the new model's table, resumably."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import open_wb, sample_bytes
from tests.test_embedders import TINY_CLIP, TINY_CONFIG, write_tiny_checkpoint
from workbench.library.model import vector_schema, vector_table_name


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import open_clip

    folder = tmp_path_factory.mktemp("reindex_clip")
    (folder / f"{TINY_CLIP}.json").write_text(json.dumps(TINY_CONFIG))
    open_clip.add_model_config(folder / f"{TINY_CLIP}.json")
    return write_tiny_checkpoint(folder / "tiny.pt", 0)


def _clip(checkpoint: Path) -> dict:
    return {"name": "clip", "clip_model": TINY_CLIP, "clip_checkpoint": str(checkpoint), "device": "cpu",
            "batch_size": 1}


def test_reindex_moves_the_library_to_a_new_model_and_resumes(tmp_path: Path, tiny_checkpoint: Path) -> None:
    names = ["chelsea.png", "coffee.png", "rocket.jpg", "horse.png"]
    first = open_wb(tmp_path)
    me = first.accounts.local_user()
    ids = [first.library.ingest(me, sample_bytes(n), filename=n, wait=True).id for n in names]
    offline_table = first.pipeline.table
    first.close()

    second = open_wb(tmp_path, embedder=_clip(tiny_checkpoint))
    clip_id = second.embedder.model_id
    assert clip_id.startswith(f"clip:{TINY_CLIP}:")
    table = second.pipeline.table
    assert table == vector_table_name(clip_id) != offline_table
    assert second.reconcile().requeued == 4  # start-up finds the new model has no vectors yet
    second.pipeline.run_jobs(limit=1)  # interrupted after one image
    assert second.vectors.count(table) == 1
    second.close()

    third = open_wb(tmp_path, embedder=_clip(tiny_checkpoint))
    seen: list[tuple[int, int]] = []
    third.pipeline.reindex(progress=lambda done, total: seen.append((done, total)))
    assert third.vectors.ids(table) == set(ids)
    assert seen and seen[-1][0] == seen[-1][1] == 3  # only the three that were missing
    models = {r["embed_model"] for r in third.db.query("SELECT embed_model FROM images")}
    assert models == {clip_id}
    me = third.accounts.local_user()
    assert {h.image.id for h in third.search.by_image(me, sample_bytes("rocket.jpg"), limit=4)} == set(ids)
    assert offline_table in third.vectors.table_names()
    third.pipeline.reindex(drop_old=True)
    assert offline_table not in third.vectors.table_names()
    third.close()


old_model = "offline:effnet-lite0+minilm-l6-v2/v1"
OFFLINE_V2 = "offline:effnet-lite0+minilm-l6-v2/v2"
OFFLINE_V3 = "offline:effnet-lite0+minilm-l6-v2/v3"


@pytest.mark.parametrize("old_model", [old_model, OFFLINE_V2, OFFLINE_V3])
def test_a_library_embedded_by_an_older_offline_model_is_moved_to_the_current_one(
    tmp_path: Path, old_model: str
) -> None:
    names = ["chelsea.png", "coffee.png", "rocket.jpg"]
    first = open_wb(tmp_path)
    me = first.accounts.local_user()
    ids = [first.library.ingest(me, sample_bytes(n), filename=n, wait=True).id for n in names]
    current = first.pipeline.table
    # Make it the library a older install left behind: its vectors in the old table, its rows naming the old model.
    rows = [dict(row, model=old_model) for row in first.vectors.get(current, ids)]
    old_table = vector_table_name(old_model)
    first.vectors.ensure_table(old_table, vector_schema(first.embedder.dimension))
    first.vectors.upsert(old_table, rows)
    first.vectors.drop_table(current)
    first.db.write(lambda cur: cur.execute("UPDATE images SET embed_model = ?", [old_model]))
    first.close()

    second = open_wb(tmp_path)
    assert second.embedder.model_id != old_model  # the offline model id was versioned
    assert second.pipeline.table == current != old_table
    assert second.pipeline.reindex() == len(ids)
    assert second.vectors.ids(current) == set(ids)
    models = {r["embed_model"] for r in second.db.query("SELECT embed_model FROM images")}
    assert models == {second.embedder.model_id}
    me = second.accounts.local_user()
    assert second.search.by_image(me, sample_bytes("coffee.png"), limit=1)[0].image.id == ids[1]
    assert second.pipeline.reindex(drop_old=True) == 0
    assert old_table not in second.vectors.table_names()
    second.close()
