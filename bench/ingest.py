"""Ingest speed with the offline embedder: images per second on this machine.

Real photos (scikit-image's samples, cropped and recoloured into distinct JPEGs):

- *upload*: validate, thumbnail and store (what the uploader waits for);
- *embedding*: the background worker's share, run alone;
- *end to end*: uploads while the background worker embeds, from the first
  upload until every image is searchable (status ``ready``, vector written);
- *folder*: ``ingest_folder(..., wait=True)`` of a folder of photos, as a
  notebook runs it (no background worker), until it returns with every image
  searchable.

The worker embeds a batch of pending jobs at a time (``embedder.batch_size``).

Each row's note also gives the CPU time per image and how many cores the
process got: several sessions share this machine's two cores, so images per
second swing with their load, while CPU milliseconds per image do not. On a
machine of our own the rate is about (cores / CPU seconds per image) where the
phase keeps both cores busy.

Run: ``python -m bench.ingest [--images N]``.
"""

from __future__ import annotations

import io
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance

from bench import module_main


def variants(count: int, *, seed: int = 0) -> list[tuple[str, bytes]]:
    """Real photos, cropped and recoloured into ``count`` distinct JPEGs."""
    from workbench.samples import SAMPLES, samples_folder

    rng = np.random.default_rng(seed)
    photos = [Image.open(samples_folder() / s.file).convert("RGB") for s in SAMPLES]
    out = []
    for i in range(count):
        photo = photos[i % len(photos)]
        w, h = photo.size
        left, top = int(rng.integers(0, w // 4)), int(rng.integers(0, h // 4))
        crop = photo.crop((left, top, left + w * 3 // 4, top + h * 3 // 4))
        crop = ImageEnhance.Color(crop).enhance(float(rng.uniform(0.3, 1.7)))
        buffer = io.BytesIO()
        crop.save(buffer, format="JPEG", quality=85)
        out.append((f"variant-{seed}-{i}.jpg", buffer.getvalue()))
    return out


def _until_ready(wb, expected: int, timeout: float) -> None:  # noqa: ANN001 - a Workbench
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if wb.db.scalar("SELECT count(*) FROM images WHERE status = 'ready'") >= expected:
            return
        time.sleep(0.02)
    states = wb.db.query("SELECT status, count(*) AS n FROM images GROUP BY status")
    raise RuntimeError(f"not every image became searchable within {timeout:.0f} s: {states}")


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # every thread of this process: worker, decoders, writer
    return usage.ru_utime + usage.ru_stime


def _cost(started_cpu: float, seconds: float, count: int) -> str:
    cpu = _cpu_seconds() - started_cpu
    return f"{1000 * cpu / max(1, count):.0f} ms CPU per image, {cpu / seconds:.2f} cores used"


def run(images: int = 200) -> list[dict]:
    from workbench import Settings, Workbench

    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as home:
        wb = Workbench(Settings(home=Path(home), library={"load_samples": False},
                                # 800 uploads in a few minutes: over the per-person limit meant for people
                                limits={"uploads_per_minute": 0}))
        me = wb.accounts.local_user()
        started = time.perf_counter()
        wb.embedder.embed_texts(["warm up"])
        rows.append({"benchmark": "offline embedder load (once per process)",
                     "value": time.perf_counter() - started, "unit": "s"})
        first, second = variants(images, seed=1), variants(images, seed=2)

        started, cpu = time.perf_counter(), _cpu_seconds()
        result = wb.library.ingest_many(me, first)
        upload = time.perf_counter() - started
        rows.append({"benchmark": f"upload: validate + thumbnail + store, {len(first)} images",
                     "value": len(result.added) / upload, "unit": "img/s",
                     "note": "what the uploader waits for; " + _cost(cpu, upload, len(result.added))})
        started, cpu = time.perf_counter(), _cpu_seconds()
        wb.pipeline.run_jobs()
        embed = time.perf_counter() - started
        rows.append({"benchmark": f"embedding alone (the worker's share), {len(result.added)} images",
                     "value": len(result.added) / embed, "unit": "img/s",
                     "note": "vector + labels, one pass; " + _cost(cpu, embed, len(result.added))})

        wb.start_worker()
        started, cpu = time.perf_counter(), _cpu_seconds()
        more = wb.library.ingest_many(me, second)
        _until_ready(wb, len(result.added) + len(more.added), timeout=60 + 2 * images)
        both = time.perf_counter() - started
        wb.pipeline.stop()
        rows.append({"benchmark": f"end to end: {len(more.added)} uploads with the worker running, until searchable",
                     "value": len(more.added) / both, "unit": "img/s",
                     "note": "offline embedder; " + _cost(cpu, both, len(more.added))})

        folder = Path(home) / "location-scout"
        folder.mkdir()
        for name, data in variants(images, seed=3):
            (folder / name).write_bytes(data)
        started, cpu = time.perf_counter(), _cpu_seconds()
        scouted = wb.library.ingest_folder(me, folder, wait=True, progress_bar=False)
        took = time.perf_counter() - started
        waiting = [image.filename for image in scouted.added if not image.ready]
        if waiting or scouted.errors:
            raise RuntimeError(f"ingest_folder returned before {waiting} were searchable; errors: {scouted.errors}")
        rows.append({"benchmark": f"folder: ingest_folder(wait=True) of {images} photos, until searchable",
                     "value": images / took, "unit": "img/s",
                     "note": "a notebook's path, no background worker; " + _cost(cpu, took, images)})
        wb.close()
    return rows


if __name__ == "__main__":
    raise SystemExit(module_main(run, {"images": (int, 200, "images per phase")}, __doc__))
