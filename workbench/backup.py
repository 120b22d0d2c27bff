"""Back a workbench up to a folder, and restore it into an empty home.

    workbench backup /backups/2026-05-01        # a consistent snapshot of everything
    workbench restore /backups/2026-05-01       # into an empty home (--force to replace one)

A backup folder holds:

- ``metadata/``: the whole database as Parquet files (DuckDB ``EXPORT DATABASE``),
  taken on the one write path, so no change is half in it;
- ``vectors/``: every LanceDB table, read at one version each and written as a
  LanceDB database of its own;
- ``blobs/``: every picture, by content hash (each file's name is its SHA-256,
  so each one is verified on the way out and on the way back);
- ``manifest.json``: schema version, rows per table, vectors per table, blob
  count and bytes, and the SHA-256 of every metadata file.

Writes wait while the metadata is exported and the vectors are read (seconds
for a library of thousands of pictures); the blobs are copied after that,
because they never change once written and the snapshot already names them.
A blob deleted in between is reported as missing in the manifest and the
restore's reconcile drops the row that pointed at it.

Sources may be local or ``az://`` (blobs and vectors are read through the
workbench's own stores); the destination is a local folder. With Azure Blob
storage, the blob copy goes through this process: for large libraries prefer
Azure's own point-in-time restore for the container and back up only metadata
and vectors (``include_blobs=False``); the manifest says what was left out.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import lancedb

from store import MIGRATIONS, sha256_hex
from workbench.errors import InvalidInput, WorkbenchError
from workbench.settings import Settings

__all__ = ["BackupManifest", "backup", "restore", "BackupDamaged", "MANIFEST"]

MANIFEST = "manifest.json"
FORMAT = 1


class BackupDamaged(WorkbenchError):
    """A backup folder whose files do not match its manifest."""


@dataclass
class BackupManifest:
    """What a backup folder holds (written as ``manifest.json``)."""

    format: int = FORMAT
    created_at: str = ""
    schema_version: int = 0
    tables: dict[str, int] = field(default_factory=dict)
    vectors: dict[str, int] = field(default_factory=dict)
    blobs: int = 0
    blob_bytes: int = 0
    blobs_included: bool = True
    missing_blobs: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    export_path: str = ""
    seconds: float = 0.0

    @classmethod
    def read(cls, folder: Path) -> BackupManifest:
        """The manifest of a backup folder."""
        path = folder / MANIFEST
        if not path.is_file():
            raise InvalidInput(f"{folder} is not a workbench backup: it has no {MANIFEST}.")
        return cls(**json.loads(path.read_text()))


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _blob_path(root: Path, key: str) -> Path:
    return root / key[:2] / key[2:4] / key


# -- metadata: the part that knows it is DuckDB (moves to store/ with a second backend) --
def _export_metadata(cur: duckdb.DuckDBPyConnection, folder: Path) -> tuple[int, dict[str, int]]:
    folder.mkdir(parents=True)
    cur.execute(f"EXPORT DATABASE '{folder}' (FORMAT parquet)")  # path is ours, made by mkdir above
    names = [row[0] for row in cur.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1").fetchall()]
    counts = {name: int(cur.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]) for name in names}  # type: ignore[index]
    version = int(cur.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0])  # type: ignore[index]
    return version, counts


def _import_metadata(db_path: str, folder: Path, export_path: str) -> dict[str, int]:
    load = (folder / "load.sql").read_text().replace(export_path, str(folder))
    conn = duckdb.connect(db_path)
    try:
        conn.execute((folder / "schema.sql").read_text())
        conn.execute(load)
        names = [row[0] for row in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()]
        counts = {name: int(conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]) for name in names}  # type: ignore[index]
        conn.execute("CHECKPOINT")
    finally:
        conn.close()
    return counts


# -- backup ---------------------------------------------------------------------
def backup(wb: Any, dest: str | Path, *, include_blobs: bool = True) -> BackupManifest:
    """Write a consistent snapshot of ``wb`` (an open :class:`~workbench.app.Workbench`) into ``dest``.

    ``dest`` must not exist or be empty. Returns the manifest it wrote.

    >>> manifest = backup(wb, "/backups/monday")          # doctest: +SKIP
    >>> manifest.tables["images"], manifest.blobs         # doctest: +SKIP
    (120, 240)
    """
    started = time.monotonic()
    folder = Path(dest).expanduser().absolute()
    if folder.exists() and any(folder.iterdir()):
        raise InvalidInput(f"{folder} is not empty; back up into a new folder so no older backup is mixed in.")
    folder.mkdir(parents=True, exist_ok=True)
    manifest = BackupManifest(created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                              blobs_included=include_blobs, export_path=str(folder / "metadata"))
    target = lancedb.connect(str(folder / "vectors"))

    def snapshot(cur: duckdb.DuckDBPyConnection) -> None:
        # On the write path: no other change commits until the metadata and vectors are out.
        manifest.schema_version, manifest.tables = _export_metadata(cur, folder / "metadata")
        source = lancedb.connect(wb.vectors.uri, storage_options=wb.vectors.storage_options or None)
        for name in wb.vectors.table_names():
            data = source.open_table(name).to_arrow()
            target.create_table(name, data=data, schema=data.schema)
            manifest.vectors[name] = data.num_rows

    wb.db.write(snapshot)
    if include_blobs:
        _copy_blobs_out(wb, folder / "blobs", manifest)
    for path in sorted((folder / "metadata").iterdir()):
        manifest.files[f"metadata/{path.name}"] = _file_sha256(path)
    manifest.seconds = round(time.monotonic() - started, 3)
    (folder / MANIFEST).write_text(json.dumps(asdict(manifest), indent=2, sort_keys=True))
    return manifest


def _copy_blobs_out(wb: Any, root: Path, manifest: BackupManifest) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for key in wb.blobs.keys():
        try:
            data = wb.blobs.get(key)
        except KeyError:  # deleted since it was listed
            manifest.missing_blobs.append(key)
            continue
        if sha256_hex(data) != key:
            raise BackupDamaged(f"The stored picture {key} does not match its checksum; run `workbench doctor`.")
        path = _blob_path(root, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        manifest.blobs += 1
        manifest.blob_bytes += len(data)


# -- restore ----------------------------------------------------------------------
def verify(folder: str | Path) -> BackupManifest:
    """Check a backup folder against its manifest (every metadata file's checksum, every blob's name)."""
    folder = Path(folder).expanduser().absolute()
    manifest = BackupManifest.read(folder)
    if manifest.format != FORMAT:
        raise BackupDamaged(f"This backup has format {manifest.format}; this workbench reads format {FORMAT}.")
    newest = max(m.version for m in MIGRATIONS)
    if manifest.schema_version > newest:
        raise InvalidInput(f"This backup was made by a newer workbench (schema {manifest.schema_version}; this one "
                           f"knows up to {newest}). Restore it with that version or a later one.")
    for name, digest in manifest.files.items():
        path = folder / name
        if not path.is_file() or _file_sha256(path) != digest:
            raise BackupDamaged(f"{path} is missing or changed since the backup was made; it cannot be restored.")
    if manifest.blobs_included:
        found = [p for p in (folder / "blobs").rglob("*") if p.is_file()]
        if len(found) != manifest.blobs:
            raise BackupDamaged(f"The backup should hold {manifest.blobs} pictures and holds {len(found)}.")
        for path in found:
            if _file_sha256(path) != path.name:
                raise BackupDamaged(f"The picture {path.name} in the backup is damaged.")
    return manifest


def _home_in_use(settings: Settings) -> list[str]:
    found = []
    if Path(settings.storage.metadata_path).exists():
        found.append(settings.storage.metadata_path)
    vectors = Path(settings.storage.vector_url)
    if "://" not in settings.storage.vector_url and vectors.is_dir() and any(vectors.iterdir()):
        found.append(str(vectors))
    if settings.storage.blob_url.startswith("file://"):
        blobs = Path(settings.storage.blob_url.removeprefix("file://"))
        if blobs.is_dir() and any(p.is_file() for p in blobs.rglob("*")):
            found.append(str(blobs))
    return found


def _clear_local(settings: Settings) -> None:
    for path in (Path(settings.storage.metadata_path), Path(settings.storage.metadata_path + ".wal")):
        path.unlink(missing_ok=True)
    if "://" not in settings.storage.vector_url:
        shutil.rmtree(settings.storage.vector_url, ignore_errors=True)
    if settings.storage.blob_url.startswith("file://"):
        shutil.rmtree(settings.storage.blob_url.removeprefix("file://"), ignore_errors=True)


def restore(src: str | Path, settings: Settings, *, force: bool = False) -> BackupManifest:
    """Restore the backup in ``src`` into the stores named by ``settings``.

    Refuses a home that already holds a library unless ``force`` (which
    deletes it first), a backup from a newer schema, and a backup whose files
    do not match their manifest. Afterwards the workbench opens as usual:
    newer migrations apply, and reconcile finishes anything the backup caught
    mid-way.
    """
    folder = Path(src).expanduser().absolute()
    manifest = verify(folder)
    in_use = _home_in_use(settings)
    if in_use and not force:
        raise InvalidInput("This home already holds a library (" + ", ".join(in_use) + "). Restore into an empty "
                           "home, or pass --force to replace it.")
    if force:
        _clear_local(settings)
    Path(settings.storage.metadata_path).parent.mkdir(parents=True, exist_ok=True)
    counts = _import_metadata(settings.storage.metadata_path, folder / "metadata", manifest.export_path)
    if counts != manifest.tables:
        raise BackupDamaged(f"The restored rows do not match the backup's manifest: {counts} != {manifest.tables}.")
    from workbench.app import Workbench

    with Workbench(settings) as wb:
        source = lancedb.connect(str(folder / "vectors"))
        for name, rows in manifest.vectors.items():
            data = source.open_table(name).to_arrow()
            if data.num_rows != rows:
                raise BackupDamaged(f"The vector table {name} holds {data.num_rows} rows; the manifest says {rows}.")
            wb.vectors.ensure_table(name, data.schema)
            if rows:
                wb.vectors.upsert(name, data.to_pylist())
        if manifest.blobs_included:
            for path in (folder / "blobs").rglob("*"):
                if path.is_file() and wb.blobs.put(path.read_bytes()) != path.name:
                    raise BackupDamaged(f"The picture {path.name} changed on its way back.")
        wb.reconcile()
    return manifest
