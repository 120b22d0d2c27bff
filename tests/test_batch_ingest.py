"""Batched embedding: a batch of uploads is embedded together, one damaged picture fails alone,
and a worker killed in the middle of a batch leaves nothing that reconcile cannot finish."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.helpers import open_wb, png_bytes
from workbench import Workbench

REPO = Path(__file__).resolve().parent.parent


def _files(count: int, first_seed: int = 0) -> list[tuple[str, bytes]]:
    return [(f"still-{first_seed + i}.png", png_bytes(seed=first_seed + i)) for i in range(count)]


def _statuses(wb: Workbench, images: list | None = None) -> dict[str, int]:
    """How many of these images (default: all) are in each state."""
    ids = [i.id for i in images] if images is not None else [r["id"] for r in wb.db.query("SELECT id FROM images")]
    return {r["status"]: r["n"] for r in wb.db.query(
        "SELECT status, count(*) AS n FROM images WHERE list_contains(?, id) GROUP BY status", [ids])}


@pytest.fixture(scope="module")
def wb(tmp_path_factory: pytest.TempPathFactory) -> Workbench:
    # One workbench (one model load) for the module; each test looks only at its own images.
    bench = open_wb(tmp_path_factory.mktemp("batches"), embedder={"batch_size": 4})
    yield bench
    bench.close()


def test_the_worker_claims_a_batch_at_a_time_and_embeds_every_image(wb: Workbench) -> None:
    me = wb.accounts.local_user()
    wb.pipeline.run_jobs()  # nothing left over from another test
    result = wb.library.ingest_many(me, _files(10))
    assert len(result.added) == 10 and _statuses(wb, result.added) == {"stored": 10}
    assert wb.pipeline.run_jobs(limit=4) == 4  # one batch of the configured size
    assert _statuses(wb, result.added) == {"ready": 4, "stored": 6}
    assert wb.pipeline.run_jobs() == 6
    assert _statuses(wb, result.added) == {"ready": 10}
    assert {i.id for i in result.added} <= wb.vectors.ids(wb.pipeline.table)
    assert wb.db.scalar("SELECT count(*) FROM outbox WHERE status NOT IN ('done', 'failed')") == 0
    ready = wb.library.get_many([i.id for i in result.added])
    assert all(image.embed_model == wb.embedder.model_id and image.labels for image in ready.values())


def test_embedding_alongside_uploads_waits_until_every_one_is_searchable(wb: Workbench) -> None:
    me = wb.accounts.local_user()
    with wb.pipeline.embedding_alongside() as waiting:
        for name, data in _files(9, first_seed=20):
            waiting.add(wb.library.ingest(me, data, filename=name).id)
    assert _statuses(wb, list(wb.library.get_many(sorted(waiting)).values())) == {"ready": 9}
    assert waiting <= wb.vectors.ids(wb.pipeline.table)


def test_a_folder_with_a_broken_file_adds_and_embeds_all_the_others(wb: Workbench, tmp_path: Path) -> None:
    folder = tmp_path / "scout"
    folder.mkdir()
    for name, data in _files(7, first_seed=40):
        (folder / name).write_bytes(data)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a photo")
    result = wb.library.ingest_folder(wb.accounts.local_user(), folder, wait=True, progress_bar=False)
    assert len(result.added) == 7 and set(result.errors) == {"broken.jpg"}
    assert "damaged" in result.errors["broken.jpg"]
    assert all(image.ready for image in result.added)
    assert _statuses(wb, result.added) == {"ready": 7}
    assert {i.id for i in result.added} <= wb.vectors.ids(wb.pipeline.table)


def test_a_damaged_thumbnail_fails_its_own_job_and_the_rest_of_the_batch_is_embedded(wb: Workbench) -> None:
    me = wb.accounts.local_user()
    added = wb.library.ingest_many(me, _files(4, first_seed=60)).added
    victim = added[1]
    # The thumbnail rots in storage after intake checked it (a disk error, a bad copy).
    Path(wb.blobs.path(victim.thumb_key)).write_bytes(b"RIFF\x00\x00\x00\x00WEBPVP8 rotten")
    assert wb.pipeline.run_jobs() == 4  # one batch of four
    assert _statuses(wb, added) == {"ready": 3, "failed": 1}
    failed = wb.library.get(me, victim.id)
    assert failed.status == "failed" and "damaged" in failed.caption and victim.filename in failed.caption
    job = wb.db.query_one("SELECT status, attempts, last_error FROM outbox WHERE subject = ?", [victim.id])
    assert job is not None and job["status"] == "failed" and job["attempts"] == 1  # no pointless retries
    assert "upload it again" in job["last_error"]
    assert wb.vectors.ids(wb.pipeline.table) & {i.id for i in added} == {i.id for i in added if i.id != victim.id}


def test_a_missing_thumbnail_is_retried_later_not_given_up(wb: Workbench) -> None:
    me = wb.accounts.local_user()
    added = wb.library.ingest_many(me, _files(3, first_seed=80)).added
    Path(wb.blobs.path(added[0].thumb_key)).unlink()  # storage hiccup: may come back
    wb.pipeline.run_jobs()
    assert _statuses(wb, added) == {"ready": 2, "stored": 1}
    job = wb.db.query_one("SELECT status, attempts FROM outbox WHERE subject = ?", [added[0].id])
    assert job == {"status": "pending", "attempts": 1}


_BATCH_AND_DIE = """
import os, signal, sys
sys.path.insert(0, {repo!r})
from pathlib import Path
from tests.helpers import open_wb, png_bytes

wb = open_wb(Path({home!r}), embedder={{"batch_size": 4}})
me = wb.accounts.local_user()
wb.library.ingest_many(me, [(f"s{{i}}.png", png_bytes(seed=100 + i)) for i in range(6)])

def die_at(step, image_id):
    if step == {step!r}:
        os.kill(os.getpid(), signal.SIGKILL)

wb.pipeline.run_jobs(on_step=die_at)
print("not killed", flush=True)
"""


def test_a_worker_killed_mid_batch_then_reconcile_finishes_every_image(tmp_path: Path) -> None:
    # Killed after the batch's vectors are written and before any state says so: the hardest point.
    script = textwrap.dedent(_BATCH_AND_DIE.format(repo=str(REPO), home=str(tmp_path), step="vector_written"))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120, check=False)
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]
    wb = open_wb(tmp_path, embedder={"batch_size": 4})
    try:
        report = wb.reconcile()
        assert report.jobs_restarted == 4  # the whole batch was claimed when the worker died
        wb.pipeline.run_jobs()
        assert _statuses(wb) == {"ready": 6}
        ids = {r["id"] for r in wb.db.query("SELECT id FROM images")}
        assert wb.vectors.ids(wb.pipeline.table) == ids
        assert wb.db.scalar("SELECT count(*) FROM outbox WHERE status <> 'done'") == 0
    finally:
        wb.close()
