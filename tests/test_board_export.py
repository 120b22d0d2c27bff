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
from tests.zip_tools import build_zip, patch, rename, store_contents
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
    assert names[:3] == ["board.json", "notes.md", "comments.json"]
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
    assert sorted(n.split("/")[0] for n in names[3:]) == ["images"] * 2 + ["thumbnails"] * 2


def test_hostile_names_and_captions_export_safely(wb: Workbench, boards: Boards, ana: User) -> None:
    nasty = "../../etc/passwd\x1b[31m\x07\u202e.png"
    image = wb.library.ingest(ana, png_bytes((5, 5, 5), seed=3), filename=nasty)
    made = boards.create(ana, "../\x00evil\tboard")
    boards.add_image(ana, made.id, image.id, caption="../../x\x07\x1b[2J caption")
    boards.add_note(ana, made.id, "..\\..\\windows\x00\x08 note <b>bold</b>")
    data = _export(boards, ana, made.id)
    archive = _unzip(data)
    assert all(_safe(n) for n in archive.namelist()), archive.namelist()
    assert all(n.split("/")[0] in ("board.json", "notes.md", "comments.json", "images", "thumbnails")
               for n in archive.namelist())
    for name in ("board.json", "notes.md", "comments.json"):
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


# -- hostile archives, class by class (issue 15, D.9 and D.14) --------------------------------
def _good_entries() -> list[tuple[str, bytes]]:
    picture = png_bytes((120, 40, 160), seed=51)
    return [("board.json", _manifest(items=[_image_item("images/001-a.png")])), ("images/001-a.png", picture)]


def _refused(wb: Workbench, boards: Boards, user: User, data: bytes, message: str) -> InvalidInput:
    """The import is refused with ``message`` and leaves every store as it was."""
    wb.pipeline.run_jobs()  # what earlier tests left queued must not look like this import's doing
    before = store_contents(wb)
    with pytest.raises(InvalidInput, match=message) as caught:
        boards.import_zip(user, data)
    wb.pipeline.run_jobs()
    assert store_contents(wb) == before
    return caught.value


@pytest.mark.parametrize("doctor,message", [
    (lambda d: patch(d, "images/001-a.png", flag_or=0x1), "password-protected"),
    (lambda d: patch(d, "board.json", flag_or=0x1), "password-protected"),
    (lambda d: patch(d, "images/001-a.png", flag_or=0x20), "ZIP feature"),
    (lambda d: patch(d, "images/001-a.png", method=9), "deflate64"),
    (lambda d: patch(d, "images/001-a.png", method=99), "method 99"),
    (lambda d: patch(d, "images/001-a.png", external_attr=0o120777 << 16), "symbolic link"),
    (lambda d: patch(d, "images/001-a.png", external_attr=0o020666 << 16), "special file"),
    (lambda d: rename(d, b"images/001-a.png", b"images/001-a\0png"), "unsafe file name"),
    (lambda d: d[: len(d) - 30], "not a ZIP archive, or it is damaged"),           # the end record cut off
    (lambda d: d[: d.rindex(b"PK\x01\x02") + 20] + d[d.rindex(b"PK\x05\x06"):], "not a ZIP"),  # truncated directory
    (lambda d: patch(d, "images/001-a.png", file_size=100), "damaged"),             # header smaller than the data
    (lambda d: patch(d, "images/001-a.png", file_size=900_000), "damaged"),         # header larger than the data
    (lambda d: patch(d, "images/001-a.png", compress_size=5_000_000), "claim more bytes"),
])
def test_doctored_headers_are_refused(wb: Workbench, boards: Boards, ben: User, doctor, message: str) -> None:
    data = doctor(build_zip(_good_entries()))
    _refused(wb, boards, ben, data, message)


@pytest.mark.parametrize("compression,name", [(zipfile.ZIP_BZIP2, "bzip2"), (zipfile.ZIP_LZMA, "LZMA")])
def test_bzip2_and_lzma_are_refused_before_inflating(wb: Workbench, boards: Boards, ben: User,
                                                     compression: int, name: str) -> None:
    # zipfile inflates a whole read of these at once: 64 MB of zeros packs into a few hundred
    # bytes of bzip2, and the header can claim any size. Refused from the directory.
    info = zipfile.ZipInfo("images/001-a.png")
    info.compress_type = compression
    data = build_zip([("board.json", _manifest(items=[_image_item("images/001-a.png")])),
                      (info, b"\0" * (8 * 1024 * 1024))])
    data = patch(data, "images/001-a.png", file_size=1000)
    tracemalloc.start()
    try:
        _refused(wb, boards, ben, data, name)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024 * 1024


