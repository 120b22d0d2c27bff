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
