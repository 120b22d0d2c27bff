"""Board export (ZIP, PDF) and import: contents, safety of names and text, streaming, round trips."""

from __future__ import annotations

import hashlib
import io
import json
import tracemalloc
import unicodedata
import zipfile

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image

from tests.helpers import open_wb, png_bytes
from workbench import InvalidInput, NotFound, User, Workbench
from workbench.boards import Boards, archive_name
from workbench.writing.documents import Documents


@pytest.fixture(scope="module")
def wb(tmp_path_factory: pytest.TempPathFactory) -> Workbench:
    bench = open_wb(tmp_path_factory.mktemp("export"))
    yield bench
    bench.close()


@pytest.fixture(scope="module")
def boards(wb: Workbench) -> Boards:
    return Boards(wb.db, wb.library, Documents(wb.db), accounts=wb.accounts)


@pytest.fixture(scope="module")
def ana(wb: Workbench) -> User:
    return wb.accounts.create_user("ana@example.com")


@pytest.fixture(scope="module")
def ben(wb: Workbench) -> User:
    return wb.accounts.create_user("ben@example.com")


@pytest.fixture(scope="module")
def red(wb: Workbench, ana: User):
    return wb.library.ingest(ana, png_bytes((230, 10, 10), size=(160, 120), seed=1), filename="red.png")


@pytest.fixture(scope="module")
def blue(wb: Workbench, ana: User):
    return wb.library.ingest(ana, png_bytes((10, 10, 230), size=(90, 120), seed=2), filename="blue.png")


@pytest.fixture(scope="module")
def board(wb: Workbench, boards: Boards, ana: User, red, blue):
    """A board with one item of every kind."""
    made = boards.create(ana, "Night shoot", "Neon and rain")
    boards.add_heading(ana, made.id, "Act one", x=0, y=0)
    boards.add_image(ana, made.id, red.id, x=0, y=80, w=480, h=360, caption="the red room")
    boards.add_image(ana, made.id, blue.id, x=520, y=80, caption="blue hour")
    boards.add_note(ana, made.id, "Shoot at dusk.\nBring the haze machine.", x=520, y=360, color="#ffee88")
    boards.add_link(ana, made.id, "https://example.com/lookbook", title="Lookbook", x=800, y=80)
    script = Documents(wb.db).create(ana, "screenplay", "Diner", "INT. DINER - NIGHT\n\nRain on glass.")
    boards.add_script_excerpt(ana, made.id, script.id, 20, 34, x=800, y=200)
    return made


def _unzip(data: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(data))


def _export(boards: Boards, user, board_id: str, **kw) -> bytes:
    out = io.BytesIO()
    boards.export_zip(user, board_id, out, **kw)
    return out.getvalue()


def _safe(name: str) -> bool:
    parts = name.split("/")
    return (not name.startswith("/") and ".." not in parts and "\\" not in name
            and all(unicodedata.category(c)[0] != "C" for c in name))


def test_zip_holds_the_board(wb: Workbench, boards: Boards, ana: User, board, red, blue) -> None:
    archive = _unzip(_export(boards, ana, board.id))
    names = archive.namelist()
    assert names[:2] == ["board.json", "notes.md"]
    manifest = json.loads(archive.read("board.json"))
    view = boards.get(ana, board.id)
    assert manifest["board"]["title"] == "Night shoot" and manifest["board"]["description"] == "Neon and rain"
    assert [(i["id"], i["kind"], i["x"], i["y"], i["w"], i["h"], i["z"], i["caption"], i["text"], i["url"])
            for i in manifest["items"]] == [
        (i.id, i.kind, i.x, i.y, i.w, i.h, i.z, i.caption, i.text, i.url) for i in view.items]
    for entry in manifest["items"]:
        if entry["kind"] == "image":
            original = archive.read(entry["image"]["file"])
            image = {red.sha256: red, blue.sha256: blue}[hashlib.sha256(original).hexdigest()]
            assert original == wb.library.original(ana, image.id) and entry["image"]["filename"] == image.filename
            thumb = Image.open(io.BytesIO(archive.read(entry["image"]["thumbnail"])))
            assert thumb.format == "WEBP"
    script = next(i for i in manifest["items"] if i["kind"] == "script")
    assert script["text"] == "Rain on glass." and script["document"]["start"] == 20
    notes = archive.read("notes.md").decode()
    for text in ("# Night shoot", "## Act one", "Bring the haze machine.", "> Rain on glass.",
                 "[Lookbook](https://example.com/lookbook)", "the red room", "blue hour"):
        assert text in notes
    assert sorted(n.split("/")[0] for n in names[2:]) == ["images"] * 2 + ["thumbnails"] * 2


