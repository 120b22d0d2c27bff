"""Back a workbench up to a folder or an Azure Blob prefix, and restore it into an empty home.

    workbench backup /backups/2026-05-01                  # a consistent snapshot of everything
    workbench backup az://backups/studio/2026-05-01       # the same, into Azure Blob storage
    workbench restore az://backups/studio/2026-05-01      # into an empty home (--force to replace one)

A backup (a folder, or everything under an ``az://container/prefix``) holds:

- ``metadata/``: the whole database as Parquet files (DuckDB ``EXPORT DATABASE``),
  taken on the one write path, so no change is half in it;
- ``vectors/``: every LanceDB table, read at one version each and written as a
  LanceDB database of its own;
- ``blobs/``: every picture, by content hash (each file's name is its SHA-256,
  so each one is verified on the way out and on the way back);
- ``manifest.json``: schema version, rows per table, vectors per table, blob
  count and bytes, and the SHA-256 of every metadata and vector file. It is
  written last, so a backup cut short has none and is never taken for one.

Writes wait while the metadata is exported and the vectors are read (seconds
for a library of thousands of pictures); the blobs are copied after that,
because they never change once written and the snapshot already names them.
A blob deleted in between is reported as missing in the manifest and the
restore's reconcile drops the row that pointed at it.

The workbench's own stores may be local or ``az://``; so may the backup. An
``az://`` backup uses the workbench's Azure credentials (``AZURE_STORAGE_*``).
Its metadata and vectors are staged in a temporary folder and uploaded; the
pictures go straight from the blob store to the backup. Restoring from
``az://`` downloads the backup into a temporary folder first (so it needs free
space for it: on AKS, a volume on ``/tmp`` or ``TMPDIR``), checks the manifest
before anything else is downloaded (a newer schema is refused at once), then
restores as from a folder. The blob copy goes through this process: for large
libraries prefer Azure's own point-in-time restore for the container and back
up only metadata and vectors (``include_blobs=False``); the manifest says what
was left out.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from store import MIGRATIONS, Tx, sha256_hex
from store.portable import export_tables, export_vectors, import_tables, read_vectors
from workbench.errors import InvalidInput, WorkbenchError
from workbench.settings import Settings

__all__ = ["BackupManifest", "backup", "restore", "verify", "BackupDamaged", "MANIFEST"]

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
        return cls.parse(path.read_text())

    @classmethod
    def parse(cls, text: str) -> BackupManifest:
        """A manifest from its JSON text (fields a newer workbench added are refused by the format check)."""
        data = json.loads(text)
        known = {name: value for name, value in data.items() if name in cls.__dataclass_fields__}
        return cls(**known)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _blob_path(root: Path, key: str) -> Path:
    return root / key[:2] / key[2:4] / key


# -- where a backup lives: a local folder or an fsspec URL (az://) -------------------
def _is_remote(location: str | Path) -> bool:
    text = str(location)
    return "://" in text and not text.startswith("file://")


def _local(location: str | Path) -> Path:
    return Path(str(location).removeprefix("file://")).expanduser().absolute()


def _remote(url: str, settings: Settings) -> tuple[Any, str]:
    """The filesystem and root path of an ``az://container/prefix`` backup, with the workbench's credentials."""
    import fsspec

    creds = settings.azure_credentials()
    options: dict[str, str] = ({"connection_string": creds["connection_string"]} if "connection_string" in creds
                               else {k: v for k, v in creds.items() if k in ("account_name", "account_key")})
    fs, root = fsspec.core.url_to_fs(url, **(options if url.startswith(("az://", "abfs://", "abfss://")) else {}))
    return fs, root.rstrip("/")


def _remote_files(fs: Any, root: str) -> list[str]:
    try:
        fs.invalidate_cache(root)
        return [path for path in fs.find(root) if not path.endswith("/")]
    except FileNotFoundError:
        return []


def _relative_files(folder: Path) -> Iterator[tuple[str, Path]]:
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            yield path.relative_to(folder).as_posix(), path


def _checksum_files(folder: Path, manifest: BackupManifest) -> None:
    for name, path in _relative_files(folder):
        if name.startswith(("metadata/", "vectors/")):
            manifest.files[name] = _file_sha256(path)


