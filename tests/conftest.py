"""Shared fixtures: a hermetic environment, Azurite, PostgreSQL, and fresh workbench homes."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from tests.azurite import running_azurite
from tests.postgres import Cluster, running_postgres

_KEEP = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV", "PYTHONPATH", "TERM", "USER"}


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see no workbench, Azure or OpenAI settings from the developer's shell."""
    for name in list(os.environ):
        if name.startswith(("WORKBENCH_", "AZURE_", "OPENAI_", "CLERK_")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def azurite() -> Iterator[str]:
    """A running Azurite blob service for the whole session; yields its connection string."""
    with running_azurite() as conn:
        yield conn


@pytest.fixture
def az_container(azurite: str) -> str:
    """A fresh container name on Azurite for one test."""
    return "t" + uuid.uuid4().hex[:20]


@pytest.fixture(scope="session")
def postgres() -> Iterator[Cluster]:
    """A throwaway PostgreSQL 15 cluster for the whole session (started and stopped by the tests)."""
    with running_postgres() as cluster:
        yield cluster


@pytest.fixture
def pg_dsn(postgres: Cluster) -> str:
    """The DSN of a fresh, empty PostgreSQL database for one test."""
    return postgres.new_database()
