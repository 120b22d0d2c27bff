"""Three web replicas and two embedding workers on one PostgreSQL and one Azurite, driven at once.

The processes are real: each web replica runs ``server.main.prepare`` and the web server
(tests/replica_workload.py, with its team's workload on a thread), each worker is the
``workbench worker`` command. They share one PostgreSQL database (the metadata, through
DuckDB) and one Azurite container (blobs and vectors). The replicas upload overlapping
files, edit one board (some edits through a share link), spend credits from one balance,
and one of them revokes the link; one worker is SIGKILLed while it holds embedding jobs.

At the end nothing is lost, nothing is duplicated, every image is whole, the balance is
exact, and every replica's view of the board equals the stored board.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from store import sha256_hex
from tests.azurite import free_port
from tests.image_builders import picture
from tests.postgres import Cluster
from workbench import Settings
from workbench.app import Workbench

pytestmark = [pytest.mark.slow, pytest.mark.azure, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parent.parent
PICTURES = 14
REPLICAS = 3
CREDITS = 20           # the shared balance the replicas spend from
SPENDS_PER_REPLICA = 10
LEASE_SECONDS = 2


class Process:
    """A child process whose stdout JSON lines are collected on a thread."""

    def __init__(self, name: str, command: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.lines: list[dict[str, Any]] = []
        self.text: list[str] = []
        self.proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self._stderr: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=lambda: self._stderr.extend(self.proc.stderr or []), daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            self.text.append(raw)
            if raw.startswith("{"):
                self.lines.append(json.loads(raw))

    def said(self, key: str) -> list[dict[str, Any]]:
        return [line for line in list(self.lines) if key in line]

    def wait_for(self, key: str, count: int = 1, timeout: float = 300) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.said(key)) < count:
            crashed = self.said("crashed")
            assert not crashed, f"{self.name} crashed: {crashed}\n{self.stderr()}"
            assert self.proc.poll() is None, f"{self.name} exited ({self.proc.returncode}):\n{self.stderr()}"
            assert time.monotonic() < deadline, f"{self.name} never said {key!r}: {self.lines[-5:]}\n{self.stderr()}"
            time.sleep(0.05)
        return self.said(key)

    def stderr(self) -> str:
        return "".join(self._stderr)[-4000:]

    def stop(self, how: signal.Signals = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(how)
        return self.proc.wait(timeout=120)


def _env(home: Path, dsn: str, azurite: str, container: str, **more: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("WORKBENCH_", "AZURE_", "OPENAI_", "CLERK_"))}
    return {**keep, "WORKBENCH_HOME": str(home), "PYTHONPATH": str(REPO),
            "WORKBENCH_STORAGE__METADATA_BACKEND": "postgres", "WORKBENCH_STORAGE__METADATA_DSN": dsn,
            "WORKBENCH_STORAGE__BLOB_URL": f"az://{container}/blobs",
            "WORKBENCH_STORAGE__VECTOR_URL": f"az://{container}/vectors",
            "WORKBENCH_STORAGE__VECTOR_READ_CONSISTENCY_SECONDS": "0",
            "AZURE_STORAGE_CONNECTION_STRING": azurite,
            "WORKBENCH_LIBRARY__LOAD_SAMPLES": "false",
            "WORKBENCH_LIBRARY__JOB_LEASE_SECONDS": str(LEASE_SECONDS),
            "WORKBENCH_EMBEDDER__BATCH_SIZE": "4",
            "WORKBENCH_LIMITS__AI_PER_MINUTE": "1000", "WORKBENCH_LIMITS__UPLOADS_PER_MINUTE": "1000",
            **more}


def _settings(home: Path, dsn: str, azurite: str, container: str) -> Settings:
    return Settings(home=home, azure_connection_string=azurite,  # type: ignore[arg-type]
                    storage={"metadata_backend": "postgres", "metadata_dsn": dsn,
                             "blob_url": f"az://{container}/blobs", "vector_url": f"az://{container}/vectors",
                             "vector_read_consistency_seconds": 0},
                    library={"load_samples": False})


def _pictures(folder: Path) -> None:
    folder.mkdir()
    for i in range(PICTURES):
        buffer = io.BytesIO()
        picture((160, 112), seed=100 + i).save(buffer, format="PNG")
        (folder / f"still-{i:02d}.png").write_bytes(buffer.getvalue())


def _until(check: Any, what: str, timeout: float = 300) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        answer = check()
        if answer:
            return answer
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_three_web_replicas_and_two_workers_lose_nothing_and_agree(postgres: Cluster, azurite: str,
                                                                     tmp_path: Path) -> None:
    dsn, container = postgres.new_database(), "mp" + uuid.uuid4().hex[:12]
    pictures, control = tmp_path / "pictures", tmp_path / "control"
    _pictures(pictures)
    control.mkdir()
    wb = Workbench(_settings(tmp_path / "test", dsn, azurite, container))
    me = wb.accounts.local_user()
    # Exactly CREDITS left to spend, from every replica at once.
    wb.accounts.commit(wb.accounts.reserve(me, "idea", amount=wb.accounts.balance(me) - CREDITS))
    board = wb.boards.create(me, "Shared scene").id
    for beat in ("opening", "chase", "reveal"):
        wb.boards.add_note(me, board, beat)
    link, token = wb.boards.create_link(me, board, "edit", label="crew")

    def worker(i: int) -> Process:
        return Process(f"worker {i}", [str(Path(sys.executable).with_name("workbench")), "worker"],
                       _env(tmp_path / f"worker{i}", dsn, azurite, container))

    # The first worker starts alone, so it is sure to hold jobs when it is killed.
    workers = [worker(0)]
    ports = [free_port() for _ in range(REPLICAS)]
    web = [Process(f"replica {i}", [sys.executable, "tests/replica_workload.py", str(i), str(7 + i), str(pictures),
                                    board, token, str(control)],
                   _env(tmp_path / f"web{i}", dsn, azurite, container, WORKBENCH_SERVER__PORT=str(ports[i]),
                        WORKBENCH_SERVER__EMBED_IN_WEB="false"))
           for i in range(REPLICAS)]
    try:
        # One worker dies (SIGKILL) while it holds embedding jobs; the other must take them over.
        victim = workers[0]
        held = _until(lambda: wb.db.query(
            "SELECT id FROM outbox WHERE status = 'running' AND lease_owner LIKE ?", [f"%:{victim.proc.pid}:%"]),
            "the first worker to hold a job")
        victim.stop(signal.SIGKILL)
        killed_jobs = {row["id"] for row in held}
        workers.append(worker(1))

        for replica in web:
            replica.wait_for("phase1")
        for port in ports:  # every replica is up and its stores answer
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=30) as answer:
                assert answer.status == 200
        (control / "revoke").touch()
        web[0].wait_for("revoked")
        (control / "revoked").touch()
        for replica in web:
            replica.wait_for("after_revoke")
        revision = wb.boards.get(me, board).board.revision
        (control / "final.json").write_text(json.dumps({"revision": revision}))
        views = [replica.wait_for("view_revision")[0] for replica in web]

        def all_ready() -> bool:
            rows = wb.db.query("SELECT status FROM images WHERE owner = ?", [me.id])
            return len(rows) == PICTURES and all(r["status"] == "ready" for r in rows)

        _until(all_ready, "every image embedded by the surviving worker")
    finally:
        codes = [process.stop() for process in web + workers]
    assert codes[:REPLICAS] == [0] * REPLICAS, [p.stderr() for p in web]

    lines = [line for replica in web for line in replica.lines]
    assert not [line for line in lines if "crashed" in line or "error" in line]

    # Uploads: every replica got the same image for the same file; one of them added it.
    uploads = [line for line in lines if "upload" in line]
    assert len(uploads) == REPLICAS * PICTURES
    by_file: dict[str, set[str]] = {}
    for line in uploads:
        by_file.setdefault(line["upload"], set()).add(line["image"])
    assert all(len(ids) == 1 for ids in by_file.values()), by_file
    assert Counter(line["upload"] for line in uploads if line["new"]) == Counter({name: 1 for name in by_file})

    # Nothing lost, nothing duplicated, every image whole and searchable.
    images = wb.db.query("SELECT id, sha256, blob_key, thumb_key, status FROM images WHERE owner = ?", [me.id])
    assert {row["id"] for row in images} == {ids.pop() for ids in by_file.values()}
    assert len({row["sha256"] for row in images}) == PICTURES
    for row in images:
        for key in (row["blob_key"], row["thumb_key"]):
            assert sha256_hex(wb.blobs.get(key)) == key
    table = wb.pipeline.table
    assert wb.vectors.count(table) == PICTURES
    assert wb.vectors.ids(table) == {row["id"] for row in images}
    assert wb.db.scalar("SELECT count(*) FROM outbox WHERE status IN ('pending', 'running', 'failed')") == 0
    taken_over = wb.db.query("SELECT status, lease_owner FROM outbox WHERE list_contains(?, id)", [sorted(killed_jobs)])
    assert taken_over and all(r["status"] == "done" for r in taken_over)
    assert wb.db.scalar("SELECT count(*) FROM (SELECT subject FROM outbox WHERE kind = 'embed' "
                        "GROUP BY subject HAVING count(*) > 1)") == 0

    # Credits: exactly the balance was spent, the rest refused, and the books agree.
    spends = Counter(line["spend"] for line in lines if "spend" in line)
    assert spends == Counter({"ok": CREDITS, "refused": REPLICAS * SPENDS_PER_REPLICA - CREDITS})
    assert wb.accounts.balance(me) == 0
    assert wb.db.scalar("SELECT sum(amount) FROM credit_ledger WHERE user_id = ?", [me.id]) == 0

    # The share link worked on every replica until one revoked it, then on none.
    assert sum(1 for line in lines if line.get("edit") == "link") == 3 * REPLICAS
    assert [line["after_revoke"] for line in lines if "after_revoke" in line] == ["refused"] * REPLICAS

    # Every replica's view is the stored board; the events are one gap-free sequence, each heard once.
    stored = sorted([item.id, item.kind, round(item.x, 3), round(item.y, 3), item.text]
                    for item in wb.boards.get(me, board).items)
    assert len(stored) == 3 + REPLICAS * (4 + 3)
    for view in views:
        assert view["view_revision"] == revision
        assert view["items"] == stored
        assert view["heard_total"] == len(view["heard"])  # no event delivered twice
        assert revision in view["heard"]
    seqs = [row["seq"] for row in wb.db.query("SELECT seq FROM board_events WHERE board_id = ? ORDER BY seq", [board])]
    assert seqs == list(range(1, revision + 1))
    wb.close()