# -- backup ---------------------------------------------------------------------
def backup(wb: Any, dest: str | Path, *, include_blobs: bool = True) -> BackupManifest:
    """Write a consistent snapshot of ``wb`` (an open :class:`~workbench.app.Workbench`) into ``dest``.

    ``dest`` is a folder that must not exist or be empty, or an ``az://container/prefix``
    that holds nothing yet. Returns the manifest it wrote.

    >>> manifest = backup(wb, "/backups/monday")          # doctest: +SKIP
    >>> manifest = backup(wb, "az://backups/monday")      # doctest: +SKIP
    >>> manifest.tables["images"], manifest.blobs         # doctest: +SKIP
    (120, 240)
    """
    if wb.db.shared:
        # The tables live in PostgreSQL (or its DuckLake catalog): its own tools take a consistent
        # copy while replicas keep writing; this backup is the embedded file's.
        raise InvalidInput("This workbench keeps its metadata in PostgreSQL: back it up with pg_dump (or your "
                           "managed server's backups) and the blobs and vectors with azcopy; see deploy/README.md.")
    started = time.monotonic()
    if not _is_remote(dest):
        folder = _local(dest)
        if folder.exists() and any(folder.iterdir()):
            raise InvalidInput(f"{folder} is not empty; back up into a new folder so no older backup is mixed in.")
        folder.mkdir(parents=True, exist_ok=True)
        manifest = _snapshot(wb, folder, include_blobs)
        if include_blobs:
            (folder / "blobs").mkdir()
            _copy_blobs_out(wb, lambda key, data: _write_local(_blob_path(folder / "blobs", key), data), manifest)
        _checksum_files(folder, manifest)
        manifest.seconds = round(time.monotonic() - started, 3)
        (folder / MANIFEST).write_text(json.dumps(asdict(manifest), indent=2, sort_keys=True))
        return manifest
    fs, root = _remote(str(dest), wb.settings)
    if _remote_files(fs, root):
        raise InvalidInput(f"{dest} already holds files; back up into a new prefix so no older backup is mixed in.")
    container = root.split("/", 1)[0]
    if not fs.exists(container):
        fs.mkdir(container)
    with tempfile.TemporaryDirectory(prefix="workbench-backup-") as staging:
        manifest = _snapshot(wb, Path(staging), include_blobs)
        if include_blobs:  # straight from the blob store to the backup: never staged on this disk
            _copy_blobs_out(wb, lambda key, data: fs.pipe_file(f"{root}/blobs/{key[:2]}/{key[2:4]}/{key}", data),
                            manifest)
        _checksum_files(Path(staging), manifest)
        for name, path in _relative_files(Path(staging)):
            fs.put_file(str(path), f"{root}/{name}")
    manifest.seconds = round(time.monotonic() - started, 3)
    # Last: a backup cut short has no manifest, so it is never restored as if whole.
    fs.pipe_file(f"{root}/{MANIFEST}", json.dumps(asdict(manifest), indent=2, sort_keys=True).encode())
    return manifest


