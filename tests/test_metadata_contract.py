"""The metadata contract on the embedded DuckDB file, on PostgreSQL, and (honestly) on DuckLake."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from store import Engine, Tx

# The kit is a plain module: ask pytest to explain its failed asserts as it does in test files.
pytest.register_assert_rewrite("tests.kits.metadata_contract")
from tests.kits.metadata_contract import (  # noqa: E402
    MetadataContract,
    MetadataFactory,
    SharedMetadataContract,
    insert_user,
    run_threads,
)


class TestDuckDBFileMetadata(MetadataContract):
    @pytest.fixture
    def metadata(self, tmp_path: Path) -> Iterator[MetadataFactory]:
        factory = MetadataFactory(Engine(path=str(tmp_path / "home" / "workbench.duckdb")), tmp_path / "home")
        yield factory
        factory.close()


class TestPostgresMetadata(MetadataContract, SharedMetadataContract):
    server_statements = True

    @pytest.fixture
    def metadata(self, pg_dsn: str, tmp_path: Path) -> Iterator[MetadataFactory]:
        factory = MetadataFactory(Engine(backend="postgres", dsn=pg_dsn), tmp_path / "home")
        yield factory
        factory.close()


class TestDuckLakeMetadata(MetadataContract, SharedMetadataContract):
    """DuckLake keeps the write path, migrations and isolation, but has no UNIQUE or PRIMARY KEY.

    The uniqueness cases below are overridden to assert what DuckLake really does
    (the duplicate is stored), so nobody mistakes it for a backend that keeps those rules.
    """

    @pytest.fixture
    def metadata(self, pg_dsn: str, tmp_path: Path) -> Iterator[MetadataFactory]:
        factory = MetadataFactory(Engine(backend="ducklake", dsn=pg_dsn, data_path=str(tmp_path / "lake")),
                                  tmp_path / "home")
        yield factory
        factory.close()

    def test_read_modify_write_from_two_stores_loses_no_update(self, metadata: MetadataFactory) -> None:
        # DuckLake never loses an update, but one commit takes long enough (new data and delete
        # files) that a write on a hot row can lose every retry to the other store and raise
        # WriteConflict: seen once (a loaded machine, 6 threads on 2 stores, inlining off).
        outcome = self._bump_from_two_stores(metadata)
        assert outcome["committed"] + outcome["gave_up"] == outcome["total"]
        assert outcome["counter"] == outcome["committed"] == outcome["hooks"]

    def test_a_blind_duplicate_insert_raises_duplicate(self, metadata: MetadataFactory) -> None:
        # DuckLake cannot enforce UNIQUE: every blind duplicate is stored beside the first.
        db = metadata.open()
        for insert in self._blind_duplicates(db).values():
            insert()
        assert self._unique_counts(db) == {"users.email": 2, "images owner+sha256": 2,
                                           "share_links.token_hash": 2, "users primary key": 3}

    def test_read_then_insert_racing_from_two_stores_ends_with_one_row(self, metadata: MetadataFactory) -> None:
        # Without a unique key, two transactions that both read "absent" both insert: what
        # happens depends on DuckLake's conflict rules for two appends to one table.
        stores = [metadata.open(), metadata.open()]
        counts = []
        for round_ in range(6):
            email = f"race{round_}@example.com"

            def find_or_create(i: int, email: str = email) -> None:
                def work(tx: Tx) -> str:
                    found = tx.scalar("SELECT id FROM users WHERE email = ?", [email])
                    return str(found) if found else insert_user(tx, email)
                stores[i % 2].write(work)

            assert run_threads(2, find_or_create) == []
            counts.append(stores[0].scalar("SELECT count(*) FROM users WHERE email = ?", [email]))
        assert set(counts) <= {1, 2}
        assert 2 in counts, "DuckLake kept one row every time: it now detects this race, update the contract"

