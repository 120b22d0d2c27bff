"""The metadata backends compared on the workbench's real operations: DuckDB file, PostgreSQL, DuckLake.

For each backend a real :class:`workbench.Workbench` (offline embedder) is opened
on its own home, and these are timed through the service layer:

- *drag persist*: ``wb.boards.move_items`` of one note on a board of 20 items,
  ``--drags`` times (median and p95);
- *upload*: ``wb.library.ingest`` of a small generated JPEG, not waiting for the
  embedding (the worker is not started);
- *reservation*: ``wb.accounts.reserve`` then ``commit`` of one idea's credits;
- *10k-image list*: ``--images`` image rows for the acting person (and as many for
  a second person) bulk-inserted through ``wb.db.write`` with their blob keys on
  one real uploaded picture, then the Library page's calls: ``wb.library.list``
  (first page of 48) and ``wb.library.count``;
- *search prefilter*: ``wb.search.by_text`` (scope "mine") over those images; the
  vectors are random unit vectors appended to the model's vector table (embedding
  20,000 pictures would take most of the run), half of them the other person's, then
  indexed as the worker would past ``vector_index_threshold``;
- *DuckLake data files*: files under the data path before and after the drags (with
  ``Engine.inline_rows`` data inlining), after DuckLake's ``CHECKPOINT`` (flush
  inlined data, merge adjacent files, clean up), and after expiring every older
  snapshot and deleting the files only they used;
- *3 writers*: three Workbench objects (three DuckDB connections, as three
  replicas would have) drag their own item on one board at once; throughput and
  the transactions PostgreSQL rolled back (each one a conflict the write path
  retried). The DuckDB file has one writer per process, so its row is three
  threads on one Workbench.

PostgreSQL runs with its default durability (``fsync``, synchronous commit), in
a throwaway cluster this benchmark starts (the test fixture turns fsync off).

Run: ``python -m bench.backends [--images 10000] [--drags 1000] [--backends duckdb,postgres,ducklake]``
(a few minutes a backend). ``--drags 10000`` does not finish in reasonable time on DuckLake: each
drag there leaves data and delete files behind, and the next drag reads them all (on a busy
2-core machine 127 ms a drag for the first 1,000, 680 ms at 3,000-4,000, 1.4 s past 4,000).
"""

from __future__ import annotations

import io
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from PIL import Image

from bench import module_main

PAGE = 48  # the Library page's first page (server/pages/library.py PAGE)
BOARD_ITEMS = 20
ROWS = ("drag persist p50", "drag persist p95", "upload", "reservation", "list: first page", "list: full count",
        "search prefilter", "3 writers")


# -- a durable throwaway PostgreSQL ------------------------------------------------
@contextmanager
def durable_postgres() -> Iterator[Any]:
    """A throwaway cluster (``tests.postgres.running_postgres``) with fsync and synchronous commit on."""
    from tests.postgres import running_postgres

    with running_postgres(100, durable=True) as cluster:
        yield cluster


def _rollbacks(dsn: str) -> int:
    """Transactions PostgreSQL has rolled back in this database (its statistics, flushed first)."""
    import psycopg

    time.sleep(1.2)  # backends flush their statistics at most once a second
    with psycopg.connect(dsn, autocommit=True) as connection:
        row = connection.execute("SELECT xact_rollback FROM pg_stat_database WHERE datname = current_database()"
                                 ).fetchone()
    return int(row[0]) if row else 0


# -- helpers -------------------------------------------------------------------------
def _settings(home: Path, backend: str, dsn: str) -> Any:
    from workbench.settings import Settings

    storage: dict[str, Any] = {"metadata_backend": backend}
    if backend != "duckdb":
        storage["metadata_dsn"] = dsn
    return Settings(home=home, storage=storage, library={"load_samples": False},
                    limits={"ai_per_minute": 0, "uploads_per_minute": 0})


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000


def _timed(action: Callable[[int], Any], times: int) -> list[float]:
    samples = []
    for i in range(times):
        started = time.perf_counter()
        action(i)
        samples.append(time.perf_counter() - started)
    return samples


def _jpeg(n: int) -> bytes:
    """A small distinct still (so no upload is a duplicate of another)."""
    rng = np.random.default_rng(n)
    pixels = (rng.random((12, 16, 3)) * 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).resize((320, 240), Image.Resampling.BILINEAR).save(out, "JPEG", quality=85)
    return out.getvalue()


def _files(folder: Path) -> int:
    return sum(1 for path in folder.rglob("*") if path.is_file()) if folder.exists() else 0