def test_hostile_names_and_captions_export_safely(wb: Workbench, boards: Boards, ana: User) -> None:
    nasty = "../../etc/passwd\x1b[31m\x07\u202e.png"
    image = wb.library.ingest(ana, png_bytes((5, 5, 5), seed=3), filename=nasty)
    made = boards.create(ana, "../\x00evil\tboard")
    boards.add_image(ana, made.id, image.id, caption="../../x\x07\x1b[2J caption")
    boards.add_note(ana, made.id, "..\\..\\windows\x00\x08 note <b>bold</b>")
    data = _export(boards, ana, made.id)
    archive = _unzip(data)
    assert all(_safe(n) for n in archive.namelist()), archive.namelist()
    assert all(n.split("/")[0] in ("board.json", "notes.md", "images", "thumbnails") for n in archive.namelist())
    for name in ("board.json", "notes.md"):
        text = archive.read(name).decode()
        assert not any(unicodedata.category(c) in ("Cc", "Cf") and c not in "\n\t" for c in
                       text.replace("\n", "").replace("\t", "")), name
    assert "../../x caption" in json.loads(archive.read("board.json"))["items"][0]["caption"] or \
        "../../x" in archive.read("notes.md").decode()
    for raw in ("../../a.png", "/etc/shadow", "C:\\x\\y.png", "\x00\x1f.png", "....", "a/b/../../c.png"):
        name = archive_name("images", 1, raw)
        assert _safe(name) and name.startswith("images/001-") and name.count("/") == 1
    out = io.BytesIO()
    boards.export_pdf(ana, made.id, out)
    assert out.getvalue().startswith(b"%PDF")


def test_zip_export_streams_the_originals(wb: Workbench, boards: Boards, ana: User, tmp_path) -> None:
    made = boards.create(ana, "Heavy stills")
    sizes = 0
    for n in range(6):
        image = wb.library.ingest(ana, png_bytes((90, 120, 150), size=(1100, 800), seed=100 + n), filename=f"big{n}.png")
        boards.add_image(ana, made.id, image.id)
        sizes += image.bytes
    assert sizes > 12 * 1024 * 1024
    target = tmp_path / "heavy.zip"
    tracemalloc.start()
    try:
        with target.open("wb") as out:
            written = boards.export_zip(ana, made.id, out)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert written == target.stat().st_size > sizes
    assert peak < 6 * 1024 * 1024, f"export held {peak / 1e6:.1f} MB at once for {sizes / 1e6:.1f} MB of images"
    with zipfile.ZipFile(target) as archive:
        assert archive.testzip() is None
        assert len([n for n in archive.namelist() if n.startswith("images/")]) == 6


def test_pdf_shows_the_board(boards: Boards, ana: User, board) -> None:
    out = io.BytesIO()
    boards.export_pdf(ana, board.id, out)
    pdf = pdfium.PdfDocument(out.getvalue())
    assert len(pdf) == 3  # canvas, contact sheet, notes
    page = pdf[0]
    assert page.get_width() > page.get_height()  # landscape
    pixels = np.asarray(page.render(scale=1).to_pil().convert("RGB")).reshape(-1, 3).astype(int)
    r, g, b = pixels[:, 0], pixels[:, 1], pixels[:, 2]
    reds = int(((r > 170) & (g < 90) & (b < 90)).sum())
    blues = int(((b > 170) & (r < 90) & (g < 90)).sum())
    whites = int((pixels.min(axis=1) > 245).sum())
    assert whites < len(pixels) * 0.95, "the canvas page is blank"
    # The red still is drawn 480 x 360 canvas pixels, i.e. tens of thousands of page pixels.
    assert reds > 20_000 and blues > 2_000, (reds, blues)
    text = page.get_textpage().get_text_range()
    assert "Night shoot" in text and "Act one" in text and "Bring the haze" in text
    sheet = pdf[1].get_textpage().get_text_range()
    assert "the red room" in sheet and "blue hour" in sheet
    notes = pdf[2].get_textpage().get_text_range()
    assert "Rain on glass." in notes and "https://example.com/lookbook" in notes


def test_pdf_text_is_never_markup(boards: Boards, ana: User) -> None:
    made = boards.create(ana, "<font size=90>Markup</font>")
    boards.add_note(ana, made.id, "<b>not bold</b> & <br/> <para>x</para>")
    out = io.BytesIO()
    boards.export_pdf(ana, made.id, out)
    pdf = pdfium.PdfDocument(out.getvalue())
    first = pdf[0].get_textpage().get_text_range()
    assert "<font size=90>Markup</font>" in first and "<b>not bold</b> & <br/>" in first


