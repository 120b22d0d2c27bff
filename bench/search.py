"""Search speed and quality.

*Vectors at scale*: ``--rows`` vectors (default 100,000, 512-d like CLIP ViT-B-32,
clustered like real embeddings) in LanceDB through :class:`store.VectorStore`,
with the index :func:`store.vectors.index_plan` picks for that size (IVF_FLAT
with ~sqrt(rows) partitions, 5 % of them probed, plus bitmap filter indexes);
then median and p95 query latency with the index, recall@10 of the index
against exact search (numpy over the same vectors: LanceDB's own exact scan
takes seconds at 1M), unfiltered and with an owner prefilter that keeps half
the rows (every search in the app prefilters by owner/visibility), and the
latency of LanceDB's exact scan and of numpy brute force for comparison.

The 1,000,000-row run builds for several minutes on 2 cores, so it is opt-in:
``--million 1`` or ``WORKBENCH_BENCH_1M=1``.

*In the library*: the same searches a user runs, over real photos with the
offline embedder (text and image queries include embedding the query).

Run: ``python -m bench.search [--rows N] [--queries Q] [--library-images M] [--million 1]``.
"""

from __future__ import annotations

import io
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
from PIL import Image

from bench import module_main
from store import VectorStore
from store.vectors import VectorFilter, index_plan

DIM = 512  # CLIP ViT-B-32's width; the offline embedder's 1664 costs more per query


def _clustered(rng: np.random.Generator, rows: int) -> np.ndarray:
    """Unit vectors around one centre per 50 rows: libraries hold many near-alike stills, not uniform noise."""
    centres = rng.normal(size=(max(1, rows // 50), DIM)).astype(np.float32)
    vectors = centres[rng.integers(0, len(centres), rows)] + 0.6 * rng.normal(size=(rows, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _ms(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered) * 1000, ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000


def _load(store: VectorStore, data: np.ndarray, owners: np.ndarray) -> None:
    for start in range(0, len(data), 50_000):
        chunk = data[start:start + 50_000]
        store.append("images", pa.table({
            "id": [f"img{start + i}" for i in range(len(chunk))], "owner": owners[start:start + len(chunk)],
            "visibility": ["private"] * len(chunk),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(chunk.ravel()), DIM)}))


def vectors_at_scale(rows: int, queries: int) -> list[dict]:
    rng = np.random.default_rng(7)
    vectors = _clustered(rng, rows + queries)
    data, probes = vectors[:rows], vectors[rows:]
    owners = np.where(rng.random(rows) < 0.5, "ana", "ben")
    schema = pa.schema([pa.field("id", pa.string()), pa.field("owner", pa.string()),
                        pa.field("visibility", pa.string()), pa.field("vector", pa.list_(pa.float32(), DIM))])
    size = f"{rows:,} rows"
    out: list[dict] = []
    with tempfile.TemporaryDirectory() as folder:
        store = VectorStore(folder, index_threshold=min(5000, rows))
        store.ensure_table("images", schema)
        started = time.perf_counter()
        _load(store, data, owners)
        out.append({"benchmark": f"{size}: load {DIM}-d vectors", "value": time.perf_counter() - started,
                    "unit": "s"})
        plan = index_plan(rows, threshold=store.index_threshold)
        started = time.perf_counter()
        store.maybe_index("images")
        out.append({"benchmark": f"{size}: build the index", "value": time.perf_counter() - started, "unit": "s",
                    "note": f"{plan.kind}, {plan.partitions} partitions, {plan.nprobes} probes; + owner/visibility"
                            " bitmaps"})
        # The filter every library search sends (Library.vector_where, scope "all"); every row
        # here is private, so it keeps ana's half.
        app_filter = VectorFilter(owner_or_visible=("ana", ("team", "public")))
        for label, where in (("no filter", None), ("owner prefilter, 50 %", app_filter)):
            keep = np.ones(rows, bool) if where is None else owners == "ana"
            brute, truths = [], []
            for query in probes:
                t = time.perf_counter()
                scores = np.where(keep, data @ query, -2.0)
                top = np.argpartition(-scores, 10)[:10]
                brute.append(time.perf_counter() - t)
                truths.append({f"img{i}" for i in top})
            for query in probes[:10]:  # warm the index cache, as a running app's would be
                store.search("images", query, where=where, limit=10, columns=["id"])
            times, recalls = [], []
            for _ in range(3):
                for query, truth in zip(probes, truths, strict=True):
                    t = time.perf_counter()
                    found = {r["id"] for r in store.search("images", query, where=where, limit=10, columns=["id"])}
                    times.append(time.perf_counter() - t)
                    recalls.append(len(found & truth) / 10)
            exact_times = []
            for query in probes[:max(3, min(len(probes), 2_000_000 // rows))]:  # seconds each at 1M
                t = time.perf_counter()
                store.search("images", query, where=where, limit=10, columns=["id"], exact=True)
                exact_times.append(time.perf_counter() - t)
            p50, p95 = _ms(times)
            out.append({"benchmark": f"{size}: query with the index, {label}", "value": p50, "unit": "ms p50",
                        "note": f"p95 {p95:.1f} ms over {len(times)} queries"})
            out.append({"benchmark": f"{size}: recall@10 of the index vs exact, {label}",
                        "value": float(np.mean(recalls)), "unit": "", "note": f"worst query {min(recalls):.1f}"})
            p50, p95 = _ms(exact_times)
            out.append({"benchmark": f"{size}: query without the index (LanceDB exact scan), {label}", "value": p50,
                        "unit": "ms p50", "note": f"over {len(exact_times)} queries"})
            p50, p95 = _ms(brute)
            out.append({"benchmark": f"{size}: numpy brute force in memory, {label}", "value": p50, "unit": "ms p50",
                        "note": "for reference: the vectors held in RAM"})
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
        where, table, recalls = VectorFilter(owners={me.id}), wb.pipeline.table, []
        for probe in probes:
            exact = {r["id"] for r in wb.vectors.search(table, probe, where=where, limit=24, columns=["id"], exact=True)}
            found = {r["id"] for r in wb.vectors.search(table, probe, where=where, limit=24, columns=["id"])}
            recalls.append(len(found & exact) / len(exact))
        out.append({"benchmark": f"library recall@24 of the index vs exact, {count} real embeddings",
                    "value": float(np.mean(recalls)), "unit": "",
                    "note": f"{len(probes)} text and image queries; worst {min(recalls):.2f}"})
        wb.close()
    return out


def run(rows: int = 100_000, queries: int = 100, library_images: int = 300, million: int = 0) -> list[dict]:
    out = vectors_at_scale(rows, queries)
    if million or os.environ.get("WORKBENCH_BENCH_1M", "") not in ("", "0"):
        out += vectors_at_scale(1_000_000, queries)
    if library_images:
        out += library_search(library_images)
    return out


if __name__ == "__main__":
    raise SystemExit(module_main(run, {
        "rows": (int, 100_000, "vectors to build"),
        "queries": (int, 100, "distinct query vectors"),
        "library_images": (int, 300, "photos for the in-library searches (0 skips them)"),
        "million": (int, 0, "1 also runs 1,000,000 rows (builds for minutes; or WORKBENCH_BENCH_1M=1)"),
    }, __doc__))
