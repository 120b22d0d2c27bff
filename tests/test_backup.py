"""Backup and restore: a workbench with pictures, boards, a script and credits comes back whole."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import lancedb
import pytest

from tests.helpers import png_bytes
from workbench import Settings, Workbench
from workbench.backup import MANIFEST, BackupDamaged, backup, restore, verify
from workbench.cli import main as cli
from workbench.errors import InvalidInput

SCRIPT = "INT. DINER - NIGHT\n\nRain streaks the window. MARA waits.\n\nMARA\nHe's late.\n"


def _settings(home: Path) -> Settings:
    return Settings(home=home, library={"load_samples": False})


def _fill(wb: Workbench) -> dict[str, object]:
    me = wb.accounts.local_user()
    images = [wb.library.ingest(me, png_bytes((30 * i, 200 - 20 * i, 90), seed=i), filename=f"still{i}.png",
                                tags=["noir"] if i % 2 else ["day"], wait=True) for i in range(6)]
    board = wb.boards.create(me, "Night shoot", "rain and neon")
    wb.boards.add_images(me, board.id, [img.id for img in images[:3]])
    note = wb.boards.add_note(me, board.id, "Shoot at dusk")
    thread = wb.boards.comments.add(me, board.id, "Can we get the neon in frame?", item_id=note.id)
    wb.boards.comments.add(me, board.id, "Yes, from the left", parent_id=thread.id)
    wb.writing.import_fountain(me, SCRIPT.encode(), title="Diner")
    wb.accounts.grant(me, 5, note="backup test")
    hits = wb.search.similar_to(me, images[0].id, limit=4)
    return {"board": board.id, "images": [i.id for i in images], "hits": [h.image.id for h in hits],
            "thumbnail": bytes(wb.library.thumbnail(me, images[0].id))}


def _rows(path: str) -> dict[str, list[tuple[object, ...]]]:
    conn = duckdb.connect(path, read_only=True)
    try:
        names = [r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()]
        return {n: sorted(conn.execute(f'SELECT * FROM "{n}"').fetchall(), key=repr) for n in names}
    finally:
        conn.close()


def blobs(settings: Settings) -> list[str]:
    root = Path(settings.storage.blob_url.removeprefix("file://"))
    return sorted(p.name for p in root.rglob("*") if p.is_file() and ".incoming" not in str(p))


def _vectors(uri: str) -> dict[str, list[tuple[str, list[float]]]]:
    db = lancedb.connect(uri)
    out = {}
    for name in db.list_tables().tables:
        rows = db.open_table(name).to_arrow().to_pylist()
        out[name] = sorted((r["id"], [round(x, 6) for x in r["vector"]]) for r in rows)
    return out


@pytest.fixture(scope="module")
def backed_up(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dict[str, object], Path]:
    home = tmp_path_factory.mktemp("source")
    settings = _settings(home)
    with Workbench(settings) as wb:
        facts = _fill(wb)
        dest = home.parent / (home.name + "-backup")
        manifest = backup(wb, dest)
    assert manifest.tables["images"] == 6 and manifest.blobs >= 12  # originals and thumbnails
    return settings, facts, dest


def test_a_restored_home_has_the_same_boards_images_and_search(backed_up, tmp_path: Path) -> None:
    source, facts, dest = backed_up
    target = _settings(tmp_path / "restored")
    manifest = restore(dest, target)
    with Workbench(target) as wb:
        me = wb.accounts.local_user()
        view = wb.boards.get(me, str(facts["board"]))
        assert view.board.title == "Night shoot"
        assert len(view.items) == 4
        assert wb.library.count(me) == 6
        first = str(facts["images"][0])  # type: ignore[index]
        assert [h.image.id for h in wb.search.similar_to(me, first, limit=4)] == facts["hits"]
        assert bytes(wb.library.thumbnail(me, first)) == facts["thumbnail"]
        assert wb.accounts.balance(me) >= 5
        threads = wb.boards.comments.list(me, str(facts["board"]))
        assert [(t.text, [r.text for r in t.replies]) for t in threads] == [
            ("Can we get the neon in frame?", ["Yes, from the left"])]
    # Every row, every vector and every blob, compared with the source.
    assert _rows(target.storage.metadata_path) == _rows(source.storage.metadata_path)
    assert _vectors(target.storage.vector_url) == _vectors(source.storage.vector_url)
    assert blobs(target) == blobs(source)
    assert manifest.blobs == len(blobs(source))


def test_restore_refuses_a_home_that_holds_a_library_unless_forced(backed_up, tmp_path: Path) -> None:
    _, facts, dest = backed_up
    target = _settings(tmp_path / "busy")
    with Workbench(target) as wb:
        wb.library.ingest(wb.accounts.local_user(), png_bytes(seed=99), filename="other.png", wait=True)
    with pytest.raises(InvalidInput, match="already holds a library"):
        restore(dest, target)
    restore(dest, target, force=True)
    with Workbench(target) as wb:
        assert wb.library.count(wb.accounts.local_user()) == 6


def test_restore_refuses_a_damaged_or_newer_backup(backed_up, tmp_path: Path) -> None:
    import shutil

    _, _, dest = backed_up
    copy = tmp_path / "copy"
    shutil.copytree(dest, copy)
    parquet = next((copy / "metadata").glob("images*.parquet"))
    parquet.write_bytes(parquet.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(BackupDamaged, match="changed since the backup"):
        verify(copy)
    shutil.rmtree(copy)
    shutil.copytree(dest, copy)
    manifest = json.loads((copy / MANIFEST).read_text())
    manifest["schema_version"] = 999
    (copy / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(InvalidInput, match="newer workbench"):
        restore(copy, _settings(tmp_path / "new"))
    assert not (tmp_path / "new" / "workbench.duckdb").exists()


def test_backup_refuses_a_folder_with_files_in_it(tmp_path: Path) -> None:
    (tmp_path / "dest").mkdir()
    (tmp_path / "dest" / "old.txt").write_text("an older backup")
    with Workbench(_settings(tmp_path / "wb")) as wb, pytest.raises(InvalidInput, match="not empty"):
        backup(wb, tmp_path / "dest")


def test_the_cli_backs_up_and_restores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("WORKBENCH_LIBRARY__LOAD_SAMPLES", "false")
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "a"))
    with Workbench(Settings()) as wb:
        wb.boards.create(wb.accounts.local_user(), "From the command line")
    assert cli(["backup", str(tmp_path / "snap")]) == 0
    assert "backed up" in capsys.readouterr().out
    assert cli(["restore", str(tmp_path / "snap")]) == 2  # the home is not empty
    assert "already holds a library" in capsys.readouterr().err
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "b"))
    assert cli(["restore", str(tmp_path / "snap")]) == 0
    with Workbench(Settings()) as wb:
        assert [b.title for b in wb.boards.list(wb.accounts.local_user())] == ["From the command line"]


# -- Azure Blob storage (Azurite): the stores and the backup itself on az:// ----------------
def _azure(home: Path, connection: str, container: str) -> Settings:
    return Settings(home=home, library={"load_samples": False}, azure_connection_string=connection,  # type: ignore[arg-type]
                    storage={"blob_url": f"az://{container}/blobs", "vector_url": f"az://{container}/vectors"})


def _stored(settings: Settings) -> tuple[dict[str, list[tuple[str, list[float]]]], list[str]]:
    """Every vector (by table and id) and every blob key of a home, read through its own stores."""
    with Workbench(settings) as wb:
        db = lancedb.connect(wb.vectors.uri, storage_options=wb.vectors.storage_options or None)
        vectors = {}
        for name in wb.vectors.table_names():
            rows = db.open_table(name).to_arrow().to_pylist()
            vectors[name] = sorted((r["id"], [round(x, 6) for x in r["vector"]]) for r in rows)
        return vectors, sorted(wb.blobs.keys())


@pytest.fixture(scope="module")
def on_azure(backed_up, azurite: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The local workspace restored into a home whose pictures and vectors live on Azurite, then backed
    up from there to an az:// prefix (no second embedder load: the pictures were embedded once)."""
    import uuid

    source, facts, local_backup = backed_up
    container = "bk" + uuid.uuid4().hex[:16]
    home = _azure(tmp_path_factory.mktemp("az-home"), azurite, container)
    restore(local_backup, home)
    url = f"az://{container}/backups/monday"
    with Workbench(home) as wb:
        manifest = backup(wb, url)
    return {"source": source, "facts": facts, "home": home, "url": url, "manifest": manifest,
            "container": container}


