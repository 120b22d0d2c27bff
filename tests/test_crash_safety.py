"""A worker killed between any two steps of an ingest leaves nothing half-done after reconcile."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.helpers import open_wb
from workbench import Workbench

REPO = Path(__file__).resolve().parent.parent

_INGEST_AND_DIE = """
import os, signal, sys
sys.path.insert(0, {repo!r})
from tests.helpers import open_wb, png_bytes
from pathlib import Path

def die_at(step, image_id):
    if step == {step!r}:
        os.kill(os.getpid(), signal.SIGKILL)

wb = open_wb(Path({home!r}))
me = wb.accounts.local_user()
wb.library.ingest(me, png_bytes(seed=1), filename="survivor.png", wait=True)
wb.library.ingest(me, png_bytes(seed=2), filename="victim.png", wait=True, on_step=die_at)
print("not killed", flush=True)
"""


def _assert_all_or_nothing(wb: Workbench) -> list[str]:
    """Every image is fully present (row ready + both blobs + vector) and nothing else exists."""
    rows = wb.db.query("SELECT id, status, blob_key, thumb_key FROM images")
    table = wb.pipeline.table
    vector_ids = wb.vectors.ids(table) if wb.vectors.count(table) else set()
    keys = set(wb.blobs.keys())
    for row in rows:
        assert row["status"] == "ready", row
        assert row["blob_key"] in keys and row["thumb_key"] in keys
        assert row["id"] in vector_ids
    assert vector_ids == {r["id"] for r in rows}
    assert keys == {r["blob_key"] for r in rows} | {r["thumb_key"] for r in rows}
    assert wb.db.scalar("SELECT count(*) FROM outbox WHERE status IN ('pending', 'running')") == 0
    return [r["id"] for r in rows]


@pytest.mark.slow
@pytest.mark.parametrize("step", ["row_written", "blob_written", "vector_written", "ready"])
def test_killed_worker_then_reconcile_leaves_each_image_whole_or_gone(tmp_path: Path, step: str) -> None:
    home = tmp_path
    script = textwrap.dedent(_INGEST_AND_DIE.format(repo=str(REPO), home=str(home), step=step))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=300)
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]
    wb = open_wb(home)
    try:
        report = wb.reconcile()
        wb.pipeline.run_jobs()  # what the background worker does next
        ids = _assert_all_or_nothing(wb)
        me = wb.accounts.local_user()
        names = sorted(wb.library.get(me, i).filename for i in ids)
        # killed before its blobs were safe: gone; killed later: finished
        expected = ["survivor.png"] if step == "row_written" else ["survivor.png", "victim.png"]
        assert names == expected
        if step != "ready":
            assert report.repaired >= 1
    finally:
        wb.close()


def test_reconcile_removes_orphans_in_every_store(tmp_path: Path) -> None:
    wb = open_wb(tmp_path)
    try:
        me = wb.accounts.local_user()
        from tests.helpers import png_bytes

        kept = wb.library.ingest(me, png_bytes(seed=3), filename="kept.png", wait=True)
        stray_blob = wb.blobs.put(b"left over from an interrupted delete")
        row = wb.vectors.get(wb.pipeline.table, [kept.id])[0]
        wb.vectors.upsert(wb.pipeline.table, [{**row, "id": "img_ghost"}])
        report = wb.reconcile()
        assert report.orphan_blobs == 1 and report.orphan_vectors == 1
        assert not wb.blobs.exists(stray_blob)
        assert _assert_all_or_nothing(wb) == [kept.id]
    finally:
        wb.close()
