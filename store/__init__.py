"""Storage for the workbench: DuckDB metadata, LanceDB vectors, fsspec blobs.

This package knows nothing of ``workbench`` or ``server``; it stores and finds
bytes, rows and vectors, and leaves every product rule to the service layer.
"""

from store.blobs import BlobNotFound, BlobStore, sha256_hex
from store.integrity import IndexCheck
from store.metadata import DatabaseInUse, MetadataStore, StoreClosed, WriteConflict, migrate, schema_version
from store.migrations import MIGRATIONS, Migration
from store.vectors import VectorStore, azure_storage_options, sql_quote

__all__ = [
    "BlobNotFound",
    "BlobStore",
    "DatabaseInUse",
    "IndexCheck",
    "MIGRATIONS",
    "MetadataStore",
    "Migration",
    "StoreClosed",
    "VectorStore",
    "WriteConflict",
    "azure_storage_options",
    "migrate",
    "schema_version",
    "sha256_hex",
    "sql_quote",
]