# -- seeding ---------------------------------------------------------------------------
def _seed_images(wb: Any, me: Any, other: Any, images: int, model: str) -> None:
    """``images`` rows for ``me`` and as many for ``other``, all showing one real uploaded picture."""
    real = wb.library.list(me, limit=1)[0]
    picture = wb.db.query_one("SELECT * FROM images WHERE id = ?", [real.id])
    assert picture is not None

    def work(tx: Any) -> None:
        tx.execute(
            "INSERT INTO images (id, owner, sha256, filename, mime, bytes, width, height, blob_key, thumb_key,"
            " colors, caption, labels, visibility, source, status, embed_model, created_at, updated_at)"
            " SELECT 'img_seed_' || i, CASE WHEN i % 2 = 0 THEN ? ELSE ? END, 'seed' || i, 'still_' || i || '.jpg',"
            " ?, ?, ?, ?, ?, ?, '[]', '', '[]', 'private', 'upload', 'ready', ?,"
            " now()::TIMESTAMP - to_seconds(i), now()::TIMESTAMP FROM range(?) t(i)",
            [me.id, other.id, picture["mime"], picture["bytes"], picture["width"], picture["height"],
             picture["blob_key"], picture["thumb_key"], model, 2 * images])
        tx.execute("INSERT INTO image_tags (image_id, tag) SELECT 'img_seed_' || i, 'tag' || (i % 20)"
                   " FROM range(?) t(i)", [2 * images])

    wb.db.write(work)


def _seed_vectors(wb: Any, me: Any, other: Any, images: int) -> None:
    from workbench.library.model import vector_schema

    embedder, table = wb.embedder, wb.pipeline.table
    rng = np.random.default_rng(19)
    for start in range(0, 2 * images, 5000):
        ids = range(start, min(2 * images, start + 5000))
        vectors = rng.normal(size=(len(ids), embedder.dimension)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        wb.vectors.append(table, pa.table({
            "id": [f"img_seed_{i}" for i in ids], "owner": [me.id if i % 2 == 0 else other.id for i in ids],
            "visibility": ["private"] * len(ids), "tags": [f"|tag{i % 20}|" for i in ids],
            "created_at": pa.array([None] * len(ids), pa.timestamp("us")),
            "model": [embedder.model_id] * len(ids),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel()), embedder.dimension),
        }, schema=vector_schema(embedder.dimension)))
    wb.vectors.maybe_index(table)  # what the worker does once a batch is in: an index past the threshold


# -- the measurements ----------------------------------------------------------------
def _drag(wb: Any, me: Any, board_id: str, item_id: str) -> Callable[[int], Any]:
    from workbench import ItemMove

    return lambda i: wb.boards.move_items(me, board_id, [ItemMove(item_id, 40 + i % 600, 40 + (i * 7) % 400)])


def _board(wb: Any, me: Any) -> tuple[str, str]:
    """A board to drag on: made by ``wb.boards.create``, or (where that fails) inserted directly; and why."""
    try:
        return wb.boards.create(me, "Drag bench").id, ""
    except RuntimeError as error:  # store.metadata.WriteConflict: see the note in the table
        why = str(error).splitlines()[-2 if "LINE" in str(error) else -1][:90]
    board_id = "b_bench_" + me.id[2:]
    wb.db.write(lambda tx: tx.execute(
        "INSERT INTO boards (id, owner, title, description, status, deleted_at, revision, created_at, updated_at)"
        " VALUES (?, ?, 'Drag bench', '', 'active', NULL, 0, now()::TIMESTAMP, now()::TIMESTAMP)", [board_id, me.id]))
    return board_id, f"wb.boards.create failed ({why}); the board row was inserted directly"


def _concurrent(settings: Any, wb: Any, me: Any, board_id: str, items: list[str], per_writer: int,
                shared: bool) -> dict[str, Any]:
    """Three writers drag their own item on one board at once; returns throughput and latencies."""
    from workbench import Workbench
    from workbench.errors import WorkbenchError

    benches = [Workbench(settings) for _ in range(3)] if shared else [wb] * 3
    samples: list[list[float]] = [[] for _ in benches]
    failed: list[str] = []
    start = threading.Barrier(len(benches))

    def writer(n: int) -> None:
        bench = benches[n]
        user = bench.accounts.get_user(me.id)
        move = _drag(bench, user, board_id, items[n])
        start.wait()
        for i in range(per_writer):
            began = time.perf_counter()
            try:
                move(i + n)
            except (RuntimeError, WorkbenchError) as error:  # WriteConflict: it kept conflicting after every retry
                failed.append(type(error).__name__)
            samples[n].append(time.perf_counter() - began)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(len(benches))]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    elapsed = time.perf_counter() - began
    if shared:
        for bench in benches:
            bench.close()
    p50, p95 = _ms([s for writer_samples in samples for s in writer_samples])
    kinds = ", ".join(f"{failed.count(kind)} {kind}" for kind in sorted(set(failed)))
    return {"per_second": 3 * per_writer / elapsed, "p50": p50, "p95": p95,
            "failed": f"{len(failed)} gave up" + (f" ({kinds})" if failed else "")}


