"""What every metadata backend must do, written once.

A backend's test class inherits :class:`MetadataContract` (and
:class:`SharedMetadataContract` when several processes may write) and overrides the
``metadata`` fixture, which returns a :class:`MetadataFactory` for a fresh, empty
workspace: ``metadata.open()`` opens a real :class:`store.MetadataStore` on it (as
many as a test likes, all closed afterwards).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from store import MIGRATIONS, Duplicate, Engine, MetadataStore, SchemaBehind, StoreClosed, Tx, WriteConflict

REPO = Path(__file__).resolve().parent.parent.parent
WORKLOAD = REPO / "tests" / "shared_workload.py"
LATEST = MIGRATIONS[-1].version


class MetadataFactory:
    """Opens stores on one workspace, and describes it to a subprocess (``env``)."""

    def __init__(self, engine: Engine, home: Path) -> None:
        self.engine = engine
        self.home = home
        self._opened: list[MetadataStore] = []

    @property
    def shared(self) -> bool:
        return self.engine.shared

    def open(self, **options: Any) -> MetadataStore:
        store = MetadataStore(engine=self.engine, **options)
        self._opened.append(store)
        return store

    def env(self) -> dict[str, str]:
        """The ``WORKBENCH_`` settings of this workspace, for ``workbench`` commands and workloads."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
        env.update({"WORKBENCH_HOME": str(self.home), "WORKBENCH_LIBRARY__LOAD_SAMPLES": "false",
                    "WORKBENCH_STORAGE__METADATA_BACKEND": self.engine.backend,
                    "WORKBENCH_STORAGE__BLOB_URL": (self.home / "blobs").as_uri(),
                    "WORKBENCH_STORAGE__VECTOR_URL": str(self.home / "vectors")})
        if self.engine.backend == "duckdb":
            env["WORKBENCH_STORAGE__METADATA_PATH"] = self.engine.path
        else:
            env["WORKBENCH_STORAGE__METADATA_DSN"] = self.engine.dsn
            env["WORKBENCH_STORAGE__METADATA_DATA_PATH"] = self.engine.data_path
        return env

    def close(self) -> None:
        for store in self._opened:
            store.close()


def applied(db: MetadataStore) -> dict[int, int]:
    """How many times each migration version was recorded."""
    return {int(r["version"]): int(r["n"]) for r in db.query(
        "SELECT version, count(*) AS n FROM schema_version GROUP BY version ORDER BY version")}


EVERY_ONCE = {m.version: 1 for m in MIGRATIONS}


def insert_user(tx: Tx, email: str, user_id: str | None = None) -> str:
    user_id = user_id or "u_" + uuid.uuid4().hex[:12]
    tx.execute("INSERT INTO users VALUES (?, ?, 'Ana', 'free', NULL, now())", [user_id, email])
    return user_id


def insert_image(tx: Tx, owner: str, sha: str) -> str:
    image_id = "img_" + uuid.uuid4().hex[:12]
    tx.execute("INSERT INTO images (id, owner, sha256, filename, mime, bytes, width, height, blob_key, thumb_key,"
               " status, created_at, updated_at) VALUES (?, ?, ?, 'a.png', 'image/png', 1, 1, 1, ?, ?, 'stored',"
               " now(), now())", [image_id, owner, sha, sha, sha])
    return image_id


def insert_share_link(tx: Tx, token_hash: str) -> str:
    link_id = "sl_" + uuid.uuid4().hex[:12]
    tx.execute("INSERT INTO share_links (id, board_id, token_hash, role, created_by, created_at)"
               " VALUES (?, 'b1', ?, 'view', 'u1', now())", [link_id, token_hash])
    return link_id


