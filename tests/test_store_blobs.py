"""The blob contract on local disk, in memory and on Azurite."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from store import BlobStore
from tests.kits.blob_contract import BlobStoreContract


class TestLocalBlobs(BlobStoreContract):
    @pytest.fixture
    def blobs(self, tmp_path: Path) -> BlobStore:
        return BlobStore(tmp_path.as_uri() + "/blobs")

    def test_no_temp_files_left_behind(self, blobs: BlobStore, tmp_path: Path) -> None:
        blobs.put(b"tidy")
        leftovers = [p for p in (tmp_path / "blobs").rglob("*") if p.name.startswith(".incoming")]
        assert leftovers == []


class TestMemoryBlobs(BlobStoreContract):
    @pytest.fixture
    def blobs(self) -> BlobStore:
        return BlobStore(f"memory://blobs-{uuid.uuid4().hex}")


@pytest.mark.azure
class TestAzuriteBlobs(BlobStoreContract):
    @pytest.fixture
    def blobs(self, azurite: str, az_container: str) -> BlobStore:
        return BlobStore(f"az://{az_container}/library", {"connection_string": azurite})
