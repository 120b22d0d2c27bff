"""The library's plain objects and the schema of its vector table."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa

__all__ = ["LibraryImage", "IngestResult", "vector_schema", "vector_table_name", "tag_text", "VISIBILITIES"]

VISIBILITIES = ("private", "team", "public")


@dataclass(frozen=True)
class LibraryImage:
    """One image in someone's library."""

    id: str
    owner: str
    filename: str
    mime: str
    bytes: int
    width: int
    height: int
    sha256: str
    blob_key: str
    thumb_key: str
    colors: list[str]
    tags: list[str]
    caption: str
    labels: list[str]
    visibility: str
    source: str
    status: str  # pending -> stored -> ready; failed; deleting
    embed_model: str | None
    created_at: datetime
    # The labels with the embedder's confidence, best first: (name, score), e.g. ("tabby", 0.62).
    label_scores: tuple[tuple[str, float], ...] = ()

    @property
    def ready(self) -> bool:
        """True once the image is embedded and findable by search."""
        return self.status == "ready"

    @classmethod
    def from_row(cls, row: dict[str, Any], tags: list[str]) -> LibraryImage:
        return cls(
            id=row["id"], owner=row["owner"], filename=row["filename"], mime=row["mime"], bytes=row["bytes"],
            width=row["width"], height=row["height"], sha256=row["sha256"], blob_key=row["blob_key"],
            thumb_key=row["thumb_key"], colors=json.loads(row["colors"]), tags=sorted(tags),
            caption=row["caption"], labels=json.loads(row["labels"]), visibility=row["visibility"],
            source=row["source"], status=row["status"], embed_model=row["embed_model"],
            created_at=row["created_at"],
            label_scores=tuple((str(n), float(p)) for n, p in json.loads(row.get("label_scores") or "[]")),
        )


@dataclass
class IngestResult:
    """What happened to each file of a batch upload."""

    added: list[LibraryImage] = field(default_factory=list)
    duplicates: list[LibraryImage] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # filename -> readable reason


def tag_text(tags: list[str]) -> str:
    """Tags as one string the vector prefilter can match with LIKE '%|tag|%'."""
    return "|" + "|".join(sorted(set(tags))) + "|" if tags else ""


def vector_table_name(model_id: str) -> str:
    """One vector table per embedding model: vectors of two models never mix."""
    return "images_" + hashlib.sha1(model_id.encode()).hexdigest()[:12]


def vector_schema(dimension: int) -> pa.Schema:
    """Columns of an image vector table: the vector plus everything search filters on."""
    return pa.schema(
        [
            pa.field("id", pa.string()),
            pa.field("owner", pa.string()),
            pa.field("visibility", pa.string()),
            pa.field("tags", pa.string()),
            pa.field("created_at", pa.timestamp("us")),
            pa.field("model", pa.string()),
            pa.field("vector", pa.list_(pa.float32(), dimension)),
        ]
    )
