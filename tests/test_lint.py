"""The code stays ruff- and mypy-clean (STYLE.md: "ruff and mypy clean")."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_ruff_finds_nothing() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "workbench", "store", "server", "tests", "bench"],
        cwd=REPO, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout[-4000:]


def test_mypy_finds_nothing() -> None:
    # Settings come from [tool.mypy] in pyproject.toml (pydantic plugin, untyped third-party modules).
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "workbench", "store", "server"],
        cwd=REPO, capture_output=True, text=True,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]


def test_layers_and_engines_stay_where_they_belong() -> None:
    # [tool.importlinter] in pyproject.toml: server -> workbench -> store with no upward import,
    # and only store/ imports duckdb, lancedb or psycopg (the engine is the store's business).
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=REPO, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    assert "Contracts: 2 kept, 0 broken" in result.stdout


def test_the_engine_contract_would_catch_a_service_importing_duckdb(tmp_path: Path) -> None:
    # The contract is not vacuous: the same configuration over a copy with one offending
    # import reports it broken.
    import shutil

    for package in ("server", "workbench", "store"):
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "static",
                                                                                           "samples"))
    (tmp_path / "workbench" / "sneaky.py").write_text("import duckdb\n")
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=tmp_path, capture_output=True, text=True, env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode != 0
    assert "workbench.sneaky -> duckdb" in result.stdout