def test_entries_board_json_does_not_name_are_refused(wb: Workbench, boards: Boards, ben: User) -> None:
    good = _good_entries()
    error = _refused(wb, boards, ben, build_zip([*good, ("extra/readme.txt", b"hello")]), "does not reference")
    assert "'extra/readme.txt'" in str(error)
    _refused(wb, boards, ben, build_zip([*good, ("evil/../../x", b"x")]), "unsafe file name")
    for name in ("./board.json", "images//a.png", "C:/x.png", "images/\u202eevil.png", "a" * 300):
        _refused(wb, boards, ben, build_zip([*good, (name, b"x")]), "unsafe file name")
    _refused(wb, boards, ben, build_zip([*good, ("images/001-a.png", b"again")]), "twice")
    _refused(wb, boards, ben, build_zip([*good, ("images/001-A.png".replace("A", "a\u0301"), b"x"),
                                         ("images/001-\u00e1.png", b"y")]), "twice")
    _refused(wb, boards, ben, build_zip([*good, ("docs/", b"")]), "folder")
    # The folders of an export unzipped and zipped again by hand are fine.
    board = boards.import_zip(ben, build_zip([("images/", b""), ("thumbnails/", b""), *good]))
    assert board.item_count == 1


def test_too_many_entries_are_refused_from_the_directory(wb: Workbench, boards: Boards, ben: User) -> None:
    entries = [("board.json", _manifest())] + [(f"images/{n}.png", b"") for n in range(5000)]
    _refused(wb, boards, ben, build_zip(entries, zipfile.ZIP_STORED), "at most")


def _deep(depth: int) -> bytes:
    return (b'{"format": "filmmaker-workbench/board", "version": 1, "board": {"title": "x"}, "items": [], '
            b'"canvas": ' + b"[" * depth + b"]" * depth + b"}")


@pytest.mark.parametrize("board_json,message", [
    (_deep(100_000), "far more values"),
    (_deep(2_000), "nests more than 16 deep"),
    ("{\"format\": \"caf\xe9\"}".encode("latin-1"), "not UTF-8"),
    (b"[1, 2, 3]", "must hold one JSON object"),
    (b'"just text"', "must hold one JSON object"),
    (_manifest(items=[{"kind": "note", "x": 1, "y": 0, "w": 1, "h": 1}]).replace(b'"x": 1', b'"x": NaN'), "NaN"),
    (_manifest(items=[{"kind": "note", "x": 1, "y": 0, "w": 1, "h": 1}]).replace(b'"x": 1', b'"x": -Infinity'),
     "Infinity"),
    (_manifest(items=[{"kind": "note", "x": 1, "y": 0, "w": 1, "h": 1}]).replace(b'"x": 1', b'"x": 1e999'),
     "too large"),
    (_manifest(items=[{"kind": "note", "x": 1, "y": 0, "w": 1, "h": 1}]).replace(b'"x": 1', b'"x": ' + b"9" * 5000),
     "5,000 digits"),
    (_manifest(items=[{"kind": "note", "x": 10**20, "y": 0, "w": 1, "h": 1}]), "off the canvas"),
    (_manifest(items=[{"kind": "note", "x": 0, "y": 0, "w": 0, "h": 1}]), "not usable"),
    (b'{"format": "filmmaker-workbench/board", "format": "x", "version": 1}', "key 'format' twice"),
    (b'{"format": "filmmaker-workbench/board", "version": 2, "board": {"title": "x"}, "items": []}',
     "newer workbench"),
    (_manifest(board={"title": "caf\\ud800"}).replace(b"\\\\ud800", b"\\ud800"), r"board\.title holds a broken"),
    (b"{" * 30 + b"}", "not valid JSON|far more|nests"),
])
def test_board_json_that_cannot_be_trusted_is_refused(wb: Workbench, boards: Boards, ben: User,
                                                       board_json: bytes, message: str) -> None:
    _refused(wb, boards, ben, build_zip([("board.json", board_json)]), message)