def test_exports_follow_board_access(boards: Boards, ana: User, ben: User, board) -> None:
    with pytest.raises(NotFound):
        _export(boards, ben, board.id)
    with pytest.raises(NotFound):
        boards.export_pdf(ben, board.id, io.BytesIO())
    _, token = boards.create_link(ana, board.id, "view")
    archive = _unzip(_export(boards, None, board.id, token=token))
    assert len([n for n in archive.namelist() if n.startswith("images/")]) == 2


def test_reimport_recreates_the_board(wb: Workbench, boards: Boards, ana: User, ben: User, board) -> None:
    data = _export(boards, ana, board.id)
    copy = boards.import_zip(ben, data)
    assert copy.owner == ben.id and copy.title == "Night shoot" and copy.description == "Neon and rain"
    original, imported = boards.get(ana, board.id), boards.get(ben, copy.id)

    def layout(view):
        return [(i.kind, i.x, i.y, i.w, i.h, i.z, i.caption, i.text, i.url, i.color,
                 view.images[i.image_id].sha256 if i.image_id else None) for i in view.items]

    assert layout(imported) == layout(original)
    assert all(img.owner == ben.id for img in imported.images.values())
    assert next(i for i in imported.items if i.kind == "script").document_id is None  # Ana's script stays hers
    again = boards.import_zip(ben, io.BytesIO(data))  # a file object works too; images are not stored twice
    assert set(boards.get(ben, again.id).images) == set(imported.images)
    own = boards.import_zip(ana, data)  # Ana re-importing keeps the link to her script
    assert next(i for i in boards.get(ana, own.id).items if i.kind == "script").document_id is not None
    assert set(boards.get(ana, own.id).images) == set(original.images)


