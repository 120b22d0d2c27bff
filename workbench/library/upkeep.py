"""The repair half of the upload pipeline: finishing deletes and reconciling the three stores.

:class:`Upkeep` is mixed into :class:`~workbench.library.pipeline.Pipeline`,
which owns the stores, the locks and the active vector table; this module only
holds what a crash or a delete leaves to finish, so every image ends up either
fully present (row + blobs + vector) or fully absent, with no orphan anywhere::

    report = wb.pipeline.reconcile()
    print(report.repaired, report.details)
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from store import BlobStore, MetadataStore, Tx, VectorStore
from workbench.library.blob_refs import finish_deletions, release, sweep

if TYPE_CHECKING:
    from workbench.library.catalog import Library

__all__ = ["ReconcileReport", "Upkeep"]


@dataclass
class ReconcileReport:
    """What a reconcile pass repaired."""

    jobs_restarted: int = 0
    pending_completed: int = 0
    pending_removed: int = 0
    requeued: int = 0
    purged: int = 0
    orphan_vectors: int = 0
    orphan_blobs: int = 0
    reservations_refunded: int = 0
    details: list[str] = field(default_factory=list)

    @property
    def repaired(self) -> int:
        return (self.jobs_restarted + self.pending_completed + self.pending_removed + self.requeued
                + self.purged + self.orphan_vectors + self.orphan_blobs + self.reservations_refunded)


class Upkeep:
    """Deleting and reconciling, over the stores and locks of the pipeline it is mixed into."""

    # Set by Pipeline.__init__ (declared here for the type checker).
    _db: MetadataStore
    _blobs: BlobStore
    _vectors: VectorStore
    _library: Library
    _run_lock: threading.Lock
    lease_seconds: float

    @property
    def table(self) -> str:
        """The active model's vector table (the pipeline defines it)."""
        raise NotImplementedError

    # -- deleting ------------------------------------------------------------
    def purge(self, image_id: str) -> None:
        """Finish deleting an image: vectors, then the row with its file references, then unused files.

        Each step repeats safely (a crash, or two replicas finishing the same delete): the
        references are released in the transaction that deletes the row, so exactly once.
        """
        for name in self._image_tables():
            self._vectors.delete(name, [image_id])

        def work(cur: Tx) -> list[str]:
            row = cur.one("SELECT blob_key, thumb_key FROM images WHERE id = ?", [image_id])
            cur.execute("DELETE FROM image_tags WHERE image_id = ?", [image_id])
            cur.execute("DELETE FROM outbox WHERE subject = ? AND status <> 'running'", [image_id])
            if row is None or not cur.scalar("DELETE FROM images WHERE id = ?", [image_id]):
                return []  # deleted already (by another replica finishing the same delete)
            return release(cur, [row["blob_key"], row["thumb_key"]])

        with self._library.blob_lock:
            finish_deletions(self._db, self._blobs, self._db.write(work))

    def _image_tables(self) -> list[str]:
        return [n for n in self._vectors.table_names() if n.startswith("images_")]

    # -- reconcile -----------------------------------------------------------
    def reconcile(self) -> ReconcileReport:
        """Finish or undo every half-done ingest or delete; remove orphans in any store."""
        report = ReconcileReport()
        with self._run_lock, self._library.blob_lock:
            # On a database only this process writes, everything unfinished at start-up is a dead
            # process's. With other writers, only jobs whose lease ran out (a live worker elsewhere
            # keeps what it holds) and uploads older than a lease (one may be under way elsewhere).
            shared = self._db.shared
            report.jobs_restarted = self._db.write(lambda cur: int(cur.scalar(
                "UPDATE outbox SET status = 'pending', lease_owner = NULL, lease_until = NULL WHERE status = 'running'"
                + (" AND (lease_until IS NULL OR lease_until < now())" if shared else ""))))
            pending = "SELECT id, blob_key, thumb_key FROM images WHERE status = 'pending'"
            for row in self._db.query(pending + " AND updated_at < now() - to_seconds(?)" if shared else pending,
                                      [self.lease_seconds] if shared else []):
                if self._blobs.exists(row["blob_key"]) and self._blobs.exists(row["thumb_key"]):
                    self._db.execute("UPDATE images SET status = 'stored' WHERE id = ?", [row["id"]])
                    report.pending_completed += 1
                else:
                    self.purge(row["id"])
                    report.pending_removed += 1
            for row in self._db.query("SELECT id FROM images WHERE status = 'deleting'"):
                self.purge(row["id"])
                report.purged += 1
            report.requeued = self._requeue_unembedded()
            report.orphan_vectors = self._drop_orphan_vectors()
            report.orphan_blobs = self._drop_orphan_blobs()
        return report

    def _requeue_unembedded(self) -> int:
        table = self.table
        # Rows first, then the vectors, read fresh: an image is marked ready only after its
        # vector is written, so one another replica embedded a moment ago is in this view (a
        # stale view would requeue it, and its status would fall back from ready).
        rows = self._db.query(
            "SELECT id FROM images i WHERE status IN ('stored', 'ready') AND NOT EXISTS"
            " (SELECT 1 FROM outbox o WHERE o.subject = i.id AND o.kind = 'embed' AND o.status IN ('pending', 'running'))")
        self._vectors.refresh(table)
        have = self._vectors.ids(table) if self._vectors.count(table) else set()
        missing = [r["id"] for r in rows if r["id"] not in have]

        def work(cur: Tx) -> None:
            for image_id in missing:
                cur.execute("UPDATE images SET status = 'stored' WHERE id = ?", [image_id])
                cur.execute("INSERT INTO outbox (id, kind, subject, payload, status, attempts, last_error, available_at,"
                            " created_at, updated_at) VALUES (?, 'embed', ?, '{}', 'pending', 0, '', now(), now(), now())",
                            ["job_" + uuid.uuid4().hex[:16], image_id])

        if missing:
            self._db.write(work)
        return len(missing)

    def _drop_orphan_vectors(self) -> int:
        # Vectors listed before rows: an image's row is written before its vector, so a vector
        # listed here whose row the next query cannot find really is an orphan (the other order
        # would drop the vector of an image another process added in between).
        listed = {name: self._vectors.ids(name) if self._vectors.count(name) else set()
                  for name in self._image_tables()}
        known = {r["id"] for r in self._db.query("SELECT id FROM images WHERE status <> 'deleting'")}
        dropped = 0
        for name, ids in listed.items():
            orphans = [i for i in ids if i not in known]
            self._vectors.delete(name, orphans)
            dropped += len(orphans)
        return dropped

    def _drop_orphan_blobs(self) -> int:
        # Through the files' reference rows, so an upload starting to use a file meanwhile is safe.
        return sweep(self._db, self._blobs, shared=self._db.shared, grace_seconds=self.lease_seconds)
