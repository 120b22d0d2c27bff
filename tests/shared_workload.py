"""A second (third...) replica for the cross-process tests: one small job, then exit.

Run as ``python tests/shared_workload.py MODE [ARGS...]`` with the workspace in the
``WORKBENCH_`` environment (a PostgreSQL DSN, shared blob and vector folders). Every
mode first prints ``{"ready": true}`` and then waits until the file named by
``WORKBENCH_TEST_GO`` exists (when set), so the parent can release several processes
at the same moment. Results are one JSON line each on stdout.

Modes:

* ``open``: open the metadata store (migrating at start) and report the version.
* ``reserve EMAIL COUNT``: make COUNT concurrent 1-credit reservations for EMAIL.
* ``ingest EMAIL FILE``: upload FILE for EMAIL, report the image id.
* ``hold SECONDS``: claim every claimable job through the real pipeline and hold them
  (heart-beating) for SECONDS, then finish none: the process the lease tests kill or outlive.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workbench import InsufficientCredits, Settings, Workbench  # noqa: E402
from workbench.app import build_metadata_store  # noqa: E402


def say(**line: object) -> None:
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def wait_for_go() -> None:
    go = os.environ.get("WORKBENCH_TEST_GO")
    say(ready=True, pid=os.getpid())
    if not go:
        return
    deadline = time.monotonic() + 120
    while not Path(go).exists():
        if time.monotonic() > deadline:
            raise SystemExit("never released")
        time.sleep(0.01)


def open_store() -> None:
    wait_for_go()
    db = build_metadata_store(Settings())
    try:
        say(version=db.version(), pending=db.pending_migrations())
    finally:
        db.close()


def reserve(wb: Workbench, email: str, count: int) -> None:
    user = wb.accounts.find_by_email(email)
    assert user is not None, email
    outcomes: list[str] = []
    lock = threading.Lock()
    wait_for_go()

    def one() -> None:
        try:
            wb.accounts.reserve(user, "idea")
            result = "ok"
        except InsufficientCredits:
            result = "refused"
        except Exception as error:  # reported to the parent, which fails the test
            result = f"error: {type(error).__name__}: {error}"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    say(outcomes=outcomes)


def ingest(wb: Workbench, email: str, file: str) -> None:
    user = wb.accounts.find_by_email(email)
    assert user is not None, email
    data = Path(file).read_bytes()
    wait_for_go()
    try:
        image, new = wb.library.ingest_new(user, data, filename=Path(file).name)
        say(image=image.id, new=new)
    except Exception as error:  # reported to the parent, which fails the test
        say(error=f"{type(error).__name__}: {error}")


def hold(wb: Workbench, seconds: float) -> None:
    wait_for_go()
    # The real claim: a lease with this worker's id, renewed by the real heartbeat thread.
    jobs = wb.pipeline._claim(None, 1000)
    say(claimed=sorted(job["id"] for job in jobs), worker=wb.pipeline.worker_id)
    time.sleep(seconds)
    say(released=True)


def main(argv: list[str]) -> int:
    mode = argv[0]
    if mode == "open":
        open_store()
        return 0
    wb = Workbench(Settings())
    try:
        if mode == "reserve":
            reserve(wb, argv[1], int(argv[2]))
        elif mode == "ingest":
            ingest(wb, argv[1], argv[2])
        elif mode == "hold":
            hold(wb, float(argv[1]))
        else:
            raise SystemExit(f"unknown mode {mode}")
    finally:
        wb.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
