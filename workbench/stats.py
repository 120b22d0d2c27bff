"""Operating figures of a workbench, read from what it already records (read-only).

For ``/metrics`` and for a researcher who wants the same numbers in a notebook::

    from workbench.stats import ai_usage, embedding_latency
    for use in ai_usage(wb.db):
        print(use.action, use.outcome, use.calls, use.credits)
    embedding_latency(wb.db).count          # pictures embedded so far

- **AI calls and credits** come from the credit ledger: every AI call reserves its price,
  then commits (the AI answered) or refunds (it failed), so the ledger already tells
  how many calls each action made, how they ended and what they cost.
- **Jobs** are the outbox's rows still to do (or given up on), and **rows** the size of the
  main tables.
- **Embedding latency** comes from the embed jobs in the outbox: a job is written when a
  picture is uploaded and marked done when its vector is stored, so ``updated_at -
  created_at`` of a done job is the time from upload to searchable (waiting included).

Nothing here writes. The ledger belongs to :mod:`workbench.accounts` and the outbox to
:mod:`workbench.library.pipeline`; these reads follow their meaning and belong in those
modules' own API once their owners take them in (kept here so the service modules stay
untouched while the metrics are built).
"""

from __future__ import annotations

from dataclasses import dataclass

from store import MetadataStore

__all__ = ["AiUsage", "JobCount", "LatencyHistogram", "ai_usage", "embedding_latency", "jobs",
           "oldest_pending_job_age", "row_counts", "EMBEDDING_BUCKETS", "COUNTED_TABLES"]

#: The tables whose size ``/metrics`` shows.
COUNTED_TABLES = ("users", "images", "boards", "board_items", "documents")
#: Upper bounds (seconds) of the embedding latency buckets: upload to searchable.
EMBEDDING_BUCKETS = (0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)


@dataclass(frozen=True)
class AiUsage:
    """AI calls of one action (``idea``, ``image``, ...) that ended one way.

    ``outcome`` is ``answered`` (committed), ``refunded`` (the call failed or was
    cancelled) or ``pending`` (reserved, not settled yet). ``credits`` is what the
    answered calls kept (0 for the others: a refund gives everything back).
    """

    action: str
    outcome: str
    calls: int
    credits: int


@dataclass(frozen=True)
class JobCount:
    """Background jobs of one kind (``embed``, ...) in one state (``pending``, ``running``, ``failed``)."""

    kind: str
    status: str
    count: int


@dataclass(frozen=True)
class LatencyHistogram:
    """A cumulative histogram: ``buckets`` are ``(upper bound in seconds, count at or below it)``."""

    buckets: tuple[tuple[float, int], ...]
    count: int
    total_seconds: float


_USAGE = """
WITH reserved AS (
    SELECT reservation_id, action, -amount AS credits FROM credit_ledger WHERE entry = 'reserve'),
settled AS (
    SELECT reservation_id,
           bool_or(entry = 'commit') AS answered,
           coalesce(sum(CASE WHEN entry = 'refund' THEN amount ELSE 0 END), 0) AS refunded
    FROM credit_ledger WHERE entry IN ('commit', 'refund') GROUP BY reservation_id)
SELECT r.action,
       CASE WHEN s.reservation_id IS NULL THEN 'pending' WHEN s.answered THEN 'answered' ELSE 'refunded' END
           AS outcome,
       count(*) AS calls,
       coalesce(sum(CASE WHEN s.answered THEN r.credits - s.refunded ELSE 0 END), 0) AS credits
FROM reserved r LEFT JOIN settled s USING (reservation_id)
GROUP BY 1, 2 ORDER BY 1, 2
"""


def ai_usage(db: MetadataStore) -> list[AiUsage]:
    """AI calls and credits spent, by action and outcome, since the workbench began.

    >>> [(u.action, u.outcome, u.calls, u.credits) for u in ai_usage(wb.db)]   # doctest: +SKIP
    [('idea', 'answered', 12, 12), ('image', 'refunded', 1, 0)]
    """
    return [AiUsage(str(row["action"]), str(row["outcome"]), int(row["calls"]), int(row["credits"]))
            for row in db.query(_USAGE)]


def embedding_latency(db: MetadataStore, buckets: tuple[float, ...] = EMBEDDING_BUCKETS) -> LatencyHistogram:
    """Time from upload to searchable of every embed job the outbox still holds as done.

    A deleted picture takes its job with it, so the counts can go down; Prometheus reads
    that as a counter reset, which is right for "embeddings the library holds".
    """
    counts = ", ".join(f"count(*) FILTER (WHERE seconds <= {float(bound)!r}) AS b{i}" for i, bound in enumerate(buckets))
    row = db.query_one(
        f"SELECT count(*) AS n, coalesce(sum(seconds), 0) AS total, {counts} "  # noqa: S608 - bounds are floats
        "FROM (SELECT epoch(updated_at - created_at) AS seconds FROM outbox WHERE kind = 'embed' AND status = 'done')")
    row = row or {}
    below = tuple((bound, int(row.get(f"b{i}") or 0)) for i, bound in enumerate(buckets))
    return LatencyHistogram(below, int(row.get("n") or 0), float(row.get("total") or 0.0))


def jobs(db: MetadataStore) -> list[JobCount]:
    """Background jobs waiting, running or given up on (``failed``), by kind and state."""
    rows = db.query("SELECT kind, status, count(*) AS n FROM outbox WHERE status IN ('pending', 'running', 'failed') "
                    "GROUP BY kind, status ORDER BY kind, status")
    return [JobCount(str(row["kind"]), str(row["status"]), int(row["n"])) for row in rows]


def oldest_pending_job_age(db: MetadataStore) -> float:
    """Seconds the oldest waiting job has waited (0 when none waits): how far embedding lags behind uploads."""
    age = db.scalar("SELECT epoch(now()::TIMESTAMP - min(created_at)) FROM outbox WHERE status = 'pending'")
    return float(age or 0.0)


def row_counts(db: MetadataStore, tables: tuple[str, ...] = COUNTED_TABLES) -> dict[str, int]:
    """Rows in each of ``tables`` (people, pictures, boards, board items, documents by default)."""
    return {table: int(db.scalar(f'SELECT count(*) FROM "{table}"'))  # noqa: S608 - names from our own list
            for table in tables if table.isidentifier()}