def _maintain(engine: Any) -> tuple[int, int]:
    """DuckLake's CHECKPOINT, then expire every older snapshot and delete its files; files left after each."""
    import duckdb

    from store import engines

    conn = duckdb.connect()
    engines.attach(conn, engine)
    conn.execute(f"CHECKPOINT {engines.CATALOG}")
    after_checkpoint = _files(Path(engine.data_path))
    conn.execute(f"CALL ducklake_expire_snapshots('{engines.CATALOG}', older_than => now())")
    conn.execute(f"CALL ducklake_cleanup_old_files('{engines.CATALOG}', cleanup_all => true)")
    conn.close()
    return after_checkpoint, _files(Path(engine.data_path))


def measure(backend: str, home: Path, dsn: str, *, images: int, drags: int, uploads: int, reservations: int,
            concurrent: int, searches: int) -> list[dict[str, Any]]:
    """Every row for one backend (``dsn``: an empty PostgreSQL database for the shared backends)."""
    from workbench import Workbench

    settings = _settings(home, backend, dsn)
    wb = Workbench(settings)
    label = {"duckdb": "DuckDB file", "postgres": "PostgreSQL", "ducklake": "DuckLake"}[backend]
    out: list[dict[str, Any]] = []

    def row(name: str, value: float, unit: str, note: str = "") -> None:
        out.append({"benchmark": f"{label}: {name}", "value": value, "unit": unit, "note": note})

    try:
        me = wb.accounts.create_user("bench@example.com", plan="premium")
        other = wb.accounts.create_user("other@example.com")
        p50, p95 = _ms(_timed(lambda i: wb.library.ingest(me, _jpeg(i), filename=f"up{i}.jpg"), uploads))
        row("upload", p50, "ms p50", f"{uploads} JPEGs 320x240, p95 {p95:.1f} ms, embedding not awaited")

        wb.accounts.grant(me, 10 * reservations + 100)

        def reserve(_: int) -> None:
            wb.accounts.commit(wb.accounts.reserve(me, "idea"))

        p50, p95 = _ms(_timed(reserve, reservations))
        row("reservation", p50, "ms p50", f"reserve + commit, {reservations} times, p95 {p95:.1f} ms")

        board_id, created = _board(wb, me)
        if created:
            out.append({"benchmark": f"{label}: board create", "value": "failed", "unit": "", "note": created})
        notes = [wb.boards.add_note(me, board_id, f"Card {n}").id for n in range(BOARD_ITEMS)]
        data_path = Path(wb.db.engine.data_path) if backend == "ducklake" else None
        before = _files(data_path) if data_path else 0
        rollbacks = _rollbacks(dsn) if backend != "duckdb" else 0
        p50, p95 = _ms(_timed(_drag(wb, me, board_id, notes[0]), drags))
        alone = (_rollbacks(dsn) - rollbacks) if backend != "duckdb" else 0
        row("drag persist p50", p50, "ms", f"move_items of 1 of {BOARD_ITEMS} cards, {drags:,} drags")
        row("drag persist p95", p95, "ms", f"{alone} rollbacks alone" if backend != "duckdb" else "")
        if data_path:
            row(f"data files after {drags:,} drags", _files(data_path), "files",
                f"{before} before the drags; inlining up to {wb.db.engine.inline_rows} rows")

        rollbacks = _rollbacks(dsn) if backend != "duckdb" else 0
        race = _concurrent(settings, wb, me, board_id, notes[1:4], concurrent, backend != "duckdb")
        retried = _rollbacks(dsn) - rollbacks if backend != "duckdb" else 0
        who = "3 Workbench objects" if backend != "duckdb" else "3 threads, 1 Workbench (one writer per file)"
        row("3 writers", race["per_second"], "drags/s",
            f"{who}, {3 * concurrent} drags on 1 board, p50 {race['p50']:.1f} ms, p95 {race['p95']:.1f} ms, "
            + (f"{retried} conflicts retried, " if backend != "duckdb" else "") + race["failed"])

        _seed_images(wb, me, other, images, wb.embedder.model_id)
        _seed_vectors(wb, me, other, images)
        total = wb.library.count(me)
        p50, p95 = _ms(_timed(lambda _: wb.library.list(me, limit=PAGE), 20))
        row("list: first page", p50, "ms p50", f"{PAGE} of {total:,} images with tags, p95 {p95:.1f} ms")
        p50, p95 = _ms(_timed(lambda _: wb.library.count(me), 20))
        row("list: full count", p50, "ms p50", f"count of {total:,} among {2 * images + uploads:,}, p95 {p95:.1f} ms")
        wb.search.by_text(me, "warm up", scope="mine")
        index = "indexed" if wb.vectors.has_index(wb.pipeline.table) else "exact scan"
        queries = ["rain on a neon street", "a cat on a windowsill", "desert road at dusk", "crowded market"]
        p50, p95 = _ms(_timed(lambda i: wb.search.by_text(me, queries[i % 4], scope="mine"), searches))
        row("search prefilter", p50, "ms p50",
            f"by_text, scope mine, 24 of {total:,} (random vectors, half another's; {index}), p95 {p95:.1f} ms")
        if data_path:
            checkpointed, cleaned = _maintain(wb.db.engine)
            row("data files after CHECKPOINT", checkpointed, "files", "flush inlined, merge, clean up")
            row("data files after expiring snapshots", cleaned, "files", "older snapshots expired, their files deleted")
    finally:
        wb.close()
    return out


