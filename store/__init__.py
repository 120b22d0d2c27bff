"""Storage for the workbench: metadata (DuckDB SQL on a file, PostgreSQL or DuckLake), LanceDB vectors, fsspec blobs.

This package knows nothing of ``workbench`` or ``server``; it stores and finds
bytes, rows and vectors, and leaves every product rule to the service layer.
"""

from store.blobs import BlobNotFound, BlobStore, sha256_hex
from store.engines import BACKENDS, Engine
from store.integrity import IndexCheck
from store.metadata import (
    DatabaseInUse,
    Duplicate,
    MetadataStore,
    SchemaBehind,
    StoreClosed,
    WriteConflict,
    migrate,
    schema_version,
)
from store.migrations import MIGRATIONS, Migration
from store.transaction import Rows, Tx
from store.vector_filter import VectorFilter
from store.vectors import VectorStore, azure_storage_options

__all__ = [
    "BACKENDS",
    "BlobNotFound",
    "BlobStore",
    "DatabaseInUse",
    "Duplicate",
    "Engine",
    "IndexCheck",
    "MIGRATIONS",
    "MetadataStore",
    "Migration",
    "Rows",
    "SchemaBehind",
    "StoreClosed",
    "VectorFilter",
    "VectorStore",
    "Tx",
    "WriteConflict",
    "azure_storage_options",
    "migrate",
    "schema_version",
    "sha256_hex",
]
