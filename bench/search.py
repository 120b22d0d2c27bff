"""Search speed and quality.

*Vectors at scale*: ``--rows`` vectors (default 100,000, 512-d like CLIP ViT-B-32,
clustered like real embeddings) in LanceDB through :class:`store.VectorStore`,
the index the workbench builds (IVF_FLAT + bitmap filter indexes), then median
and p95 query latency with the index and without it (exact scan), and recall@10
of the index against exact search, unfiltered and with an owner prefilter that
keeps half the rows (every search in the app prefilters by owner/visibility).

*In the library*: the same searches a user runs, over real photos with the
offline embedder (text and image queries include embedding the query).

Run: ``python -m bench.search [--rows N] [--queries Q] [--library-images M]``.
"""

from __future__ import annotations

import io
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
from PIL import Image

from bench import module_main
from store import VectorStore, sql_quote

DIM = 512  # CLIP ViT-B-32's width; the offline embedder's 1664 costs more per query


def _clustered(rng: np.random.Generator, rows: int) -> np.ndarray:
    """Unit vectors around one centre per 50 rows: libraries hold many near-alike stills, not uniform noise."""
    centres = rng.normal(size=(max(1, rows // 50), DIM)).astype(np.float32)
    vectors = centres[rng.integers(0, len(centres), rows)] + 0.6 * rng.normal(size=(rows, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _ms(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered) * 1000, ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000


def vectors_at_scale(rows: int, queries: int) -> list[dict]:
    rng = np.random.default_rng(7)
    vectors = _clustered(rng, rows + queries)
    data, probes = vectors[:rows], vectors[rows:]
    owners = np.where(rng.random(rows) < 0.5, "ana", "ben")
    schema = pa.schema([pa.field("id", pa.string()), pa.field("owner", pa.string()),
                        pa.field("visibility", pa.string()), pa.field("vector", pa.list_(pa.float32(), DIM))])
    out: list[dict] = []
    with tempfile.TemporaryDirectory() as folder:
        store = VectorStore(folder, index_threshold=min(5000, rows))
        store.ensure_table("images", schema)
        started = time.perf_counter()
        for start in range(0, rows, 10_000):
            chunk = data[start:start + 10_000]
            store.upsert("images", [
                {"id": f"img{start + i}", "owner": str(owners[start + i]), "visibility": "private",
                 "vector": chunk[i].tolist()} for i in range(len(chunk))])
        out.append({"benchmark": f"load {rows:,} vectors ({DIM}-d)", "value": time.perf_counter() - started,
                    "unit": "s"})
        started = time.perf_counter()
        store.maybe_index("images")
        out.append({"benchmark": "build the index (IVF_FLAT + owner/visibility bitmaps)",
                    "value": time.perf_counter() - started, "unit": "s"})
        for label, where in (("no filter", None), ("owner prefilter, 50 %", "owner = 'ana'")):
            exact_times, truths = [], []
            for query in probes:
                t = time.perf_counter()
                truths.append({r["id"] for r in store.search("images", query, where=where, limit=10, columns=["id"],
                                                             exact=True)})
                exact_times.append(time.perf_counter() - t)
            for query in probes[:10]:  # warm the index cache, as a running app's would be
                store.search("images", query, where=where, limit=10, columns=["id"])
            times, recalls = [], []
            for _ in range(3):
                for query, truth in zip(probes, truths, strict=True):
                    t = time.perf_counter()
                    found = {r["id"] for r in store.search("images", query, where=where, limit=10, columns=["id"])}
                    times.append(time.perf_counter() - t)
                    recalls.append(len(found & truth) / 10)
            p50, p95 = _ms(times)
            out.append({"benchmark": f"query with the index, {label}", "value": p50, "unit": "ms p50",
                        "note": f"p95 {p95:.1f} ms over {len(times)} queries"})
            p50, p95 = _ms(exact_times)
            out.append({"benchmark": f"query without the index (exact), {label}", "value": p50, "unit": "ms p50",
                        "note": f"p95 {p95:.1f} ms over {len(exact_times)} queries"})
            out.append({"benchmark": f"recall@10 of the index vs exact, {label}", "value": float(np.mean(recalls)),
                        "unit": "", "note": f"worst query {min(recalls):.1f}"})
    return out


def library_search(images: int) -> list[dict]:
    from bench.ingest import variants
    from workbench import Settings, Workbench

    out: list[dict] = []
    with tempfile.TemporaryDirectory() as home:
        wb = Workbench(Settings(home=Path(home), storage={"vector_index_threshold": images // 2 + 1},
                                library={"load_samples": False}))
        me = wb.accounts.local_user()
        files = variants(images)
        queries = ["a cat", "rocket launch", "cup of coffee", "astronaut", "horse", "brick wall", "stars at night"]
        for label in ("exact (below the index threshold)", "with the index"):
            part = files[:images // 2] if label.startswith("exact") else files[images // 2:]
            wb.library.ingest_many(me, part, wait=True)
            text_times, image_times = [], []
            for i in range(30):
                t = time.perf_counter()
                wb.search.by_text(me, queries[i % len(queries)], limit=24)
                text_times.append(time.perf_counter() - t)
                t = time.perf_counter()
                wb.search.by_image(me, files[i][1], limit=24)
                image_times.append(time.perf_counter() - t)
            count = wb.vectors.count(wb.pipeline.table)
            for kind, times in (("text", text_times), ("image", image_times)):
                p50, p95 = _ms(times)
                out.append({"benchmark": f"library search by {kind}, {count} images, {label}", "value": p50,
                            "unit": "ms p50", "note": f"p95 {p95:.1f} ms; includes embedding the query"})
        # Recall of the index on real embeddings: the same queries, indexed vs exact.
        probes = list(wb.embedder.embed_texts(queries)) + list(wb.embedder.embed_images(
            [Image.open(io.BytesIO(data)).convert("RGB") for _, data in files[:20]]))
        where, table, recalls = f"owner = {sql_quote(me.id)}", wb.pipeline.table, []
        for probe in probes:
            exact = {r["id"] for r in wb.vectors.search(table, probe, where=where, limit=24, columns=["id"], exact=True)}
            found = {r["id"] for r in wb.vectors.search(table, probe, where=where, limit=24, columns=["id"])}
            recalls.append(len(found & exact) / len(exact))
        out.append({"benchmark": f"library recall@24 of the index vs exact, {count} real embeddings",
                    "value": float(np.mean(recalls)), "unit": "",
                    "note": f"{len(probes)} text and image queries; worst {min(recalls):.2f}"})
        wb.close()
    return out


def run(rows: int = 100_000, queries: int = 100, library_images: int = 300) -> list[dict]:
    out = vectors_at_scale(rows, queries)
    if library_images:
        out += library_search(library_images)
    return out


if __name__ == "__main__":
    raise SystemExit(module_main(run, {
        "rows": (int, 100_000, "vectors to build"),
        "queries": (int, 100, "distinct query vectors"),
        "library_images": (int, 300, "photos for the in-library searches (0 skips them)"),
    }, __doc__))
