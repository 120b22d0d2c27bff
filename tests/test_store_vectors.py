"""The vector contract on a local directory and on Azurite (az://)."""

from __future__ import annotations

from pathlib import Path

import pytest

from store import VectorStore, azure_storage_options
from tests.kits.vector_contract import VectorStoreContract


class TestLocalVectors(VectorStoreContract):
    @pytest.fixture
    def vectors(self, tmp_path: Path) -> VectorStore:
        return VectorStore(str(tmp_path / "vectors"))


@pytest.mark.azure
class TestAzuriteVectors(VectorStoreContract):
    @pytest.fixture
    def vectors(self, azurite: str, az_container: str) -> VectorStore:
        creds = {"connection_string": azurite}
        return VectorStore(
            f"az://{az_container}/vectors",
            storage_options=azure_storage_options(f"az://{az_container}", creds),
            fsspec_options=creds,
        )