def _note(**fields) -> dict:
    return {"id": "bi_1", "kind": "note", "x": 0, "y": 0, "w": 10, "h": 10, "text": "hi", **fields}


@pytest.mark.parametrize("items,message", [
    ([_note(), _note(), _note(), _note(id=7)], r"board\.json: items\[3\]\.id must be a string"),
    ([_note()] * 7 + [_note(x="12")], r"board\.json: items\[7\]\.x must be a number"),
    ([_note(x=True)], r"items\[0\]\.x must be a number"),
    ([_note(z=1.5)], r"items\[0\]\.z must be a whole number"),
    ([_note(text=["hi"])], r"items\[0\]\.text must be a string"),
    ([_note(caption=None)], r"items\[0\]\.caption must be a string"),
    ([_note(color=5)], r"items\[0\]\.color must be a string or null"),
    ([_note(colour="#ffffff")], r"items\[0\]\.colour is not part of a board export"),
    ([_note(kind=None)], r"items\[0\]\.kind must be a string"),
    ([{"kind": "note", "x": 0, "y": 0, "w": 10}], r"items\[0\]\.h is missing"),
    ([_note(missing="yes")], r"items\[0\]\.missing must be true or false"),
    ([_note(document={"id": "d", "start": 0, "end": 1})], r"items\[0\]\.document must be null for a note"),
    ([_note(kind="script", document={"id": "d", "start": "0", "end": 1})],
     r"items\[0\]\.document\.start must be a whole number or null"),
    ([_note(kind="script", document=[1])], r"items\[0\]\.document must be an object"),
    ([_note(kind="image")], r"items\[0\]\.image is missing"),
    ([_image_item("images/a.png") | {"image": {"file": "images/a.png", "tags": "noir"}}],
     r"items\[0\]\.image\.tags must be a list"),
    ([_image_item("images/a.png") | {"image": {"file": "images/a.png", "tags": ["noir", 3]}}],
     r"items\[0\]\.image\.tags\[1\] must be a string"),
    ([_image_item("images/a.png") | {"image": {"file": 5}}], r"items\[0\]\.image\.file must be a string"),
    ([_image_item("images/a.png") | {"image": {"file": "images/a.png", "thumbnail": "../t.webp"}}],
     "unsafe file name"),
    ([_image_item("images/a.png") | {"missing": True}], r"items\[0\]\.image must be null for a missing image"),
    ([_note(kind="link", url="ftp://x")], r"items\[0\]\.url: Only http"),
    ("not a list", r"board\.json: items must be a list"),
    ([[]], r"items\[0\] must be an object"),
])
def test_fields_of_the_wrong_type_are_named(wb: Workbench, boards: Boards, ben: User, items, message: str) -> None:
    _refused(wb, boards, ben, build_zip([("board.json", _manifest(items=items)), ("images/a.png", b"x")]), message)


@pytest.mark.parametrize("board,message", [
    ({"title": 5}, r"board\.title must be a string"),
    ({"description": "x"}, r"board\.title is missing"),
    ({"title": "x", "revision": "3"}, r"board\.revision must be a whole number"),
    ({"title": "x", "owner": "someone"}, r"board\.owner is not part of a board export"),
    ("Night shoot", r"board\.json: board must be an object"),
])
def test_board_fields_of_the_wrong_type_are_named(wb: Workbench, boards: Boards, ben: User, board, message) -> None:
    _refused(wb, boards, ben, build_zip([("board.json", _manifest(board=board))]), message)


def test_a_failed_import_puts_back_the_tags_it_merged(wb: Workbench, boards: Boards, ben: User) -> None:
    picture = png_bytes((20, 200, 200), seed=61)
    known = wb.library.ingest(ben, picture, filename="teal.png", tags=["teal"], wait=True)
    tagged = _image_item("images/teal.png") | {"image": {"file": "images/teal.png", "tags": ["night", "rain"]}}
    entries = [("board.json", _manifest(items=[tagged, _image_item("images/bad.png")])),
               ("images/teal.png", picture), ("images/bad.png", b"GIF89a truncated")]
    _refused(wb, boards, ben, build_zip(entries), "bad.png in the archive could not be added")
    assert wb.library.get(ben, known.id).tags == ["teal"]
    board = boards.import_zip(ben, build_zip([("board.json", _manifest(items=[tagged])), ("images/teal.png", picture)]))
    assert wb.library.get(ben, known.id).tags == ["night", "rain", "teal"] and board.item_count == 1