def _zip(entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as archive:
        for name, data in entries.items():
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return out.getvalue()


def _manifest(**items) -> bytes:
    base = {"format": "filmmaker-workbench/board", "version": 1, "board": {"title": "Imported"},
            "items": [{"kind": "note", "x": 0, "y": 0, "w": 100, "h": 100, "text": "hi"}]}
    base.update(items)
    return json.dumps(base).encode()


def _image_item(file: str) -> dict:
    return {"kind": "image", "x": 0, "y": 0, "w": 100, "h": 100, "image": {"file": file, "filename": "x.png"}}


@pytest.mark.parametrize("entries,message", [
    ({"board.json": _manifest(), "../evil.png": b"x"}, "unsafe file name"),
    ({"board.json": _manifest(), "/etc/cron.d/x": b"x"}, "unsafe file name"),
    ({"board.json": _manifest(), "images\\..\\x.png": b"x"}, "unsafe file name"),
    ({"board.json": _manifest(), "images/a\x07.png": b"x"}, "unsafe file name"),
    ({"board.json": _manifest(), "images/zeros.png": b"\0" * (30 * 1024 * 1024)}, "zip bomb"),
    ({"notes.md": b"# no manifest"}, "no board.json"),
    ({"board.json": b"{not json"}, "not a board export"),
    ({"board.json": _manifest(format="something-else")}, "not a board export"),
    ({"board.json": _manifest(items=[{"kind": "video", "x": 0, "y": 0, "w": 1, "h": 1}])}, "not a board export"),
    ({"board.json": _manifest(items=[{"kind": "note", "x": "NaN", "y": 0, "w": 1, "h": 1}])},
     r"items\[0\]\.x must be a number"),
    ({"board.json": _manifest(items=[{"kind": "note", "x": 2e6, "y": 0, "w": 1, "h": 1}])}, "off the canvas"),
    ({"board.json": _manifest(items=[{"kind": "link", "x": 0, "y": 0, "w": 1, "h": 1, "url": "javascript:x"}])},
     "Only http"),
    ({"board.json": _manifest(items=[_image_item("../../etc/passwd")])}, "unsafe file name"),
    ({"board.json": _manifest(items=[_image_item("notes.md")])}, "not in the images/ folder"),
    ({"board.json": _manifest(items=[_image_item("images/missing.png")])}, "missing from the archive"),
    ({"board.json": _manifest(items=[_image_item("images/bad.png")]), "images/bad.png": b"not a picture"},
     "could not be added"),
])
def test_hostile_archives_are_refused(boards: Boards, ben: User, entries: dict, message: str) -> None:
    before = len(boards.list(ben))
    with pytest.raises(InvalidInput, match=message):
        boards.import_zip(ben, _zip(entries))
    assert len(boards.list(ben)) == before


def test_import_refuses_what_is_not_a_zip(boards: Boards, ben: User, tmp_path) -> None:
    with pytest.raises(InvalidInput, match="not a ZIP"):
        boards.import_zip(ben, b"PK\x03\x04 nope")
    path = tmp_path / "board.zip"
    path.write_bytes(_zip({"board.json": _manifest()}))
    assert boards.import_zip(ben, path).item_count == 1
    with pytest.raises(InvalidInput, match="not a file"):
        boards.import_zip(ben, tmp_path / "absent.zip")


def test_a_damaged_archive_is_refused(boards: Boards, ben: User) -> None:
    picture = png_bytes((40, 160, 40), seed=11)
    data = bytearray(_zip({"board.json": _manifest(items=[_image_item("images/a.png")]), "images/a.png": picture},
                          compression=zipfile.ZIP_STORED))
    where = data.index(picture) + len(picture) // 2
    data[where] ^= 0xFF  # one flipped byte inside the stored picture: its CRC no longer matches
    before = len(boards.list(ben))
    with pytest.raises(InvalidInput, match="damaged"):
        boards.import_zip(ben, bytes(data))
    assert len(boards.list(ben)) == before


def test_a_failed_import_takes_back_the_images_it_added(wb: Workbench, boards: Boards, ben: User) -> None:
    known = wb.library.ingest(ben, png_bytes((10, 10, 200), seed=31), filename="known.png", wait=True)
    good = png_bytes((200, 120, 10), seed=32)
    items = [_image_item("images/known.png"), _image_item("images/good.png"), _image_item("images/bad.png")]
    entries = {"board.json": _manifest(items=items), "images/known.png": png_bytes((10, 10, 200), seed=31),
               "images/good.png": good, "images/bad.png": b"GIF89a truncated"}
    rows = wb.db.scalar("SELECT count(*) FROM images")
    blobs = sorted(wb.blobs.keys())
    before = len(boards.list(ben))
    with pytest.raises(InvalidInput, match="bad.png in the archive could not be added"):
        boards.import_zip(ben, _zip(entries))
    wb.pipeline.run_jobs()
    assert len(boards.list(ben)) == before
    assert wb.db.scalar("SELECT count(*) FROM images") == rows  # the good picture was added, then taken back
    assert sorted(wb.blobs.keys()) == blobs
    assert wb.vectors.ids(wb.pipeline.table) == {r["id"] for r in wb.db.query("SELECT id FROM images")}
    assert wb.library.get(ben, known.id).ready  # what Ben already had is untouched


def test_an_image_lost_from_storage_is_marked_missing_and_the_zip_still_opens(
    wb: Workbench, boards: Boards, ana: User
) -> None:
    kept = wb.library.ingest(ana, png_bytes((90, 200, 90), seed=41), filename="kept.png")
    lost = wb.library.ingest(ana, png_bytes((200, 90, 200), seed=42), filename="lost.png")
    made = boards.create(ana, "Storage trouble")
    boards.add_image(ana, made.id, kept.id, x=0, y=0)
    boards.add_image(ana, made.id, lost.id, x=300, y=0)
    wb.blobs.delete(lost.blob_key)  # a blob gone behind the workbench's back
    archive = _unzip(_export(boards, ana, made.id))
    assert archive.testzip() is None
    manifest = json.loads(archive.read("board.json"))
    by_x = {item["x"]: item for item in manifest["items"]}
    assert by_x[0]["image"]["filename"] == "kept.png" and "missing" not in by_x[0]
    assert by_x[300]["missing"] is True and by_x[300]["image"] is None
    assert [n for n in archive.namelist() if n.startswith("images/")] == ["images/001-kept.png"]


def test_a_huge_canvas_is_tiled_over_pages(boards: Boards, ana: User) -> None:
    made = boards.create(ana, "Wide wall")
    boards.add_note(ana, made.id, "far left", x=0, y=0)
    boards.add_note(ana, made.id, "far right", x=9000, y=0)
    out = io.BytesIO()
    boards.export_pdf(ana, made.id, out)
    pdf = pdfium.PdfDocument(out.getvalue())
    texts = [pdf[n].get_textpage().get_text_range() for n in range(len(pdf))]
    canvas_pages = [t for t in texts if "Wide wall (part" in t]
    assert len(canvas_pages) >= 2
    assert "far left" in canvas_pages[0] and "far right" in canvas_pages[-1]
    assert "far right" not in canvas_pages[0]
