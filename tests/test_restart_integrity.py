"""Every restart shows exactly what was stored: SIGTERM and SIGKILL the real server mid-workload.

The server process (``tests/crash_workload.py``) runs ``workbench serve``'s own
code with a filmmaker's workload inside it: notes, moves, removals, undo/redo
and AI ideas that reserve and commit credits. The test signals it at seeded
random points, then restarts the workbench and compares

- every board's cards found through the service layer (an indexed lookup)
  with a full scan of the table, and with what the workload last read back;
- every person's balance with the running sum of the ledger (scanned), with
  no reservation left open;
- every index of the database with a scan (``check_indexes(full=True)``).

A restart after SIGKILL is followed by a clean open and close before the next
round: the sequence that made DuckDB 1.4.4 persist stale secondary indexes.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from workbench import Settings, Workbench

HERE = Path(__file__).resolve().parent
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Round:
    """One run of the server process, read line by line until it is signalled."""

    def __init__(self, home: Path, seed: int, checkpoint_seconds: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "crash_workload.py"), str(home), str(_free_port()), str(seed),
             str(checkpoint_seconds)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.lines: list[dict] = []
        self.text = ""

    def read_until(self, done: int, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        while sum(1 for line in self.lines if "done" in line) < done:
            assert time.monotonic() < deadline, f"workload stalled: {self.lines[-3:]}"
            raw = self.proc.stdout.readline()
            if not raw:
                pytest.fail(f"server exited early ({self.proc.wait()}): {self.proc.stderr.read()[-3000:]}")
            self.text += raw
            if raw.startswith("{"):
                self.lines.append(json.loads(raw))

    def stop(self, how: signal.Signals) -> int:
        self.proc.send_signal(how)
        out, err = self.proc.communicate(timeout=120)
        self.text += out
        self.lines += [json.loads(raw) for raw in out.splitlines() if raw.startswith("{")]
        self.stderr = err
        return self.proc.returncode

    def acknowledged(self) -> tuple[dict[str, int], int | None, dict | None]:
        """Last read-back card count per board, last balance, and the action in flight when signalled."""
        counts: dict[str, int] = {}
        balance = None
        started: dict[int, dict] = {}
        for line in self.lines:
            if "start" in line:
                started[line["start"]] = line
            if "done" in line:
                counts[line["board"]] = line["items"]
                balance = line["balance"]
                started.pop(line["done"], None)
        in_flight = next(iter(started.values()), None)
        return counts, balance, in_flight


def _verify(home: Path, expected: dict[str, int], balance: int | None, in_flight: dict | None) -> None:
    wb = Workbench(Settings(home=home, library={"load_samples": False}))
    try:
        wb.reconcile()  # what the server does at start-up: refunds reservations of the dead process
        me = wb.accounts.local_user()
        scanned = {row["board_id"]: row["n"] for row in wb.db.query(
            "SELECT board_id, count(*) AS n FROM board_items GROUP BY ALL")}
        for board in wb.boards.list(me):
            found = len(wb.boards.get(me, board.id).items)
            assert found == scanned.get(board.id, 0), f"board {board.title}: lookup {found}, scan {scanned}"
            if board.id in expected:
                if in_flight and in_flight["board"] == board.id:
                    assert abs(found - expected[board.id]) <= 1, (board.title, found, expected[board.id])
                else:
                    assert found == expected[board.id], (board.title, found, expected[board.id], in_flight)
        ledger = {row["user_id"]: row["total"] for row in wb.db.query(
            "SELECT user_id, sum(amount) AS total FROM credit_ledger GROUP BY ALL")}
        for user_id, total in ledger.items():
            assert wb.accounts.balance(wb.accounts.get_user(user_id)) == total
        open_reservations = wb.db.scalar(
            "SELECT count(*) FROM credit_ledger r WHERE entry = 'reserve' AND NOT EXISTS (SELECT 1 FROM"
            " credit_ledger s WHERE s.reservation_id = r.reservation_id AND s.entry IN ('commit', 'refund'))")
        assert open_reservations == 0
        if balance is not None:
            now = wb.accounts.balance(me)
            allowed = {balance, balance - wb.accounts.price("idea")} if in_flight and in_flight["action"] == "idea" \
                else {balance}
            assert now in allowed, (now, balance, in_flight)
        checks = wb.db.check_indexes(full=True)
        assert checks and all(c.missing == 0 for c in checks), [c.describe() for c in checks if c.missing]
    finally:
        wb.close()


@pytest.mark.timeout(900)
def test_sigterm_and_sigkill_at_random_points_lose_nothing(tmp_path: Path) -> None:
    rng = random.Random(15)
    home = tmp_path / "home"
    plan = [(signal.SIGKILL, 3600.0), (signal.SIGTERM, 3600.0), (signal.SIGKILL, 3600.0), (signal.SIGKILL, 0.2),
            (signal.SIGTERM, 0.2)]
    for number, (how, checkpoint_seconds) in enumerate(plan):
        run = Round(home, seed=rng.randrange(10**6), checkpoint_seconds=checkpoint_seconds)
        run.read_until(done=rng.randrange(40, 160))
        code = run.stop(how)
        if how == signal.SIGTERM:
            assert code == 0, run.stderr[-3000:]
            assert "every change is saved" in run.text
            wal = home / "workbench.duckdb.wal"
            assert not wal.exists() or wal.stat().st_size == 0, "a clean shutdown checkpoints the WAL"
        else:
            assert code == -signal.SIGKILL
            # Someone looks at the file with DuckDB itself between two runs: the replay and
            # the shutdown checkpoint that made DuckDB 1.4.4 persist stale secondary indexes.
            duckdb.connect(str(home / "workbench.duckdb")).execute("SELECT 1").close()
        # And an admin's command: a clean open and close that never touches the boards.
        admin = subprocess.run([sys.executable, "-m", "workbench.cli", "credits", "ledger", "filmmaker@localhost"],
                               env={**os.environ, "WORKBENCH_HOME": str(home), "WORKBENCH_LIBRARY__LOAD_SAMPLES":
                                    "false"}, capture_output=True, text=True, timeout=120)
        assert admin.returncode == 0 and "balance:" in admin.stdout, admin.stderr[-2000:]
        counts, balance, in_flight = run.acknowledged()
        assert counts, f"round {number}: no action was acknowledged"
        _verify(home, counts, balance, in_flight)