@pytest.mark.azure
def test_a_workspace_on_azure_round_trips_through_an_az_backup(on_azure, azurite: str, tmp_path: Path) -> None:
    import uuid

    source, facts = on_azure["source"], on_azure["facts"]
    manifest = on_azure["manifest"]
    assert manifest.tables["images"] == 6 and manifest.tables["boards"] == 1 and manifest.tables["documents"] >= 1
    assert manifest.tables["credit_ledger"] >= 2 and manifest.blobs >= 12
    assert any(name.startswith("vectors/") for name in manifest.files)  # vector files carry checksums too
    target = _azure(tmp_path / "restored", azurite, "rs" + uuid.uuid4().hex[:16])
    restored = restore(str(on_azure["url"]), target)
    assert restored.tables == manifest.tables
    with Workbench(target) as wb:
        me = wb.accounts.local_user()
        assert wb.boards.get(me, str(facts["board"])).board.title == "Night shoot"  # type: ignore[index]
        first = str(facts["images"][0])  # type: ignore[index]
        assert [h.image.id for h in wb.search.similar_to(me, first, limit=4)] == facts["hits"]  # type: ignore[index]
        assert [d.title for d in wb.writing.list(me)] == ["Diner"]
    # Every row, every vector and every blob, compared with the original local workspace.
    assert _rows(target.storage.metadata_path) == _rows(source.storage.metadata_path)  # type: ignore[union-attr]
    vectors, keys = _stored(target)
    assert vectors == _vectors(source.storage.vector_url)  # type: ignore[union-attr]
    assert keys == blobs(source) and len(keys) == manifest.blobs  # type: ignore[arg-type]