def run_threads(count: int, target: Callable[[int], None], timeout: float = 120) -> list[BaseException]:
    """Run ``target(i)`` on ``count`` threads released together; the errors they raised."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=timeout)
            target(i)
        except BaseException as error:  # collected and asserted by the caller
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return errors


class MetadataContract:
    """The behaviour every metadata backend shares."""

    #: Whether ``Tx.on_server`` reaches a PostgreSQL server (``NOTIFY`` for the board bus).
    server_statements = False

    @pytest.fixture
    def metadata(self) -> MetadataFactory:  # pragma: no cover - overridden
        raise NotImplementedError

    # -- migrations -----------------------------------------------------------
    def test_a_fresh_database_migrates_to_the_latest_and_reopening_applies_nothing(
            self, metadata: MetadataFactory) -> None:
        first = metadata.open()
        assert first.version() == LATEST and first.pending_migrations() == []
        assert applied(first) == EVERY_ONCE
        assert first.migrate() == []
        first.close()
        again = metadata.open()
        assert again.version() == LATEST
        assert again.migrate() == []
        assert applied(again) == EVERY_ONCE

    def test_a_behind_database_refuses_to_open_without_migrating(self, metadata: MetadataFactory) -> None:
        metadata.open(migrations=MIGRATIONS[:-2]).close()
        with pytest.raises(SchemaBehind, match="workbench migrate"):
            metadata.open(migrate_at_start=False)
        behind = metadata.open(migrations=MIGRATIONS[:-2], migrate_at_start=False)
        assert behind.version() == MIGRATIONS[-3].version
        assert set(applied(behind)) == {m.version for m in MIGRATIONS[:-2]}

    @pytest.mark.slow  # a `workbench migrate` subprocess
    def test_workbench_migrate_brings_a_behind_database_up_to_date(self, metadata: MetadataFactory) -> None:
        metadata.open(migrations=MIGRATIONS[:-2]).close()
        done = subprocess.run([sys.executable, "-m", "workbench.cli", "migrate"], env=metadata.env(), cwd=REPO,
                              capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stderr[-3000:]
        assert f"{MIGRATIONS[-2].version}, {MIGRATIONS[-1].version}" in done.stdout
        current = metadata.open(migrate_at_start=False)
        assert current.version() == LATEST and applied(current) == EVERY_ONCE

    def test_stores_opened_together_on_a_fresh_database_apply_each_migration_once(
            self, metadata: MetadataFactory) -> None:
        stores: list[MetadataStore] = []
        lock = threading.Lock()

        def open_one(_: int) -> None:
            store = metadata.open()
            with lock:
                stores.append(store)

        errors = run_threads(4, open_one)
        assert errors == []
        assert [s.version() for s in stores] == [LATEST] * 4
        assert applied(stores[0]) == EVERY_ONCE

    # -- the write path ---------------------------------------------------------
    def test_a_write_commits_all_or_nothing(self, metadata: MetadataFactory) -> None:
        db = metadata.open()

        def changed_its_mind(tx: Tx) -> None:
            user = insert_user(tx, "ana@example.com")
            tx.execute("INSERT INTO credit_balances VALUES (?, 10, now())", [user])
            assert tx.scalar("SELECT count(*) FROM users") == 1  # sees its own write
            raise RuntimeError("the caller changed its mind")

        with pytest.raises(RuntimeError, match="changed its mind"):
            db.write(changed_its_mind)

        def bad_statement(tx: Tx) -> None:
            insert_user(tx, "ben@example.com")
            tx.execute("INSERT INTO no_such_table VALUES (1)")

        with pytest.raises(Exception, match="no_such_table"):
            db.write(bad_statement)
        assert db.scalar("SELECT count(*) FROM users") == 0
        assert db.scalar("SELECT count(*) FROM credit_balances") == 0
        # The write path is still usable after both.
        db.write(lambda tx: insert_user(tx, "cleo@example.com"))
        assert db.scalar("SELECT count(*) FROM users") == 1

    def test_after_commit_runs_once_committed_and_never_on_rollback(self, metadata: MetadataFactory) -> None:
        db = metadata.open()
        seen: list[int] = []

        def work(tx: Tx) -> str:
            # The hook reads through the store, outside this transaction: it must see the row.
            tx.after_commit(lambda: seen.append(int(db.scalar("SELECT count(*) FROM users"))))
            return insert_user(tx, "ana@example.com")

        db.write(work)
        assert seen == [1]  # ran before write() returned, after the commit

        def rolled_back(tx: Tx) -> None:
            tx.after_commit(lambda: seen.append(-1))
            insert_user(tx, "ben@example.com")
            raise ValueError("no")

        with pytest.raises(ValueError):
            db.write(rolled_back)
        assert seen == [1]

    def test_write_async_from_an_event_loop_while_other_writes_run(self, metadata: MetadataFactory) -> None:
        db = metadata.open()
        loop_ran = threading.Event()

        def needs_the_loop(tx: Tx) -> str:
            # Runs on the writer thread; the event is set by a coroutine, so this only
            # returns if awaiting the write left the event loop free.
            assert loop_ran.wait(60), "the event loop was blocked while the write ran"
            return insert_user(tx, "loop@example.com")

        async def main() -> list[str]:
            pending = asyncio.ensure_future(db.write_async(needs_the_loop))
            await asyncio.sleep(0)
            loop_ran.set()
            others = [db.write_async(lambda tx, i=i: insert_user(tx, f"async{i}@example.com")) for i in range(10)]
            return [await pending, *await asyncio.gather(*others)]

        sync_errors: list[BaseException] = []

        def sync_writes(t: int) -> None:
            for i in range(5):
                db.write(lambda tx, i=i: insert_user(tx, f"sync{t}-{i}@example.com"))

        background = threading.Thread(target=lambda: sync_errors.extend(run_threads(3, sync_writes)))
        background.start()
        # On a thread of its own: in a full run the browser tests' Playwright keeps an event loop
        # running in the main thread, and asyncio.run refuses to start inside one.
        answers: list[list[str]] = []
        runner = threading.Thread(target=lambda: answers.append(asyncio.run(asyncio.wait_for(main(), timeout=120))))
        runner.start()
        runner.join(timeout=180)
        assert answers, "the event loop did not finish its writes"
        ids = answers[0]
        background.join(timeout=120)
        assert not background.is_alive() and sync_errors == []
        assert len(set(ids)) == 11
        assert db.scalar("SELECT count(*) FROM users") == 11 + 15

    def test_reads_see_committed_writes_from_every_store(self, metadata: MetadataFactory) -> None:
        writer, reader = metadata.open(), metadata.open()
        for i in range(5):
            user = writer.write(lambda tx, i=i: insert_user(tx, f"u{i}@example.com"))
            assert writer.scalar("SELECT email FROM users WHERE id = ?", [user]) == f"u{i}@example.com"
            assert reader.scalar("SELECT email FROM users WHERE id = ?", [user]) == f"u{i}@example.com"
            seen: list[object] = []
            thread = threading.Thread(target=lambda u=user, seen=seen: seen.append(
                reader.scalar("SELECT count(*) FROM users WHERE id = ?", [u])))
            thread.start()
            thread.join(timeout=60)
            assert seen == [1]
        with reader.snapshot() as snap:
            assert snap.scalar("SELECT count(*) FROM users") == 5

    def _bump_from_two_stores(self, metadata: MetadataFactory, threads: int = 6,
                              per_thread: int = 15) -> dict[str, int]:
        """Threads on two stores each add 1 to one row, read-modify-write; what came of it."""
        stores = [metadata.open(), metadata.open()]
        stores[0].execute("INSERT INTO credit_balances VALUES ('counter', 0, now())")
        attempts: list[int] = []
        hooks: list[int] = []
        committed: list[int] = []
        gave_up: list[int] = []

        def bump(i: int) -> None:
            db = stores[i % 2]
            for _ in range(per_thread):
                def work(tx: Tx) -> None:
                    attempts.append(1)
                    n = int(tx.scalar("SELECT credits FROM credit_balances WHERE user_id = 'counter'"))
                    tx.execute("UPDATE credit_balances SET credits = ? WHERE user_id = 'counter'", [n + 1])
                    tx.after_commit(lambda: hooks.append(1))
                try:
                    db.write(work)
                    committed.append(1)
                except WriteConflict:
                    gave_up.append(1)

        assert run_threads(threads, bump) == []
        return {"total": threads * per_thread, "committed": len(committed), "gave_up": len(gave_up),
                "hooks": len(hooks), "attempts": len(attempts),
                "counter": int(stores[1].scalar("SELECT credits FROM credit_balances WHERE user_id = 'counter'"))}

    def test_read_modify_write_from_two_stores_loses_no_update(self, metadata: MetadataFactory) -> None:
        outcome = self._bump_from_two_stores(metadata)
        assert outcome["gave_up"] == 0 and outcome["committed"] == outcome["total"]
        assert outcome["counter"] == outcome["total"]
        assert outcome["hooks"] == outcome["total"]  # once per committed write, however often it was retried
        assert outcome["attempts"] >= outcome["total"]

    def test_a_closed_store_refuses_writes_and_keeps_what_it_committed(self, metadata: MetadataFactory) -> None:
        db = metadata.open()
        db.write(lambda tx: insert_user(tx, "kept@example.com"))
        db.close()
        with pytest.raises(StoreClosed):
            db.write(lambda tx: insert_user(tx, "late@example.com"))
        db.close()  # idempotent
        again = metadata.open()
        assert [r["email"] for r in again.query("SELECT email FROM users")] == ["kept@example.com"]

    def test_statements_for_the_server_run_only_where_there_is_one(self, metadata: MetadataFactory) -> None:
        db = metadata.open()
        sent = db.write(lambda tx: tx.on_server("NOTIFY workbench_contract, 'hello'"))
        assert sent is self.server_statements

    # -- uniqueness rules -----------------------------------------------------------
    def _blind_duplicates(self, db: MetadataStore) -> dict[str, Callable[[], object]]:
        owner = db.write(lambda tx: insert_user(tx, "owner@example.com"))
        db.write(lambda tx: insert_image(tx, owner, "sha-1"))
        db.write(lambda tx: insert_share_link(tx, "hash-1"))
        return {
            "users.email": lambda: db.write(lambda tx: insert_user(tx, "owner@example.com")),
            "images owner+sha256": lambda: db.write(lambda tx: insert_image(tx, owner, "sha-1")),
            "share_links.token_hash": lambda: db.write(lambda tx: insert_share_link(tx, "hash-1")),
            "users primary key": lambda: db.write(lambda tx: insert_user(tx, "other@example.com", owner)),
        }

    def _unique_counts(self, db: MetadataStore) -> dict[str, int]:
        return {"users.email": db.scalar("SELECT count(*) FROM users WHERE email = 'owner@example.com'"),
                "images owner+sha256": db.scalar("SELECT count(*) FROM images WHERE sha256 = 'sha-1'"),
                "share_links.token_hash": db.scalar("SELECT count(*) FROM share_links WHERE token_hash = 'hash-1'"),
                "users primary key": db.scalar("SELECT count(*) FROM users")}

    def test_a_blind_duplicate_insert_raises_duplicate(self, metadata: MetadataFactory) -> None:
        db = metadata.open()
        for rule, insert in self._blind_duplicates(db).items():
            with pytest.raises(Duplicate):
                insert()
            assert rule
        hooks: list[int] = []

        def duplicate_with_a_hook(tx: Tx) -> None:
            tx.after_commit(lambda: hooks.append(1))
            insert_user(tx, "owner@example.com")

        with pytest.raises(Duplicate):
            db.write(duplicate_with_a_hook)
        assert hooks == []  # however often the work was re-run, it never committed
        assert self._unique_counts(db) == {"users.email": 1, "images owner+sha256": 1,
                                           "share_links.token_hash": 1, "users primary key": 1}

    def test_read_then_insert_racing_from_two_stores_ends_with_one_row(self, metadata: MetadataFactory) -> None:
        stores = [metadata.open(), metadata.open()]
        rounds = 12
        for round_ in range(rounds):
            email = f"race{round_}@example.com"
            got: list[str] = []

            def find_or_create(i: int, email: str = email, got: list[str] = got) -> None:
                def work(tx: Tx) -> str:
                    found = tx.scalar("SELECT id FROM users WHERE email = ?", [email])
                    return str(found) if found else insert_user(tx, email)
                got.append(stores[i % 2].write(work))

            assert run_threads(4, find_or_create) == []
            assert len(set(got)) == 1, got
            assert stores[0].scalar("SELECT count(*) FROM users WHERE email = ?", [email]) == 1


class SharedMetadataContract:
    """What a backend that several processes write at once must also do."""

    @pytest.fixture
    def metadata(self) -> MetadataFactory:  # pragma: no cover - overridden
        raise NotImplementedError

    @pytest.mark.slow  # three subprocesses
    def test_three_processes_opening_a_fresh_database_apply_each_migration_once(
            self, metadata: MetadataFactory, tmp_path: Path) -> None:
        go = tmp_path / "go"
        env = {**metadata.env(), "WORKBENCH_TEST_GO": str(go)}
        procs = [subprocess.Popen([sys.executable, str(WORKLOAD), "open"], env=env, cwd=REPO, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(3)]
        try:
            for proc in procs:
                assert proc.stdout is not None
                assert json.loads(proc.stdout.readline()).get("ready"), proc.stderr.read() if proc.stderr else ""
            go.touch()
            results = []
            for proc in procs:
                out, err = proc.communicate(timeout=180)
                assert proc.returncode == 0, err[-3000:]
                results.append(json.loads(out.strip().splitlines()[-1]))
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        assert results == [{"version": LATEST, "pending": []}] * 3
        db = metadata.open(migrate_at_start=False)
        assert applied(db) == EVERY_ONCE

