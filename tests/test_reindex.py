"""Switching embedding models: `reindex` re-embeds the library into the new model's table, resumably."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import open_wb, sample_bytes
from tests.test_embedders import TINY_CLIP, TINY_CONFIG, write_tiny_checkpoint
from workbench.library.model import vector_table_name


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