def _pick(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Which shared backend the numbers favour for several replicas: the most drags per second with 3 writers."""
    value = {r["benchmark"]: r["value"] for r in rows}
    shared = [b for b in ("PostgreSQL", "DuckLake") if isinstance(value.get(f"{b}: 3 writers"), float)]
    if not shared:
        return {"benchmark": "pick for several replicas", "value": "-", "unit": "", "note": "no shared backend run"}
    best = max(shared, key=lambda b: value[f"{b}: 3 writers"])
    reasons = []
    for b in shared:
        files = [k for k in value if k.startswith(f"{b}: data files after ") and k.endswith(" drags")]
        reasons.append(f"{b}: drag {value[f'{b}: drag persist p50']:.0f} ms, 3 writers "
                       f"{value[f'{b}: 3 writers']:.1f} drags/s, reservation {value[f'{b}: reservation']:.0f} ms"
                       + (f", {value[files[0]]:,} data files" if files else "")
                       + (", board create fails" if f"{b}: board create" in value else ""))
    return {"benchmark": "pick for several replicas", "value": best, "unit": "", "note": "; ".join(reasons)}


def run(images: int = 10_000, drags: int = 1_000, uploads: int = 30, reservations: int = 300,
        concurrent: int = 200, searches: int = 20, backends: str = "duckdb,postgres,ducklake", *,
        new_database: Callable[[], str] | None = None) -> list[dict]:
    """Every row for every backend in ``backends``, then the pick.

    ``new_database`` hands out empty PostgreSQL databases (a test's cluster); by default a
    durable throwaway cluster is started for the run.
    """
    chosen = [b.strip() for b in backends.split(",") if b.strip()]
    rows: list[dict[str, Any]] = []
    options = {"images": images, "drags": drags, "uploads": uploads, "reservations": reservations,
               "concurrent": concurrent, "searches": searches}
    with tempfile.TemporaryDirectory() as folder:
        if "duckdb" in chosen:
            rows += measure("duckdb", Path(folder) / "duckdb", "", **options)
        shared = [b for b in chosen if b != "duckdb"]
        if shared and new_database is not None:
            for backend in shared:
                rows += measure(backend, Path(folder) / backend, new_database(), **options)
        elif shared:
            with durable_postgres() as cluster:
                for backend in shared:
                    rows += measure(backend, Path(folder) / backend, cluster.new_database(), **options)
    return [*rows, _pick(rows)]


if __name__ == "__main__":
    raise SystemExit(module_main(run, {
        "images": (int, 10_000, "images in the listed library (as many again for a second person)"),
        "drags": (int, 1_000, "drags timed one after another (DuckLake: then its data files counted)"),
        "uploads": (int, 30, "uploads timed"),
        "reservations": (int, 300, "reserve + commit pairs timed"),
        "concurrent": (int, 200, "drags per writer in the 3-writer race"),
        "searches": (int, 20, "searches timed"),
        "backends": (str, "duckdb,postgres,ducklake", "backends to measure, comma-separated"),
    }, __doc__))