@pytest.mark.azure
def test_an_az_backup_refuses_a_newer_schema_a_damaged_file_and_a_used_prefix(on_azure, azurite: str,
                                                                              tmp_path: Path) -> None:
    import fsspec

    fs = fsspec.filesystem("az", connection_string=azurite)
    root = str(on_azure["url"]).removeprefix("az://")
    copy = f"{on_azure['container']}/backups/copy"
    for path in fs.find(root):
        fs.pipe_file(copy + path[len(root):], fs.cat_file(path))
    manifest = json.loads(fs.cat_file(f"{copy}/{MANIFEST}"))
    manifest["schema_version"] = 999
    fs.pipe_file(f"{copy}/{MANIFEST}", json.dumps(manifest).encode())
    fresh = _settings(tmp_path / "new")
    with pytest.raises(InvalidInput, match="newer workbench"):
        restore(f"az://{copy}", _azure(tmp_path / "new", azurite, str(on_azure["container"])))
    assert not Path(fresh.storage.metadata_path).exists()
    manifest["schema_version"] = on_azure["manifest"].schema_version  # type: ignore[attr-defined]
    fs.pipe_file(f"{copy}/{MANIFEST}", json.dumps(manifest).encode())
    parquet = next(p for p in fs.find(f"{copy}/metadata") if p.endswith(".parquet") and "/images" in p)
    fs.pipe_file(parquet, fs.cat_file(parquet)[:-10] + b"0123456789")
    with pytest.raises(BackupDamaged, match="changed since the backup"):
        verify(f"az://{copy}", _azure(tmp_path / "v", azurite, str(on_azure["container"])))
    fs.rm(f"{copy}/{MANIFEST}")
    with pytest.raises(InvalidInput, match="not a workbench backup"):
        verify(f"az://{copy}", _azure(tmp_path / "v", azurite, str(on_azure["container"])))
    # A prefix that holds files is never written into, and a home whose az:// stores hold a library is
    # never restored over without --force.
    with Workbench(on_azure["home"]) as wb:  # type: ignore[arg-type]
        with pytest.raises(InvalidInput, match="already holds files"):
            backup(wb, str(on_azure["url"]))
    reused = _azure(tmp_path / "reused", azurite, str(on_azure["container"]))
    with pytest.raises(InvalidInput, match="already holds a library"):
        restore(str(on_azure["url"]), reused)
