"""Metadata lookups with and without a secondary ART index (why the schema has none).

DuckDB 1.4.4 can persist a secondary ART index that no longer matches its table
(a WAL replayed by one process and checkpointed at a clean shutdown without the
index being touched: duckdb/duckdb#23788, #23848). Migration 6 dropped the four
secondary indexes; this benchmark shows what that costs on the lookups they
served, at a size well past a busy team's workspace:

- *board open*: the items of one board among ``--items`` items in ``--boards`` boards;
- *balance*: the sum of one person's ledger among ``--ledger`` entries;
- *history*: the last 100 events of one board.

Each lookup is timed on the same data with the index and without it (zonemaps
only). Also: the start-up integrity check of the remaining (primary key and
unique) indexes, and a checkpoint.

Run: ``python -m bench.metadata [--items 200000] [--boards 2000] [--ledger 200000]``.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import module_main


def _median_ms(query: Callable[[int], Any], repeats: int) -> float:
    samples = []
    for i in range(repeats):
        started = time.perf_counter()
        query(i)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def _fill(db: Any, items: int, boards: int, ledger: int) -> None:
    db.execute(
        "INSERT INTO board_items (id, board_id, kind, x, y, w, h, z, created_at, updated_at)"
        " SELECT 'i' || i, 'b' || (i % ?), 'note', i % 900, i % 700, 240, 160, i, now(), now()"
        " FROM range(?) t(i)", [boards, items])
    db.execute(
        "INSERT INTO credit_ledger (id, user_id, entry, amount, action, created_at)"
        " SELECT 'l' || i, 'u' || (i % 500), 'reserve', -1, 'idea', now() FROM range(?) t(i)", [ledger])
    db.execute(
        "INSERT INTO board_events (id, board_id, seq, actor, kind, payload, created_at)"
        " SELECT 'e' || i, 'b' || (i % ?), i, 'u1', 'move', '{}', now() FROM range(?) t(i)", [boards, items])


def run(items: int = 200_000, boards: int = 2_000, ledger: int = 200_000, repeats: int = 200) -> list[dict]:
    from store import MetadataStore

    lookups: dict[str, tuple[str, str, Callable[[int], list[Any]]]] = {}
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as home:
        db = MetadataStore(Path(home) / "bench.duckdb")
        _fill(db, items, boards, ledger)
        lookups = {
            f"board open: items of 1 board of {boards}": (
                "board_items (board_id)",
                "board_items", lambda i: db.query("SELECT * FROM board_items WHERE board_id = ?", [f"b{i % boards}"])),
            "balance: sum of 1 person's ledger": (
                "credit_ledger (user_id)",
                "credit_ledger",
                lambda i: db.query("SELECT sum(amount) FROM credit_ledger WHERE user_id = ?", [f"u{i % 500}"])),
            "history: last 100 events of 1 board": (
                "board_events (board_id, seq)",
                "board_events",
                lambda i: db.query("SELECT * FROM board_events WHERE board_id = ? ORDER BY seq DESC LIMIT 100",
                                   [f"b{i % boards}"])),
        }
        without = {name: _median_ms(query, repeats) for name, (_, _, query) in lookups.items()}
        for n, (name, (columns, _table, query)) in enumerate(lookups.items()):
            db.execute(f"CREATE INDEX bench_{n} ON {columns}")
            with_index = _median_ms(query, repeats)
            db.execute(f"DROP INDEX bench_{n}")
            rows.append({"benchmark": f"{name}, no index (zonemaps)", "value": without[name], "unit": "ms p50",
                         "note": f"{items:,} items, {ledger:,} ledger entries"})
            rows.append({"benchmark": f"{name}, with ART index", "value": with_index, "unit": "ms p50",
                         "note": "the index dropped in migration 6"})
        started = time.perf_counter()
        report = db.check_indexes(full=True)
        rows.append({"benchmark": "integrity check of every PK/UNIQUE index, full", "value":
                     (time.perf_counter() - started) * 1000, "unit": "ms",
                     "note": f"{sum(r.rows for r in report)} keys in {len(report)} indexes"})
        started = time.perf_counter()
        report = db.check_indexes(full=False)
        rows.append({"benchmark": "integrity check at start-up (sampled)", "value":
                     (time.perf_counter() - started) * 1000, "unit": "ms",
                     "note": f"{sum(r.checked for r in report)} keys looked up"})
        started = time.perf_counter()
        db.checkpoint()
        rows.append({"benchmark": "checkpoint after the load", "value": (time.perf_counter() - started) * 1000,
                     "unit": "ms"})
        db.close()
    return rows


if __name__ == "__main__":
    raise SystemExit(module_main(run, {
        "items": (int, 200_000, "board items (and board events)"),
        "boards": (int, 2_000, "boards the items are spread over"),
        "ledger": (int, 200_000, "credit ledger entries"),
        "repeats": (int, 200, "timed lookups of each kind"),
    }, __doc__))
