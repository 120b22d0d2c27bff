"""The work behind an upload that spans stores: embedding, purging, reconciling.

Jobs come from the ``outbox`` table, written in the same transaction as the
image row they concern, so no job is ever lost. A job is claimed (``running``),
carried out, and marked ``done``; a failure retries with backoff and after
``MAX_ATTEMPTS`` marks the image ``failed`` with a readable reason.

:meth:`Pipeline.reconcile` (in :mod:`workbench.library.upkeep`) runs at
start-up and on demand. It finishes or removes whatever a crash left
half-done, so every image ends up either fully present (row + blobs +
vector) or fully absent, with no orphan anywhere.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from store import BlobStore, MetadataStore, Tx, VectorStore
from store.vectors import VectorFilter
from workbench.library.catalog import Library, StepHook
from workbench.library.embedding import DECODE_THREADS, DamagedPicture, decode_thumbnails, embed_each_or_all
from workbench.library.model import tag_text, vector_schema, vector_table_name
from workbench.library.upkeep import ReconcileReport, Upkeep

__all__ = ["Pipeline", "ReconcileReport", "DamagedPicture", "MAX_ATTEMPTS"]

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


class Pipeline(Upkeep):
    """Embeds images in the background and keeps the three stores consistent."""

    def __init__(
        self,
        db: MetadataStore,
        blobs: BlobStore,
        vectors: VectorStore,
        library: Library,
        embedder: Callable[[], Any],
        *,
        batch_size: int = 16,
        lease_seconds: float = 60.0,
    ) -> None:
        self._db = db
        self._blobs = blobs
        self._vectors = vectors
        self._library = library
        self._embedder_factory = embedder
        self._batch_size = batch_size
        # A claimed job is leased to this worker for ``lease_seconds``, renewed while it
        # works: a worker that dies is taken over once its lease runs out, a live one never.
        self.lease_seconds = lease_seconds
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._held: set[str] = set()
        self._held_lock = threading.Lock()
        self._heartbeat: threading.Thread | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._run_lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        library.pipeline = self

    # -- the embedder and its table -------------------------------------------
    @property
    def embedder(self) -> Any:
        return self._embedder_factory()

    @property
    def table(self) -> str:
        """The vector table of the active embedding model (created on first use)."""
        embedder = self.embedder
        name = vector_table_name(embedder.model_id)
        self._vectors.ensure_table(name, vector_schema(embedder.dimension))
        return name

    # -- jobs ----------------------------------------------------------------
    def _claim(self, subjects: Sequence[str] | None, limit: int) -> list[dict[str, Any]]:
        def work(cur: Tx) -> list[dict[str, Any]]:
            # An upload's job is written with its row, before the blobs: it becomes claimable
            # only once the row says ``stored`` (a worker that took it earlier would find no
            # picture yet and drop the job, leaving the image unsearchable). A ``running`` job
            # whose lease ran out belongs to a worker that died: it is taken over.
            sql = ("SELECT id, kind, subject, attempts FROM outbox WHERE ((status = 'pending' AND available_at <= now())"
                   " OR (status = 'running' AND (lease_until IS NULL OR lease_until < now())))"
                   " AND NOT EXISTS (SELECT 1 FROM images i WHERE i.id = outbox.subject AND i.status = 'pending')")
            params: list[Any] = []
            if subjects is not None:
                sql += " AND list_contains(?, subject)"
                params.append(list(subjects))
            rows = cur.execute(sql + " ORDER BY created_at LIMIT ?", [*params, limit]).fetchall()
            if rows:
                cur.execute("UPDATE outbox SET status = 'running', attempts = attempts + 1, updated_at = now(),"
                            " lease_owner = ?, lease_until = now() + to_seconds(?) WHERE list_contains(?, id)",
                            [self.worker_id, self.lease_seconds, [r[0] for r in rows]])
            return [{"id": r[0], "kind": r[1], "subject": r[2], "attempts": r[3] + 1} for r in rows]

        jobs = self._db.write(work)
        self._hold([job["id"] for job in jobs])
        return jobs

    # -- leases ----------------------------------------------------------------
    def _hold(self, job_ids: list[str]) -> None:
        if not job_ids:
            return
        with self._held_lock:
            self._held.update(job_ids)
            if self._heartbeat is None or not self._heartbeat.is_alive():
                self._heartbeat = threading.Thread(target=self._renew_leases, name="workbench-job-leases",
                                                   daemon=True)
                self._heartbeat.start()

    def _release(self, job_ids: Iterable[str]) -> None:
        with self._held_lock:
            self._held.difference_update(job_ids)

    def _renew_leases(self) -> None:
        # The heartbeat: every third of a lease, push the lease of every job still held
        # further out. It stops when this worker holds nothing.
        while not self._stop.wait(self.lease_seconds / 3):
            with self._held_lock:
                held = sorted(self._held)
                if not held:
                    self._heartbeat = None
                    return
            try:
                self._db.execute("UPDATE outbox SET lease_until = now() + to_seconds(?) WHERE status = 'running'"
                                 " AND lease_owner = ? AND list_contains(?, id)",
                                 [self.lease_seconds, self.worker_id, held])
            except Exception:  # a missed beat is retried; the lease has two more in hand
                log.exception("could not renew the leases of %d job(s)", len(held))

    def run_jobs(self, *, subject: str | None = None, subjects: Sequence[str] | None = None,
                 limit: int | None = None, on_step: StepHook | None = None) -> int:
        """Carry out pending jobs now (all, or those of some images), a batch at a time; returns how many ran.

        >>> wb.pipeline.run_jobs(subjects=[img.id for img in result.added])
        """
        wanted = [subject] if subject else (list(subjects) if subjects is not None else None)
        if wanted == []:
            return 0
        done = 0
        with self._run_lock:
            while limit is None or done < limit:
                jobs = self._claim(wanted, self._batch_size if limit is None else min(self._batch_size, limit - done))
                if not jobs:
                    break
                embeds = [j for j in jobs if j["kind"] == "embed"]
                if embeds:
                    self._embed(embeds, on_step)
                for job in jobs:
                    if job["kind"] == "purge":
                        self.purge(job["subject"])
                        self._finish([job["id"]])
                done += len(jobs)
        if done:
            self._vectors.maybe_index(self.table)
        return done

    @contextmanager
    def embedding_alongside(self) -> Iterator[set[str]]:
        """Embed in batches on a second thread while the caller stores uploads; wait for them on exit.

        Yields a set: add the id of every image to wait for. On exit every job of
        those images has run (or failed readably), so they are searchable. With
        the background worker running (the web app) the worker does the work.

        >>> with wb.pipeline.embedding_alongside() as waiting:
        ...     waiting.add(wb.library.ingest(me, "still.jpg").id)
        """
        waiting: set[str] = set()
        helper: threading.Thread | None = None
        finished = threading.Event()
        if not (self._thread and self._thread.is_alive()):
            helper = threading.Thread(target=self._help_until, args=(finished,), name="workbench-embed-batch",
                                      daemon=True)
            helper.start()
        try:
            yield waiting
        finally:
            finished.set()
            self._wake.set()
            if helper is not None:
                helper.join()
            self.run_jobs(subjects=sorted(waiting))

    def _help_until(self, finished: threading.Event) -> None:
        while not finished.is_set():
            try:
                ran = self.run_jobs(limit=self._batch_size)
            except Exception:  # the caller's final run_jobs retries, and reports what still fails
                log.exception("embedding alongside the uploads failed")
                ran = 0
            if not ran:
                self._wake.wait(timeout=0.05)
                self._wake.clear()

    def _finish(self, job_ids: list[str]) -> None:
        if job_ids:
            # Only jobs this worker still holds: one taken over meanwhile belongs to its new worker.
            self._db.execute("UPDATE outbox SET status = 'done', updated_at = now(), lease_until = NULL"
                             " WHERE list_contains(?, id) AND lease_owner = ?", [job_ids, self.worker_id])
            self._release(job_ids)

    def _embed(self, jobs: list[dict[str, Any]], on_step: StepHook | None) -> None:
        """One batch: decode the thumbnails, embed them together, write every vector, then every state."""
        images = self._library.get_many([j["subject"] for j in jobs])
        live = [j for j in jobs if j["subject"] in images and images[j["subject"]].status in ("stored", "ready")]
        self._finish([j["id"] for j in jobs if j not in live])  # deleted meanwhile: nothing to embed
        if not live:
            return
        try:
            embedder = self.embedder
            table = self.table
        except Exception as error:  # the model cannot load: every job retries later, then gives up readably
            self._fail([(job, error) for job in live], images)
            return
        pictures, failures = decode_thumbnails(self._blobs, live, images, self._decoders())
        live = [j for j in live if j["id"] in pictures]
        vectors, labels, broken = embed_each_or_all(embedder, [pictures[j["id"]] for j in live])
        failures += [(live[i], error) for i, error in broken.items()]
        embedded = [(job, vectors[i], labels[i]) for i, job in enumerate(live) if i not in broken]
        if failures:
            self._fail(failures, images)
        if not embedded:
            return
        for job, _, _ in embedded:
            if on_step:
                on_step("embedded", job["subject"])
        rows = []
        for job, vector, _ in embedded:
            image = images[job["subject"]]
            rows.append({"id": image.id, "owner": image.owner, "visibility": image.visibility,
                         "tags": tag_text(image.tags), "created_at": image.created_at,
                         "model": embedder.model_id, "vector": [float(v) for v in vector]})
        # Vectors before states: a crash in between leaves ``running`` jobs that reconcile
        # restarts, and the upsert of a vector already written is harmless.
        self._vectors.upsert(table, rows)
        for job, _, _ in embedded:
            if on_step:
                on_step("vector_written", job["subject"])

        def mark_ready(cur: Tx) -> None:
            for job, _, names in embedded:
                image = images[job["subject"]]
                words = [name for name, _ in names[:5]]
                caption = image.caption or (("Looks like " + ", ".join(words[:3])) if words else "")
                scores = [[name, round(float(score), 3)] for name, score in names[:5]]
                cur.execute(
                    "UPDATE images SET status = 'ready', embed_model = ?, labels = ?, label_scores = ?, caption = ?,"
                    " updated_at = now() WHERE id = ? AND status IN ('stored', 'ready')",
                    [embedder.model_id, json.dumps(words), json.dumps(scores), caption, image.id],
                )
            cur.execute("UPDATE outbox SET status = 'done', updated_at = now(), lease_until = NULL"
                        " WHERE list_contains(?, id) AND lease_owner = ?",
                        [[job["id"] for job, _, _ in embedded], self.worker_id])

        self._db.write(mark_ready)
        self._release(job["id"] for job, _, _ in embedded)
        # An image deleted while it was being embedded: its purge may have run before our
        # vector landed. Its row says ``deleting`` (or is gone) by now, so take the vector back.
        ids = [job["subject"] for job, _, _ in embedded]
        kept = {r["id"] for r in self._db.query(
            "SELECT id FROM images WHERE status IN ('stored', 'ready') AND list_contains(?, id)", [ids])}
        self._vectors.delete(table, [i for i in ids if i not in kept])
        for image_id in ids:
            if on_step and image_id in kept:
                on_step("ready", image_id)

    def _decoders(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=DECODE_THREADS, thread_name_prefix="workbench-decode")
            return self._pool

    def _fail(self, failures: list[tuple[dict[str, Any], Exception]], images: dict[str, Any]) -> None:
        """Record failed jobs in one transaction: retried with backoff, or given up with the reason shown."""
        for job, error in failures:
            log.warning("embedding %s failed: %s", job["subject"], error)

        def work(cur: Tx) -> None:
            for job, error in failures:
                # A damaged picture will not heal: give up at once instead of retrying five times.
                if job["attempts"] >= MAX_ATTEMPTS or isinstance(error, DamagedPicture):
                    cur.execute("UPDATE outbox SET status = 'failed', last_error = ?, updated_at = now(),"
                                " lease_until = NULL WHERE id = ? AND lease_owner = ?",
                                [str(error)[:500], job["id"], self.worker_id])
                    cur.execute("UPDATE images SET status = 'failed', caption = ? WHERE id = ?",
                                [f"Could not be analysed: {str(error)[:200]}", job["subject"]])
                else:
                    cur.execute(
                        "UPDATE outbox SET status = 'pending', last_error = ?, updated_at = now(), lease_until = NULL,"
                        " available_at = now() + to_seconds(?) WHERE id = ? AND lease_owner = ?",
                        [str(error)[:500], 2 ** job["attempts"], job["id"], self.worker_id],
                    )

        self._db.write(work)
        self._release(job["id"] for job, _ in failures)

    # -- background worker ---------------------------------------------------
    def start(self) -> None:
        """Start the background worker thread (the web app does; notebooks use wait=True)."""
        if self._thread and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="workbench-embed-worker", daemon=True)
        self._thread.start()

    def notify(self) -> None:
        """Wake the worker: a new job is waiting."""
        self._wake.set()

    def stop(self) -> None:
        """Stop the worker after its current batch."""
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=30)
        with self._pool_lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                ran = self.run_jobs(limit=self._batch_size)
            except Exception:  # keep the worker alive; the job's own retry handles the rest
                log.exception("background job failed")
                ran = 0
            if not ran:
                self._wake.wait(timeout=1.0)
                self._wake.clear()

    # -- vectors of one image ------------------------------------------------
    def update_vector(self, image_id: str, values: dict[str, str]) -> None:
        """Copy changed filter fields (tags, visibility) onto the image's vector."""
        table = self.table
        if self._vectors.count(table, VectorFilter(ids={image_id})):
            self._vectors.update(table, VectorFilter(ids={image_id}), values)

    # -- switching models ----------------------------------------------------
    def reindex(self, *, progress: Callable[[int, int], None] | None = None, drop_old: bool = False) -> int:
        """Embed every image missing from the active model's table (resumable); returns how many."""
        queued = self._requeue_unembedded()
        total = int(self._db.scalar("SELECT count(*) FROM outbox WHERE kind = 'embed' AND status = 'pending'"))
        done = 0
        while True:
            ran = self.run_jobs(limit=self._batch_size)
            if not ran:
                break
            done += ran
            if progress:
                progress(min(done, total), total)
        if drop_old:
            for name in self._image_tables():
                if name != self.table:
                    self._vectors.drop_table(name)
        return max(queued, done)
