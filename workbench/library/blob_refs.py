"""Who still needs a stored picture file: one counted row per blob, so deletes and uploads take turns.

Blobs are stored by content, so two people's copies of one picture (or a picture
uploaded again) share their files. Deciding "nobody uses this file any more" and
deleting it must never race an upload that is about to use it, and with several
replicas a process lock cannot see the other processes. So every blob key has a
row in ``blob_refs`` (migration 11) that each side *writes* in its transaction:

- an upload adds one reference per file in the transaction that records its image
  (or waits, if a deletion of that file is under way, and then stores the file anew);
- a purge removes the image's references in the transaction that deletes its row;
  a file left with none is marked ``deleting`` there, deleted, and then its row goes;
- the orphan sweep of ``reconcile`` marks an unreferenced file ``deleting`` the same way.

Two transactions touching one key's row conflict (a duplicate insert, or concurrent
updates of one row), so one of them is re-run and sees the other's decision.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence

from store import BlobStore, MetadataStore, Tx

__all__ = ["BlobBusy", "hold", "release", "finish_deletions", "sweep", "wait_for_deletion"]

log = logging.getLogger(__name__)


class BlobBusy(Exception):
    """A file this upload needs is being deleted right now; try again once it is gone."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def hold(tx: Tx, keys: Sequence[str]) -> None:
    """Add one reference per key (a key listed twice gets two) inside the upload's transaction."""
    for key in keys:
        if tx.scalar("UPDATE blob_refs SET refs = refs + 1, updated_at = now() WHERE blob_key = ? AND state = 'live'",
                     [key]):
            continue
        if tx.scalar("SELECT state FROM blob_refs WHERE blob_key = ?", [key]) == "deleting":
            raise BlobBusy(key)
        tx.execute("INSERT INTO blob_refs VALUES (?, 1, 'live', now())", [key])


def release(tx: Tx, keys: Sequence[str]) -> list[str]:
    """Remove one reference per key; returns the keys nobody uses any more, now marked ``deleting``."""
    unused: list[str] = []
    for key in keys:
        tx.execute("UPDATE blob_refs SET refs = refs - 1, updated_at = now() WHERE blob_key = ? AND state = 'live'", [key])
    for key in dict.fromkeys(keys):
        if tx.scalar("SELECT refs FROM blob_refs WHERE blob_key = ? AND state = 'live'", [key]) == 0:
            tx.execute("UPDATE blob_refs SET state = 'deleting', updated_at = now() WHERE blob_key = ?", [key])
            unused.append(key)
    return unused


def finish_deletions(db: MetadataStore, blobs: BlobStore, keys: Iterable[str]) -> int:
    """Delete the files marked ``deleting``, then their rows (repeatable: a crash in between is finished later)."""
    done = 0
    for key in keys:
        blobs.delete(key)
        db.execute("DELETE FROM blob_refs WHERE blob_key = ? AND state = 'deleting'", [key])
        done += 1
    return done


def wait_for_deletion(db: MetadataStore, blobs: BlobStore, key: str, *, patience: float) -> None:
    """Wait until a deletion of ``key`` under way elsewhere is finished; after ``patience`` s, finish it here.

    The deleter may have died between marking the file and deleting it; its work is
    repeatable, so finishing it is safe.
    """
    deadline = time.monotonic() + patience
    while db.scalar("SELECT count(*) FROM blob_refs WHERE blob_key = ? AND state = 'deleting'", [key]):
        if time.monotonic() > deadline:
            log.warning("blob %s was marked for deletion %.0f s ago and not deleted: finishing it", key, patience)
            finish_deletions(db, blobs, [key])
            return
        time.sleep(0.05)


def sweep(db: MetadataStore, blobs: BlobStore, *, shared: bool, grace_seconds: float) -> int:
    """Delete every stored file no image uses; returns how many (``reconcile``).

    Files are listed before the rows are read (an upload writes its row before its file),
    and each one is claimed through its row before it is deleted, so an upload that
    starts using it meanwhile either wins the row (the file stays) or waits for the delete.
    Deletions marked by a process that died are finished too (on a shared database only
    once older than ``grace_seconds``: the marker may belong to a live process).
    """
    listed = set(blobs.keys())
    stale = "SELECT blob_key FROM blob_refs WHERE state = 'deleting'"
    leftover = [r["blob_key"] for r in db.query(stale + " AND updated_at < now() - to_seconds(?)" if shared else stale,
                                           [grace_seconds] if shared else [])]
    live = {r["blob_key"] for r in db.query("SELECT blob_key FROM blob_refs WHERE state = 'live' AND refs > 0")}
    candidates = sorted(k for k in listed if k not in live and k not in leftover)

    def claim(tx: Tx) -> list[str]:
        claimed = []
        for key in candidates:
            row = tx.one("SELECT refs, state FROM blob_refs WHERE blob_key = ?", [key])
            if row is None:
                tx.execute("INSERT INTO blob_refs VALUES (?, 0, 'deleting', now())", [key])
            elif row["state"] == "live" and row["refs"] <= 0:
                tx.execute("UPDATE blob_refs SET state = 'deleting', updated_at = now() WHERE blob_key = ?", [key])
            else:
                continue  # someone uses it (or is deleting it) now
            claimed.append(key)
        return claimed

    claimed = db.write(claim) if candidates else []
    return finish_deletions(db, blobs, [*leftover, *claimed])
