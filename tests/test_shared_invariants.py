"""Rules that hold across processes when the metadata lives in PostgreSQL (#19).

Several web replicas and workers share one database and one set of blob and vector
folders. Each test starts real replicas: ``Workbench`` objects in this process and
subprocesses running ``tests/shared_workload.py``, all on the same DSN. Credits are
never overdrawn, the same picture uploaded twice at once is one image, a dead worker's
jobs are taken over once its lease runs out while a live worker keeps its own, and
reconcile leaves another replica's work under way alone.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import png_bytes, wait_for
from tests.shared_replicas import Workers, ledger_agrees, open_replica, together
from workbench import Workbench

# Each test starts replicas (several processes for some) and waits out leases: seconds, not milliseconds.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture
def replica(tmp_path: Path, pg_dsn: str) -> Iterator[Callable[..., Workbench]]:
    """Opens a replica of one shared workspace: ``replica("web-1", job_lease_seconds=2)``."""
    opened: list[Workbench] = []

    def open_one(name: str, **library: Any) -> Workbench:
        opened.append(open_replica(tmp_path, pg_dsn, name, library=library))
        return opened[-1]

    yield open_one
    for wb in opened:
        wb.close()


@pytest.fixture
def workers(tmp_path: Path, pg_dsn: str) -> Iterator[Workers]:
    running = Workers(tmp_path, pg_dsn)
    yield running
    running.stop()


# -- credits ----------------------------------------------------------------------------
def test_three_processes_reserving_twenty_credits_of_ten_overdraw_nothing(
        replica: Callable[..., Workbench], workers: Workers) -> None:
    wb = replica("web-1")
    user = wb.accounts.create_user("race@example.com")  # free plan: 10 credits, an idea costs 1
    assert wb.accounts.balance(user) == 10
    for count in (7, 7, 6):
        workers.start("reserve", user.email, str(count))
    workers.release()
    outcomes = [o for result in workers.results() for o in result["outcomes"]]
    assert len(outcomes) == 20
    assert [o for o in outcomes if o not in ("ok", "refused")] == []
    assert outcomes.count("ok") == 10 and outcomes.count("refused") == 10
    assert wb.accounts.balance(user) == 0
    assert wb.db.scalar("SELECT sum(amount) FROM credit_ledger WHERE user_id = ?", [user.id]) == 0
    assert wb.db.scalar("SELECT credits FROM credit_balances WHERE user_id = ?", [user.id]) == 0
    assert wb.db.scalar("SELECT count(*) FROM credit_ledger WHERE user_id = ? AND entry = 'reserve'",
                        [user.id]) == 10


def test_one_idempotency_key_from_two_replicas_charges_once(replica: Callable[..., Workbench]) -> None:
    web1, web2 = replica("web-1"), replica("web-2")
    user = web1.accounts.create_user("idem@example.com", plan="premium")  # 100 credits
    for round_ in range(10):
        key = f"retry-{round_}"
        first, second = together(lambda k=key: web1.accounts.reserve(user, "idea", idempotency_key=k),
                                  lambda k=key: web2.accounts.reserve(user, "idea", idempotency_key=k))
        assert first == second, (first, second)
    assert ledger_agrees(web1, user.id) == 90


def test_commit_and_refund_of_one_reservation_on_two_replicas_settle_it_once(
        replica: Callable[..., Workbench]) -> None:
    web1, web2 = replica("web-1"), replica("web-2")
    user = web1.accounts.create_user("settle@example.com", plan="premium")
    for _ in range(10):
        held = web1.accounts.reserve(user, "idea")
        results = together(lambda held=held: web1.accounts.commit(held),
                            lambda held=held: web2.accounts.refund(held))
        assert results == [None, None]
        settled = web1.db.scalar("SELECT count(*) FROM credit_ledger WHERE reservation_id = ?"
                                 " AND entry IN ('commit', 'refund')", [held.id])
        assert settled == 1
    balance = ledger_agrees(web1, user.id)
    kept = web1.db.scalar("SELECT count(*) FROM credit_ledger WHERE user_id = ? AND entry = 'commit'", [user.id])
    assert balance == 100 - kept


def test_two_replicas_reconciling_at_once_refund_an_abandoned_reservation_once(
        replica: Callable[..., Workbench], pg_dsn: str, tmp_path: Path) -> None:
    web1, web2 = replica("web-1"), replica("web-2")
    user = web1.accounts.create_user("gone@example.com")  # 10 credits
    # Reservations of a replica that died during its AI calls: never committed nor refunded.
    for _ in range(3):
        web1.accounts.reserve(user, "idea")
    # Still young: a replica that waits the usual 15 minutes refunds none of them.
    assert web2.reconcile().reservations_refunded == 0
    quick = [open_replica(tmp_path, pg_dsn, f"quick-{i}", credits={"abandoned_after_seconds": 1}) for i in range(2)]
    try:
        wait_for(lambda: quick[0].db.scalar("SELECT count(*) FROM credit_ledger WHERE entry = 'reserve'"
                                            " AND created_at < now() - to_seconds(2)") == 3, timeout=60,
                 message="the reservations to be abandoned")
        reports = together(quick[0].reconcile, quick[1].reconcile)
        assert sum(r.reservations_refunded for r in reports) == 3, reports  # type: ignore[union-attr]
    finally:
        for wb in quick:
            wb.close()
    assert ledger_agrees(web1, user.id) == 10
    assert web1.accounts.balance(user) == 10


# -- de-duplication -----------------------------------------------------------------------
def _one_row_per_picture(wb: Workbench) -> None:
    doubled = wb.db.query("SELECT owner, sha256, count(*) AS n FROM images GROUP BY owner, sha256 HAVING count(*) > 1")
    assert doubled == []
    jobs = wb.db.query("SELECT subject, count(*) AS n FROM outbox WHERE kind = 'embed' GROUP BY subject"
                       " HAVING count(*) > 1")
    assert jobs == []


def test_two_replicas_uploading_the_same_picture_at_once_get_one_image(replica: Callable[..., Workbench]) -> None:
    replicas = [replica("web-1"), replica("web-2")]
    owner = replicas[0].accounts.create_user("dup@example.com")
    for round_ in range(12):
        picture = png_bytes(seed=1000 + round_)
        barrier = threading.Barrier(2)
        got: list[tuple[str, bool]] = []
        errors: list[BaseException] = []

        def upload(wb: Workbench, picture: bytes = picture, barrier: threading.Barrier = barrier,
                   got: list[tuple[str, bool]] = got, errors: list[BaseException] = errors) -> None:
            try:
                barrier.wait(timeout=60)
                image, new = wb.library.ingest_new(owner, picture, filename="still.png")
                got.append((image.id, new))
            except BaseException as error:  # collected and asserted below
                errors.append(error)

        threads = [threading.Thread(target=upload, args=(wb,)) for wb in replicas]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == [] and len(got) == 2
        assert got[0][0] == got[1][0]
        assert sorted(new for _, new in got) == [False, True]
        image = replicas[1].library.get(owner, got[0][0])
        assert image.status == "stored" and replicas[1].library.files_present(image)
    assert replicas[0].library.count(owner) == 12
    _one_row_per_picture(replicas[0])


def test_two_processes_uploading_the_same_picture_at_once_get_one_image(
        replica: Callable[..., Workbench], workers: Workers, tmp_path: Path) -> None:
    wb = replica("web-1")
    owner = wb.accounts.create_user("dup@example.com")
    still = tmp_path / "still.png"
    still.write_bytes(png_bytes(seed=7))
    for _ in range(2):
        workers.start("ingest", owner.email, str(still))
    workers.release()
    results = workers.results()
    assert [r.get("error") for r in results] == [None, None]
    assert results[0]["image"] == results[1]["image"]
    assert sorted(r["new"] for r in results) == [False, True]
    assert wb.library.count(owner) == 1
    _one_row_per_picture(wb)


# -- job leases ----------------------------------------------------------------------------
LEASE = 2.0


def _jobs(wb: Workbench, ids: list[str]) -> dict[str, dict[str, Any]]:
    return {r["subject"]: r for r in wb.db.query(
        "SELECT subject, status, lease_owner, lease_until FROM outbox WHERE kind = 'embed'"
        " AND list_contains(?, subject)", [ids])}


def test_a_live_worker_keeps_its_jobs_and_a_killed_ones_are_taken_over(
        replica: Callable[..., Workbench], workers: Workers) -> None:
    wb = replica("web-1", job_lease_seconds=LEASE)
    owner = wb.accounts.create_user("lease@example.com")
    ids = [wb.library.ingest(owner, png_bytes(seed=2000 + i), filename=f"s{i}.png").id for i in range(3)]
    holder = workers.start("hold", "3600", WORKBENCH_LIBRARY__JOB_LEASE_SECONDS=str(LEASE))
    workers.release()
    claimed = workers.line(holder)
    assert len(claimed["claimed"]) == 3
    jobs = _jobs(wb, ids)
    assert {j["status"] for j in jobs.values()} == {"running"}
    assert {j["lease_owner"] for j in jobs.values()} == {claimed["worker"]}
    first_lease = max(j["lease_until"] for j in jobs.values())

    # Alive and heart-beating: for well past several lease lengths, nobody else gets its jobs.
    until = wb.db.scalar("SELECT now()::TIMESTAMP + to_seconds(?)", [4 * LEASE])
    while wb.db.scalar("SELECT now()::TIMESTAMP") < until:
        assert wb.pipeline.run_jobs() == 0
        assert wb.reconcile().jobs_restarted == 0
        assert holder.poll() is None
    jobs = _jobs(wb, ids)
    assert {j["lease_owner"] for j in jobs.values()} == {claimed["worker"]}
    assert {j["status"] for j in jobs.values()} == {"running"}
    assert min(j["lease_until"] for j in jobs.values()) > first_lease  # the heartbeat pushed it on

    # Killed while holding them: once the lease runs out this replica takes them over and finishes.
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=60)
    finished: list[int] = []

    def taken_over() -> bool:
        finished.append(wb.pipeline.run_jobs())
        return sum(finished) >= 3

    wait_for(taken_over, timeout=120, message="the killed worker's jobs to be taken over")
    jobs = _jobs(wb, ids)
    assert {j["status"] for j in jobs.values()} == {"done"}
    assert {i.status for i in wb.library.get_many(ids).values()} == {"ready"}
    attempts = wb.db.query("SELECT attempts FROM outbox WHERE list_contains(?, subject)", [ids])
    assert {r["attempts"] for r in attempts} == {2}  # once by the dead worker, once here


def test_a_worker_in_another_replica_is_not_robbed_while_it_works(replica: Callable[..., Workbench]) -> None:
    busy, other = replica("worker-1", job_lease_seconds=LEASE), replica("web-1", job_lease_seconds=LEASE)
    owner = other.accounts.create_user("lease@example.com")
    ids = [other.library.ingest(owner, png_bytes(seed=3000 + i), filename=f"s{i}.png").id for i in range(2)]
    jobs = busy.pipeline._claim(None, 100)  # the real claim, with the real heartbeat thread
    assert sorted(j["subject"] for j in jobs) == sorted(ids)
    until = other.db.scalar("SELECT now()::TIMESTAMP + to_seconds(?)", [4 * LEASE])
    while other.db.scalar("SELECT now()::TIMESTAMP") < until:
        assert other.pipeline._claim(None, 100) == []
        assert other.pipeline.run_jobs() == 0
    assert {j["lease_owner"] for j in _jobs(other, ids).values()} == {busy.pipeline.worker_id}


# -- reconcile -------------------------------------------------------------------------------
class Crash(Exception):
    """Stands in for a replica dying at one step of an upload (nothing after it runs)."""


def _crash_at(step: str) -> Callable[[str, str], None]:
    def hook(name: str, image_id: str) -> None:
        if name == step:
            raise Crash(f"{step} {image_id}")
    return hook


def test_reconcile_on_a_shared_database_touches_only_work_older_than_its_lease(
        replica: Callable[..., Workbench]) -> None:
    uploader = replica("web-2", job_lease_seconds=60)
    patient = replica("web-1", job_lease_seconds=60)  # a long lease: every upload here is fresh to it
    quick = replica("web-3", job_lease_seconds=1)
    owner = uploader.accounts.create_user("recon@example.com")

    def pending_id() -> str:
        return str(uploader.db.scalar("SELECT id FROM images WHERE status = 'pending' ORDER BY created_at DESC"))

    # Two uploads "crashed" mid-way: one before its blobs were written, one after.
    with pytest.raises(Crash):
        uploader.library.ingest(owner, png_bytes(seed=4000), filename="no-blobs.png", on_step=_crash_at("row_written"))
    no_blobs = pending_id()
    with pytest.raises(Crash):
        uploader.library.ingest(owner, png_bytes(seed=4001), filename="blobs.png", on_step=_crash_at("blob_written"))
    with_blobs = pending_id()

    # A third upload under way in its replica: held right after its row is written.
    row_written, go_on = threading.Event(), threading.Event()
    live: list[str] = []

    def slow_hook(name: str, image_id: str) -> None:
        if name == "row_written":
            live.append(image_id)
            row_written.set()
            assert go_on.wait(120)

    uploading = threading.Thread(target=lambda: uploader.library.ingest(
        owner, png_bytes(seed=4002), filename="live.png", on_step=slow_hook))
    uploading.start()
    assert row_written.wait(120)

    report = patient.reconcile()
    assert (report.pending_completed, report.pending_removed) == (0, 0)
    statuses = {r["id"]: r["status"] for r in patient.db.query("SELECT id, status FROM images")}
    assert statuses == {no_blobs: "pending", with_blobs: "pending", live[0]: "pending"}

    go_on.set()
    uploading.join(timeout=120)
    assert not uploading.is_alive()
    image = uploader.library.get(owner, live[0])
    assert image.status == "stored" and uploader.library.files_present(image)

    # Older than the quick replica's lease: finished (blobs present) or removed (no blobs).
    wait_for(lambda: quick.db.scalar("SELECT count(*) FROM images WHERE status = 'pending'"
                                     " AND updated_at < now() - to_seconds(2)") == 2, timeout=60,
             message="the crashed uploads to age past the lease")
    report = quick.reconcile()
    assert (report.pending_completed, report.pending_removed) == (1, 1)
    statuses = {r["id"]: r["status"] for r in quick.db.query("SELECT id, status FROM images")}
    assert statuses == {with_blobs: "stored", live[0]: "stored"}
    assert quick.library.files_present(quick.library.get(owner, with_blobs))
    assert quick.pipeline.run_jobs() == 2
    assert {i.status for i in quick.library.get_many([with_blobs, live[0]]).values()} == {"ready"}


# -- deleting and uploading at once ------------------------------------------------------------
def test_deleting_on_one_replica_while_another_uploads_the_same_picture_keeps_every_stored_file(
        replica: Callable[..., Workbench]) -> None:
    # Two people's copies of one picture share its blobs (stored by content). While one
    # replica deletes the first copy, another stores the second: the files must survive.
    deleter, uploader = replica("web-1"), replica("web-2")
    first = deleter.accounts.create_user("first@example.com")
    second = deleter.accounts.create_user("second@example.com")
    kept: list[str] = []
    errors: list[BaseException] = []
    pairs = 4  # pictures per round: each is one delete racing one upload

    def race(work: Callable[[], object], barrier: threading.Barrier) -> None:
        try:
            barrier.wait(timeout=60)
            work()
        except BaseException as error:  # collected and asserted below
            errors.append(error)

    for round_ in range(40):
        pictures = [png_bytes(seed=5000 + pairs * round_ + i) for i in range(pairs)]
        doomed = [deleter.library.ingest(first, p, filename="first.png").id for p in pictures]
        barrier = threading.Barrier(2 * pairs)
        work: list[Callable[[], object]] = []
        for picture, image_id in zip(pictures, doomed, strict=True):
            work.append(lambda image_id=image_id: deleter.library.delete(first, image_id))
            work.append(lambda picture=picture: kept.append(
                uploader.library.ingest(second, picture, filename="second.png").id))
        threads = [threading.Thread(target=race, args=(w, barrier)) for w in work]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == []
    assert len(kept) == 40 * pairs
    missing = [image.id for image in uploader.library.get_many(kept).values()
               if not uploader.library.files_present(image)]
    assert missing == [], f"{len(missing)} of {len(kept)} stored images lost their files"


def test_a_picture_uploaded_again_while_another_replica_deletes_it_is_in_the_library(
        replica: Callable[..., Workbench]) -> None:
    deleter, uploader = replica("web-1"), replica("web-2")
    owner = deleter.accounts.create_user("again@example.com")
    picture = png_bytes(seed=6000)
    earlier = deleter.library.ingest(owner, picture, filename="still.png")
    # The first step of Library.delete on the other replica, whose purge has not run yet.
    deleter.db.execute("UPDATE images SET status = 'deleting', updated_at = now() WHERE id = ?", [earlier.id])
    again = uploader.library.ingest(owner, picture, filename="still.png")
    assert uploader.library.get(owner, again.id).status in ("stored", "ready")
    deleter.reconcile()  # finishes the delete that was under way
    image = uploader.library.get(owner, again.id)
    assert uploader.library.files_present(image)
    assert uploader.library.count(owner) == 1


def test_reconcile_leaves_an_image_another_replica_just_embedded_ready(replica: Callable[..., Workbench]) -> None:
    # Replicas see each other's new vectors within vector_read_consistency_seconds (5 s by
    # default); reconcile must not take "not in my view of the vectors yet" for "never embedded".
    web, worker = replica("web-1"), replica("worker-1")
    owner = web.accounts.create_user("fresh@example.com")
    web.library.ingest(owner, png_bytes(seed=8000), filename="first.png", wait=True)  # web's table is open
    fresh = worker.library.ingest(owner, png_bytes(seed=8001), filename="fresh.png", wait=True)
    assert worker.library.get(owner, fresh.id).status == "ready"
    report = web.reconcile()
    assert report.requeued == 0
    assert web.library.get(owner, fresh.id).status == "ready"
    assert web.db.scalar("SELECT count(*) FROM outbox WHERE subject = ? AND status = 'pending'", [fresh.id]) == 0
