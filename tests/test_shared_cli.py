"""``workbench migrate`` and ``workbench doctor`` on a PostgreSQL-backed workspace (several replicas).

Replicas must not race to migrate: ``migrate`` applies pending migrations explicitly (under the
workspace's lock), a process told not to migrate refuses to start on an old schema, and the
doctor names the metadata backend and the board event bus and says whether each answers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from store import SchemaBehind
from store.migrations import MIGRATIONS
from tests.postgres import free_port
from workbench import Settings
from workbench.app import Workbench
from workbench.cli import main as cli
from workbench.doctor import format_checks, run_checks

LATEST = MIGRATIONS[-1].version


def _on(monkeypatch: pytest.MonkeyPatch, home: Path, dsn: str, **more: str) -> None:
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    monkeypatch.setenv("WORKBENCH_STORAGE__METADATA_BACKEND", "postgres")
    monkeypatch.setenv("WORKBENCH_STORAGE__METADATA_DSN", dsn)
    monkeypatch.setenv("WORKBENCH_LIBRARY__LOAD_SAMPLES", "false")
    for name, value in more.items():
        monkeypatch.setenv(name, value)


def test_migrate_applies_every_migration_once_then_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                           pg_dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    _on(monkeypatch, tmp_path, pg_dsn)
    assert cli(["migrate"]) == 0
    out = capsys.readouterr().out
    assert f"schema version 0 -> {LATEST}" in out and "PostgreSQL" in out
    assert "password" not in out
    assert cli(["migrate"]) == 0
    again = capsys.readouterr().out
    assert f"schema version {LATEST} at PostgreSQL" in again and "nothing to apply" in again


def test_a_replica_told_not_to_migrate_refuses_an_old_schema_until_migrate_ran(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, pg_dsn: str) -> None:
    _on(monkeypatch, tmp_path, pg_dsn, WORKBENCH_STORAGE__MIGRATE_AT_START="false")
    with pytest.raises(SchemaBehind, match="workbench migrate"):
        Workbench(Settings())
    assert cli(["migrate"]) == 0
    with Workbench(Settings()) as wb:
        assert wb.db.version() == LATEST
        assert wb.db.shared


def test_doctor_names_postgres_and_the_bus_and_that_both_answer(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                                pg_dsn: str) -> None:
    _on(monkeypatch, tmp_path, pg_dsn)
    assert cli(["migrate"]) == 0
    checks = {c.part: c for c in run_checks(Settings())}
    table = format_checks(list(checks.values()))
    assert checks["metadata"].ok and checks["metadata"].backend == "postgres", table
    assert "PostgreSQL 15" in checks["metadata"].detail and f"schema version {LATEST}" in checks["metadata"].detail
    assert checks["board events"].ok and "LISTEN/NOTIFY" in checks["board events"].backend, table


def test_doctor_says_when_postgres_does_not_answer_or_the_schema_is_behind(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, pg_dsn: str) -> None:
    _on(monkeypatch, tmp_path, pg_dsn)
    behind = {c.part: c for c in run_checks(Settings())}
    assert not behind["metadata"].ok and "workbench migrate" in behind["metadata"].detail
    _on(monkeypatch, tmp_path, f"host=127.0.0.1 port={free_port()} user=nobody dbname=none connect_timeout=2")
    gone = {c.part: c for c in run_checks(Settings())}
    assert not gone["metadata"].ok and not gone["board events"].ok
    assert "UNREACHABLE" in format_checks(list(gone.values()))


def test_a_shared_backend_without_a_dsn_is_refused_with_the_setting_to_fix() -> None:
    with pytest.raises(ValueError, match="WORKBENCH_STORAGE__METADATA_DSN"):
        Settings(storage={"metadata_backend": "postgres"})
