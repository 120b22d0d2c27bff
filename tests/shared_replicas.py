"""Replicas of one PostgreSQL-backed workspace for the cross-process tests.

``open_replica`` opens a ``Workbench`` in this process; :class:`Workers` starts
subprocess replicas (``tests/shared_workload.py``) and releases them together. All of
them share one DSN and one set of blob and vector folders.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbench import Settings, Workbench

REPO = Path(__file__).resolve().parent.parent
WORKLOAD = REPO / "tests" / "shared_workload.py"


def storage(tmp_path: Path, dsn: str) -> dict[str, str]:
    return {"metadata_backend": "postgres", "metadata_dsn": dsn, "blob_url": (tmp_path / "blobs").as_uri(),
            "vector_url": str(tmp_path / "vectors")}


def open_replica(tmp_path: Path, dsn: str, name: str, **sections: Any) -> Workbench:
    """A replica named ``name``: its own home, the shared stores; ``sections`` override settings."""
    library = {"load_samples": False, **sections.pop("library", {})}
    settings = Settings(home=tmp_path / name, storage=storage(tmp_path, dsn),  # type: ignore[arg-type]
                        library=library, limits={"ai_per_minute": 0, "uploads_per_minute": 0}, **sections)
    return Workbench(settings)


class Workers:
    """Subprocess replicas running one ``shared_workload.py`` mode each, released together."""

    def __init__(self, tmp_path: Path, dsn: str) -> None:
        self.tmp_path = tmp_path
        self.dsn = dsn
        self.go = tmp_path / f"go-{os.getpid()}"
        self.procs: list[subprocess.Popen[str]] = []

    def env(self, name: str, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
        env.update({"WORKBENCH_HOME": str(self.tmp_path / name), "WORKBENCH_LIBRARY__LOAD_SAMPLES": "false",
                    "WORKBENCH_LIMITS__AI_PER_MINUTE": "0", "WORKBENCH_LIMITS__UPLOADS_PER_MINUTE": "0",
                    "WORKBENCH_TEST_GO": str(self.go)})
        env.update({f"WORKBENCH_STORAGE__{k.upper()}": v for k, v in storage(self.tmp_path, self.dsn).items()})
        env.update(extra)
        return env

    def start(self, *args: str, **extra: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen([sys.executable, str(WORKLOAD), *args], cwd=REPO, text=True,
                                env=self.env(f"proc-{len(self.procs)}", **extra),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.procs.append(proc)
        return proc

    def line(self, proc: subprocess.Popen[str]) -> dict[str, Any]:
        """The next JSON line of a worker (a hang guard: the test's timeout)."""
        assert proc.stdout is not None
        text = proc.stdout.readline()
        if not text:
            proc.wait(timeout=60)
            raise AssertionError(f"worker exited {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}")
        return dict(json.loads(text))

    def release(self) -> None:
        for proc in self.procs:
            assert self.line(proc).get("ready")
        self.go.touch()

    def results(self) -> list[dict[str, Any]]:
        """The last line of every worker, once each has exited cleanly."""
        answers = []
        for proc in self.procs:
            out, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err[-3000:]
            answers.append(json.loads(out.strip().splitlines()[-1]))
        return answers

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate(timeout=60)


def together(*work: Callable[[], object]) -> list[object]:
    """Run each callable on its own thread, released at once; their results (or raised errors)."""
    barrier = threading.Barrier(len(work))
    results: list[object] = [None] * len(work)

    def run(i: int) -> None:
        barrier.wait(timeout=60)
        try:
            results[i] = work[i]()
        except Exception as error:  # returned to the caller, which asserts on it
            results[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a replica hung"
    return results


def ledger_agrees(wb: Workbench, user_id: str) -> int:
    balance = wb.db.scalar("SELECT credits FROM credit_balances WHERE user_id = ?", [user_id])
    assert wb.db.scalar("SELECT sum(amount) FROM credit_ledger WHERE user_id = ?", [user_id]) == balance
    return int(balance)