def _write_local(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _snapshot(wb: Any, folder: Path, include_blobs: bool) -> BackupManifest:
    """Metadata and vectors of ``wb`` into ``folder``, taken on the one write path."""
    manifest = BackupManifest(created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                              blobs_included=include_blobs, export_path=str(folder / "metadata"))

    def snapshot(cur: Tx) -> None:
        # On the write path: no other change commits until the metadata and vectors are out.
        manifest.schema_version, manifest.tables = export_tables(cur, folder / "metadata")
        manifest.vectors.update(export_vectors(wb.vectors, folder / "vectors"))

    wb.db.write(snapshot)
    return manifest


def _copy_blobs_out(wb: Any, write: Callable[[str, bytes], None], manifest: BackupManifest) -> None:
    for key in wb.blobs.keys():
        try:
            data = wb.blobs.get(key)
        except KeyError:  # deleted since it was listed
            manifest.missing_blobs.append(key)
            continue
        if sha256_hex(data) != key:
            raise BackupDamaged(f"The stored picture {key} does not match its checksum; run `workbench doctor`.")
        write(key, data)
        manifest.blobs += 1
        manifest.blob_bytes += len(data)


# -- restore ----------------------------------------------------------------------
def _check_manifest(manifest: BackupManifest) -> None:
    if manifest.format != FORMAT:
        raise BackupDamaged(f"This backup has format {manifest.format}; this workbench reads format {FORMAT}.")
    newest = max(m.version for m in MIGRATIONS)
    if manifest.schema_version > newest:
        raise InvalidInput(f"This backup was made by a newer workbench (schema {manifest.schema_version}; this one "
                           f"knows up to {newest}). Restore it with that version or a later one.")


@contextmanager
def _fetched(src: str | Path, settings: Settings | None) -> Iterator[Path]:
    """The backup as a local folder: itself, or an ``az://`` backup downloaded into a temporary one."""
    if not _is_remote(src):
        yield _local(src)
        return
    fs, root = _remote(str(src), settings or Settings())
    try:
        text = fs.cat_file(f"{root}/{MANIFEST}").decode()
    except FileNotFoundError:
        raise InvalidInput(f"{src} is not a workbench backup: it has no {MANIFEST} (or the backup was cut short)."
                           ) from None
    _check_manifest(BackupManifest.parse(text))  # refuse a newer schema before downloading anything
    with tempfile.TemporaryDirectory(prefix="workbench-restore-") as staging:
        for path in _remote_files(fs, root):
            _write_local(Path(staging) / path[len(root) + 1:], fs.cat_file(path))
        yield Path(staging)


def verify(src: str | Path, settings: Settings | None = None) -> BackupManifest:
    """Check a backup against its manifest (every metadata and vector file's checksum, every blob's name).

    ``src`` is a folder or an ``az://`` URL (read with the credentials in ``settings``).
    """
    with _fetched(src, settings) as folder:
        return _verify_folder(folder)


def _verify_folder(folder: Path) -> BackupManifest:
    manifest = BackupManifest.read(folder)
    _check_manifest(manifest)
    for name, digest in manifest.files.items():
        path = folder / name
        if not path.is_file() or _file_sha256(path) != digest:
            raise BackupDamaged(f"{name} is missing or changed since the backup was made; it cannot be restored.")
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


def _home_in_use_remotely(blobs: Any, vectors: Any) -> list[str]:
    """The home's ``az://`` stores that already hold something."""
    found = [vectors.uri] if _is_remote(vectors.uri) and vectors.table_names() else []
    if blobs.protocol not in ("file", "local") and next(iter(blobs.keys()), None):
        found.append(blobs.url)
    return found


def _clear_local(settings: Settings) -> None:
    for path in (Path(settings.storage.metadata_path), Path(settings.storage.metadata_path + ".wal")):
        path.unlink(missing_ok=True)
    if "://" not in settings.storage.vector_url:
        shutil.rmtree(settings.storage.vector_url, ignore_errors=True)
    if settings.storage.blob_url.startswith("file://"):
        shutil.rmtree(settings.storage.blob_url.removeprefix("file://"), ignore_errors=True)


def restore(src: str | Path, settings: Settings, *, force: bool = False) -> BackupManifest:
    """Restore the backup in ``src`` (a folder or an ``az://`` URL) into the stores named by ``settings``.

    Refuses a home that already holds a library unless ``force`` (which
    deletes it first: local files, and the home's ``az://`` vector tables;
    pictures in an ``az://`` blob store stay, and reconcile removes those no
    row names), a backup from a newer schema, and a backup whose files do not
    match their manifest. Afterwards the workbench opens as usual: newer
    migrations apply, and reconcile finishes anything the backup caught mid-way.
    """
    with _fetched(src, settings) as folder:
        return _restore_folder(folder, settings, force)


def _restore_folder(folder: Path, settings: Settings, force: bool) -> BackupManifest:
    from workbench.app import build_blob_store, build_vector_store

    manifest = _verify_folder(folder)
    in_use = _home_in_use(settings)
    if not in_use and not force:
        in_use = _home_in_use_remotely(build_blob_store(settings), build_vector_store(settings))
    if in_use and not force:
        raise InvalidInput("This home already holds a library (" + ", ".join(in_use) + "). Restore into an empty "
                           "home, or pass --force to replace it.")
    if force:
        _clear_local(settings)
        vectors = build_vector_store(settings)
        for name in vectors.table_names():
            vectors.drop_table(name)
    Path(settings.storage.metadata_path).parent.mkdir(parents=True, exist_ok=True)
    counts = import_tables(settings.storage.metadata_path, folder / "metadata", manifest.export_path)
    if counts != manifest.tables:
        raise BackupDamaged(f"The restored rows do not match the backup's manifest: {counts} != {manifest.tables}.")
    from workbench.app import Workbench

    with Workbench(settings) as wb:
        for name, rows in manifest.vectors.items():
            data = read_vectors(folder / "vectors", name)
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