def test_every_export_imports_again_unchanged(wb: Workbench, boards: Boards, ana: User, ben: User, board) -> None:
    """Round trip of everything the exporter writes: every kind, tags, captions, a missing image."""
    tagged = wb.library.ingest(ana, png_bytes((250, 200, 10), seed=71), filename="gold.png",
                               tags=["gold", "dusk"], caption="golden hour", wait=True)
    lost = wb.library.ingest(ana, png_bytes((1, 2, 3), seed=72), filename="lost.png")
    boards.add_image(ana, board.id, tagged.id, x=40, y=700, caption="on the wall")
    boards.add_image(ana, board.id, lost.id, x=400, y=700)
    wb.blobs.delete(lost.blob_key)
    data = _export(boards, ana, board.id)
    copy = boards.import_zip(ben, data)
    view, original = boards.get(ben, copy.id), boards.get(ana, board.id)

    def layout(v):
        return sorted((i.kind, i.x, i.y, i.w, i.h, i.caption, i.text, i.url, i.color,
                       v.images[i.image_id].sha256 if i.image_id else None) for i in v.items)

    assert layout(view) == [row for row in layout(original) if row[-1] != lost.sha256]
    gold = next(img for img in view.images.values() if img.sha256 == tagged.sha256)
    assert gold.tags == ["dusk", "gold"] and gold.caption == "golden hour" and gold.owner == ben.id
    # An import exported again imports again: the format is closed under round trips.
    again = boards.import_zip(ben, _export(boards, ben, copy.id))
    assert layout(boards.get(ben, again.id)) == layout(view)


@pytest.mark.parametrize(("title", "unicode_name", "ascii_name"), [
    ("Night shoot", "Night shoot.pdf", "Night shoot.pdf"),
    ("Crème brûlée à l'aube", "Crème brûlée à l'aube.pdf", "Creme brulee a l'aube.pdf"),
    ("<script>alert(1)</script>", "script alert(1) script.pdf", "script alert(1) script.pdf"),
    ("Act 1: the ferry / the pier?", "Act 1 the ferry the pier.pdf", "Act 1 the ferry the pier.pdf"),
    ("東京の夜", "東京の夜.pdf", "board.pdf"),
    ("CON", "CON-board.pdf", "CON-board.pdf"),
    ("nul", "nul-board.pdf", "nul-board.pdf"),
    ("com1.backup", "com1-board.backup.pdf", "com1-board.backup.pdf"),
    ("LPT9 ", "LPT9-board.pdf", "LPT9-board.pdf"),
    ("...", "board.pdf", "board.pdf"),
    ("tab\there\x07", "tab here.pdf", "tab here.pdf"),
])
def test_export_names_are_safe_everywhere_and_keep_accents(title: str, unicode_name: str, ascii_name: str) -> None:
    from server.components.download import content_disposition
    from workbench.boards.export import download_name

    assert download_name(title, "pdf") == unicodedata.normalize("NFC", unicode_name)
    assert download_name(title, "pdf", ascii_only=True) == ascii_name
    header = content_disposition(download_name(title, "pdf"), fallback="board")
    assert header.startswith(f'attachment; filename="{ascii_name}"') and header.isascii()
    if unicode_name != ascii_name:  # RFC 5987: the UTF-8 name, percent-encoded only inside filename*
        from urllib.parse import unquote
        assert unquote(header.split("filename*=UTF-8''", 1)[1]) == unicode_name
    assert len(download_name("x" * 500, "pdf")) == 84


def test_storyboard_numbers_follow_reading_order(boards: Boards, ana: User, wb: Workbench) -> None:
    from workbench.boards.export import frame_numbers

    still = wb.library.ingest(ana, png_bytes(seed=91), filename="frame.png")
    board = boards.create(ana, "Numbered")
    # Two rows of three, hand-placed a few pixels off, added out of order; a note in between.
    spots = [(700, 12), (0, 0), (350, 8), (360, 300), (0, 296), (705, 310)]
    items = [boards.add_image(ana, board.id, still.id, x=x, y=y, w=300, h=180) for x, y in spots]
    boards.add_note(ana, board.id, "between", x=0, y=200)
    numbers = frame_numbers(boards.get(ana, board.id).items)
    assert [numbers[i.id] for i in items] == [3, 1, 2, 5, 4, 6]
