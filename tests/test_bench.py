"""The benchmarks still run (small sizes) and measure what they claim; speed itself is never asserted here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench import format_table, ingest, search
from tests.postgres import Cluster

ROOT = Path(__file__).resolve().parents[1]


def test_search_bench_reports_latency_and_recall_with_and_without_the_index() -> None:
    rows = {r["benchmark"]: r for r in search.run(rows=6000, queries=15, library_images=0)}
    size = "6,000 rows"
    assert "IVF_FLAT, 77 partitions, 16 probes" in rows[f"{size}: build the index"]["note"]
    for label in ("no filter", "owner prefilter, 50 %"):
        assert rows[f"{size}: query with the index, {label}"]["value"] > 0
        assert rows[f"{size}: query without the index (LanceDB exact scan), {label}"]["value"] > 0
        assert rows[f"{size}: numpy brute force in memory, {label}"]["value"] > 0
        assert rows[f"{size}: recall@10 of the index vs exact, {label}"]["value"] >= 0.95
    table = format_table(list(rows.values()), with_module=False)
    assert f"{size}: recall@10 of the index vs exact, no filter" in table.splitlines()[2 + 3]


def test_ingest_bench_waits_until_every_upload_is_searchable() -> None:
    rows = {r["benchmark"].split(",")[0].split(":")[0]: r for r in ingest.run(images=6)}
    assert set(rows) == {"offline embedder load (once per process)", "upload", "embedding alone (the worker's share)",
                         "end to end", "folder"}
    assert all(r["value"] > 0 for r in rows.values())


def test_warm_start_bench_times_the_first_search_of_a_fresh_process() -> None:
    from bench import warm_start

    (row,) = warm_start.run(images=0, cases="warm")  # an empty library: only the model load is timed
    assert row["benchmark"].startswith("first search after process start, warmed up")
    assert row["value"] > 0 and "after process start" in row["note"]


def test_the_runner_refuses_an_unknown_benchmark_name() -> None:
    done = subprocess.run([sys.executable, "-m", "bench", "no-such-bench"], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 2
    assert "no benchmark named no-such-bench" in done.stderr and "search" in done.stderr


def test_metadata_bench_compares_lookups_with_and_without_an_index() -> None:
    from bench import metadata

    rows = {r["benchmark"]: r for r in metadata.run(items=2_000, boards=20, ledger=2_000, repeats=5)}
    for lookup in ("board open: items of 1 board of 20", "balance: sum of 1 person's ledger",
                   "history: last 100 events of 1 board"):
        assert rows[f"{lookup}, no index (zonemaps)"]["value"] > 0
        assert rows[f"{lookup}, with ART index"]["value"] > 0
    full = rows["integrity check of every PK/UNIQUE index, full"]
    # 2,000 items, events and ledger entries, plus 2 plans and one row per schema version, in every
    # PK/UNIQUE index the schema has (counted on an empty store, so a new table does not break this).
    from store import MetadataStore
    from store.migrations import MIGRATIONS

    empty = MetadataStore(":memory:")
    indexes = len(empty.check_indexes(full=True))
    empty.close()
    assert indexes >= 20
    assert full["note"].startswith(f"{6000 + 2 + len(MIGRATIONS)} keys in {indexes} indexes"), full["note"]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_backends_bench_reports_every_row_for_every_backend(postgres: Cluster) -> None:
    from bench import backends

    rows = {r["benchmark"]: r for r in backends.run(images=50, drags=20, uploads=2, reservations=3, concurrent=3,
                                                     searches=2, new_database=postgres.new_database)}
    for label in ("DuckDB file", "PostgreSQL", "DuckLake"):
        for name in backends.ROWS:
            assert isinstance(rows[f"{label}: {name}"]["value"], float), (label, name)
    assert "count of 52 among 102" in rows["PostgreSQL: list: full count"]["note"]  # 50 + 2 uploads mine, 50 not
    for count in ("data files after 20 drags", "data files after CHECKPOINT", "data files after expiring snapshots"):
        assert rows[f"DuckLake: {count}"]["unit"] == "files"
    assert rows["pick for several replicas"]["value"] in ("PostgreSQL", "DuckLake")
