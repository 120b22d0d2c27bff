"""The image library: ingest, validation, isolation, deletion, search."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from store.vectors import VectorFilter
from tests import image_builders as builders
from tests.helpers import open_wb, png_bytes, sample_bytes
from workbench import InvalidInput, NotFound, Workbench


@pytest.fixture(scope="module")
def wb(tmp_path_factory: pytest.TempPathFactory) -> Workbench:
    bench = open_wb(tmp_path_factory.mktemp("library"))
    yield bench
    bench.close()


@pytest.fixture(scope="module")
def ana(wb: Workbench):
    return wb.accounts.create_user("ana@example.com", plan="premium")


@pytest.fixture(scope="module")
def ben(wb: Workbench):
    return wb.accounts.create_user("ben@example.com")


@pytest.fixture(scope="module")
def photos(wb: Workbench, ana) -> dict:
    names = ["chelsea.png", "coffee.png", "rocket.jpg", "astronaut.png", "horse.png", "coins.png"]
    return {n: wb.library.ingest(ana, sample_bytes(n), filename=n, tags=["sample"], wait=True) for n in names}


def test_ingest_stores_row_blobs_and_vector(wb: Workbench, ana, photos) -> None:
    cat = photos["chelsea.png"]
    assert cat.ready and cat.owner == ana.id and cat.mime == "image/png"
    assert (cat.width, cat.height) == (451, 300)
    assert wb.blobs.exists(cat.blob_key) and wb.blobs.exists(cat.thumb_key)
    assert wb.vectors.count(wb.pipeline.table, VectorFilter(ids={cat.id})) == 1
    thumb = Image.open(io.BytesIO(wb.library.thumbnail(ana, cat.id)))
    assert thumb.format == "WEBP" and max(thumb.size) <= 512
    assert len(cat.colors) >= 3 and all(c.startswith("#") for c in cat.colors)
    assert "cat" in " ".join(cat.labels).lower()
    assert cat.tags == ["sample"]


def test_same_picture_twice_is_stored_once(wb: Workbench, ana, photos) -> None:
    again = wb.library.ingest(ana, sample_bytes("coffee.png"), filename="copy.png", tags=["morning"])
    assert again.id == photos["coffee.png"].id
    assert set(again.tags) == {"sample", "morning"}


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny, valid-looking PNG whose header claims width x height pixels (a decompression bomb)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + chunk(b"IEND", b""))


def _jpeg(size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (120, 80, 40)).save(out, format="JPEG")
    return out.getvalue()


def _png_with_exif(exif_bytes: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (1, 2, 3)).save(out, format="PNG", exif=b"Exif\x00\x00" + b"\x00" * exif_bytes)
    return out.getvalue()


BAD_INPUTS = {
    "zero bytes": (b"", "empty"),
    "truncated JPEG": (_jpeg((400, 300))[:300], "damaged|not an image"),
    "30 000 x 30 000 PNG bomb": (_png_claiming(30_000, 30_000), "megapixels|too large"),
    "SVG": (b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "SVG"),
    "text file renamed .jpg": (b"INT. KITCHEN - NIGHT\nThis is a screenplay, not a photo.\n", "not an image"),
    "PDF": (b"%PDF-1.4 not an image", "not an image"),
    "huge EXIF block": (_png_with_exif(2_000_000), "EXIF"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_files_are_rejected_with_a_clear_message_and_leave_nothing(wb: Workbench, ben, case: str) -> None:
    data, message = BAD_INPUTS[case]
    rows = wb.db.scalar("SELECT count(*) FROM images")
    keys = set(wb.blobs.keys())
    vectors = wb.vectors.count(wb.pipeline.table)
    jobs = wb.db.scalar("SELECT count(*) FROM outbox")
    with pytest.raises(InvalidInput, match=message):
        wb.library.ingest(ben, data, filename="bad.jpg")
    assert wb.db.scalar("SELECT count(*) FROM images") == rows
    assert set(wb.blobs.keys()) == keys
    assert wb.vectors.count(wb.pipeline.table) == vectors
    assert wb.db.scalar("SELECT count(*) FROM outbox") == jobs


def test_too_many_bytes_rejected(tmp_path: Path) -> None:
    small = open_wb(tmp_path, library={"max_bytes": 1000, "load_samples": False})
    user = small.accounts.local_user()
    with pytest.raises(InvalidInput, match="limit is"):
        small.library.ingest(user, png_bytes(size=(400, 400)), filename="big.png")
    assert small.library.count(user) == 0 and list(small.blobs.keys()) == []


def test_decompression_bomb_rejected_before_decoding(wb: Workbench, ben) -> None:
    # a tiny file that claims 100 000 x 100 000 pixels
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, format="PNG")
    data = out.getvalue()
    with pytest.raises(InvalidInput, match="megapixels|too large"):
        wb.library.ingest(ben, data, filename="bomb.png")


def test_exif_orientation_applied_and_gps_stripped(wb: Workbench, ben) -> None:
    img = Image.new("RGB", (80, 40), (10, 120, 200))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 on display
    exif[0x8825] = {1: "N", 2: (52.0, 22.0, 0.0)}
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif.tobytes())
    stored = wb.library.ingest(ben, out.getvalue(), filename="phone.jpg")
    assert (stored.width, stored.height) == (40, 80)
    original = Image.open(io.BytesIO(wb.library.original(ben, stored.id)))
    assert 0x8825 not in original.getexif()
    assert original.getexif().get(0x0112) == 6


def test_other_users_private_images_are_invisible(wb: Workbench, ana, ben, photos) -> None:
    cat = photos["chelsea.png"]
    with pytest.raises(NotFound):
        wb.library.get(ben, cat.id)
    with pytest.raises(NotFound):
        wb.library.thumbnail(ben, cat.id)
    hits = wb.search.by_text(ben, "cat", limit=50)
    assert all(h.image.owner == ben.id or h.image.visibility != "private" for h in hits)
    assert cat.id not in {h.image.id for h in hits}


def test_team_visibility_shares_an_image(wb: Workbench, ana, ben, photos) -> None:
    horse = wb.library.set_visibility(ana, photos["horse.png"].id, "team")
    assert wb.library.get(ben, horse.id).visibility == "team"
    assert horse.id in {h.image.id for h in wb.search.by_text(ben, "horse", limit=10)}
    wb.library.set_visibility(ana, horse.id, "private")
    assert horse.id not in {h.image.id for h in wb.search.by_text(ben, "horse", limit=10)}


def test_search_by_text_finds_the_right_photo(wb: Workbench, ana, photos) -> None:
    for query, name in [("a cat", "chelsea.png"), ("cup of coffee", "coffee.png"), ("horse", "horse.png")]:
        hits = wb.search.by_text(ana, query, limit=3)
        assert hits[0].image.id == photos[name].id, query
        assert hits[0].thumbnail_url.endswith(photos[name].id)


def test_search_by_image_finds_the_original_of_a_crop(wb: Workbench, ana, photos) -> None:
    rocket = Image.open(io.BytesIO(sample_bytes("rocket.jpg")))
    crop = rocket.crop((50, 40, rocket.width - 60, rocket.height - 30))
    hits = wb.search.by_image(ana, crop, limit=3)
    assert hits[0].image.id == photos["rocket.jpg"].id
    similar = wb.search.similar_to(ana, photos["rocket.jpg"].id, limit=5)
    assert photos["rocket.jpg"].id not in {h.image.id for h in similar}


def test_search_filters_by_tag_and_combined_query(wb: Workbench, ana, photos) -> None:
    wb.library.add_tags(ana, photos["astronaut.png"].id, ["space"])
    hits = wb.search.by_text(ana, "a cat", tags=["space"], limit=10)
    assert [h.image.id for h in hits] == [photos["astronaut.png"].id]
    both = wb.search.combined(ana, "horse", image_id=photos["coffee.png"].id, text_weight=0.8, limit=3)
    assert both[0].image.id == photos["horse.png"].id


def test_delete_removes_everything(wb: Workbench, ben) -> None:
    img = wb.library.ingest(ben, png_bytes((10, 200, 10), seed=7), filename="green.png", wait=True)
    wb.library.delete(ben, img.id)
    with pytest.raises(NotFound):
        wb.library.get(ben, img.id)
    assert not wb.blobs.exists(img.blob_key) and not wb.blobs.exists(img.thumb_key)
    assert wb.vectors.count(wb.pipeline.table, VectorFilter(ids={img.id})) == 0


def test_shared_blob_survives_when_one_owner_deletes(wb: Workbench, ana, ben) -> None:
    data = png_bytes((5, 5, 250), seed=11)
    mine = wb.library.ingest(ana, data, filename="blue.png", wait=True)
    theirs = wb.library.ingest(ben, data, filename="blue.png", wait=True)
    wb.library.delete(ben, theirs.id)
    assert wb.library.original(ana, mine.id) == data


def test_ingest_many_reports_per_file_errors(wb: Workbench, ben) -> None:
    seen = []
    result = wb.library.ingest_many(
        ben, [("ok.png", png_bytes(seed=21)), ("bad.svg", b"<svg></svg>"), ("ok2.png", png_bytes(seed=22))],
        progress=lambda done, total, name: seen.append((done, total)), wait=True,
    )
    assert len(result.added) == 2 and list(result.errors) == ["bad.svg"]
    assert seen == [(1, 3), (2, 3), (3, 3)]


def test_search_filters_by_date_and_scope(wb: Workbench, ana, ben, photos) -> None:
    from datetime import datetime, timedelta

    cat = photos["chelsea.png"]
    future = datetime.now() + timedelta(days=1)
    assert wb.search.by_text(ana, "a cat", since=future) == []
    recent = wb.search.by_text(ana, "a cat", since=cat.created_at - timedelta(minutes=1), until=future, limit=3)
    assert recent[0].image.id == cat.id
    assert all(h.image.owner != ana.id for h in wb.search.by_text(ana, "a cat", scope="shared", limit=50))
    mine = wb.search.by_text(ana, "a cat", scope="mine", limit=50)
    assert mine and all(h.image.owner == ana.id for h in mine)
    with pytest.raises(InvalidInput):
        wb.search.by_text(ana, "a cat", scope="everyone")
    with pytest.raises(InvalidInput):
        wb.search.by_text(ana, "   ")


def test_a_worker_racing_an_upload_leaves_its_job_for_later(wb: Workbench, ben) -> None:
    """The worker may wake while an upload is still writing its blobs; the image must still end up searchable."""
    ran_early: list[int] = []

    def worker_wakes(step: str, image_id: str) -> None:
        if step == "row_written":  # row and job exist, the blobs do not yet
            ran_early.append(wb.pipeline.run_jobs(subject=image_id))

    image = wb.library.ingest(ben, png_bytes(seed=91), filename="racing.png", on_step=worker_wakes)
    assert ran_early == [0] and image.status == "stored"
    assert wb.pipeline.run_jobs(subject=image.id) == 1
    assert wb.library.get(ben, image.id).ready
    assert wb.vectors.count(wb.pipeline.table, VectorFilter(ids={image.id})) == 1


def test_an_image_deleted_while_it_is_embedded_leaves_no_vector(wb: Workbench, ben) -> None:
    image = wb.library.ingest(ben, png_bytes(seed=92), filename="short-lived.png")

    def user_deletes(step: str, image_id: str) -> None:
        if step == "embedded":  # the vector is computed, not yet written; the purge finds none to remove
            wb.library.delete(ben, image_id)

    wb.pipeline.run_jobs(subject=image.id, on_step=user_deletes)
    assert wb.vectors.count(wb.pipeline.table, VectorFilter(ids={image.id})) == 0
    assert wb.db.scalar("SELECT count(*) FROM images WHERE id = ?", [image.id]) == 0
    with pytest.raises(NotFound):
        wb.library.get(ben, image.id)


def test_an_unnamed_temporary_file_can_be_uploaded(wb: Workbench, ben) -> None:
    import tempfile

    for spool in (tempfile.TemporaryFile(), tempfile.SpooledTemporaryFile()):  # name: an int, then None
        with spool:
            spool.write(png_bytes(seed=93 + isinstance(spool, tempfile.SpooledTemporaryFile)))
            spool.seek(0)
            image = wb.library.ingest(ben, spool)
        assert image.filename.startswith("upload")


# -- hostile and unusual pictures (issue 15: D.8, D.11, D.12, D.13) ---------------------------------
def _store_counts(wb: Workbench) -> tuple:
    return (wb.db.scalar("SELECT count(*) FROM images"), wb.db.scalar("SELECT count(*) FROM image_tags"),
            wb.db.scalar("SELECT count(*) FROM outbox"), frozenset(wb.blobs.keys()),
            wb.vectors.count(wb.pipeline.table))


def _svg_utf16() -> bytes:
    return "\ufeff<?xml version='1.0' encoding='UTF-16'?><svg xmlns='http://www.w3.org/2000/svg'/>".encode("utf-16-le")


HOSTILE_FILES = {
    "PNG whose zTXt inflates past 1 MB": (builders.png_with_huge_ztxt(), "embedded text"),
    "PNG cut inside its header": (builders.grey16("PNG")[:30], "This PNG .* damaged or truncated"),
    "PNG with a broken checksum": (builders.grey16("PNG")[:29] + b"\x00\x00\x00\x00" + builders.grey16("PNG")[33:],
                                   "This PNG .* damaged or truncated"),
    "JPEG cut after its first segment": (_jpeg()[:22], "This JPEG .* damaged or truncated"),
    "JPEG cut in the middle": (_jpeg((400, 300))[:600], "This JPEG .* damaged or truncated"),
    "GIF cut after its signature": (b"GIF89a\x10\x00", "This GIF .* damaged or truncated"),
    "WebP cut after its header": (b"RIFF\x00\x10\x00\x00WEBPVP8 ", "This WebP .* damaged or truncated"),
    "TIFF with nothing after the header": (b"II*\x00\x08\x00\x00\x00", "This TIFF .* damaged or truncated"),
    "UTF-16 SVG": (_svg_utf16(), "SVG"),
    "SVG after an XML comment": (b"<!-- drawn in Inkscape --><svg xmlns='http://www.w3.org/2000/svg'/>", "SVG"),
    "HEIC photo": (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "HEIC"),
    "random bytes": (bytes(range(7, 250)) * 3, "not an image we can read"),
}


@pytest.mark.parametrize("case", list(HOSTILE_FILES))
def test_hostile_files_get_a_message_that_says_what_is_wrong(wb: Workbench, ben, case: str) -> None:
    data, message = HOSTILE_FILES[case]
    before = _store_counts(wb)
    with pytest.raises(InvalidInput, match=message):
        wb.library.ingest(ben, data, filename="upload.png", tags=["hostile"])
    assert _store_counts(wb) == before


def test_a_jpeg_whose_metadata_mentions_svg_is_a_jpeg(wb: Workbench, ben) -> None:
    exif = Image.Exif()
    exif[0x010E] = "<svg onload=alert(1)>"  # ImageDescription, right at the start of the file
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (90, 10, 10)).save(out, format="JPEG", exif=exif.tobytes(), comment=b"<svg>")
    assert b"<svg" in out.getvalue()[:512]
    image = wb.library.ingest(ben, out.getvalue(), filename="still.jpg")
    assert image.mime == "image/jpeg" and (image.width, image.height) == (40, 30)


def _no_location_left(data: bytes, image_format: str) -> Image.Image:
    for word in builders.LOCATION_WORDS:
        assert word.lower() not in data.lower(), word
    image = Image.open(io.BytesIO(data))
    assert image.format == image_format
    exif = image.getexif()
    assert 0x8825 not in exif and not exif.get_ifd(0x8825)
    assert b"GPS" not in (image.info.get("xmp") or b"")
    return image


@pytest.mark.parametrize("image_format", builders.FORMATS)
def test_the_stored_original_says_nothing_of_where_it_was_taken(wb: Workbench, ben, image_format: str) -> None:
    upload = builders.located(image_format, seed=31)
    assert all(word in upload for word in builders.LOCATION_WORDS[:3])
    image = wb.library.ingest(ben, upload, filename=f"drone.{image_format.lower()}")
    stored = _no_location_left(wb.blobs.get(image.blob_key), image_format)
    # Only the place went: the pixels are the very same (no re-encoding), the camera is still named.
    assert np.array_equal(np.asarray(stored.convert("RGB")), np.asarray(Image.open(io.BytesIO(upload)).convert("RGB")))
    make = stored.getexif().get(0x010F) or getattr(stored, "tag_v2", {}).get(0x010F)
    assert make == "FilmCam"
    if image_format != "TIFF":  # EXIF orientation 6 is kept (and applied to the recorded size)
        assert stored.getexif().get(0x0112) == 6 and (image.width, image.height) == (64, 96)


def test_board_zips_and_downloads_hand_out_clean_originals_even_from_an_old_library(wb: Workbench, ana) -> None:
    """Originals stored before XMP and IPTC were stripped still hold the place; nothing hands that out."""
    for image_format in builders.FORMATS:
        upload = builders.located(image_format, seed=41)
        image = wb.library.ingest(ana, upload, filename=f"old.{image_format.lower()}")
        legacy_key = wb.blobs.put(upload)  # what an older workbench stored: the upload as sent
        wb.db.execute("UPDATE images SET blob_key = ?, bytes = ? WHERE id = ?", [legacy_key, len(upload), image.id])
        board = wb.boards.create(ana, f"Scout {image_format}")
        wb.boards.add_image(ana, board.id, image.id)
        _, token = wb.boards.create_link(ana, board.id, "view")
        out = io.BytesIO()
        wb.boards.export_zip(None, board.id, out, token=token)
        with zipfile.ZipFile(out) as archive:
            [name] = [n for n in archive.namelist() if n.startswith("images/")]
            _no_location_left(archive.read(name), image_format)
            assert archive.getinfo(name).file_size == len(archive.read(name))
        _no_location_left(wb.library.original(ana, image.id), image_format)
        _no_location_left(wb.boards.board_image(None, board.id, image.id, token=token, original=True), image_format)
        assert wb.blobs.get(legacy_key) == upload  # handing out never rewrites what is stored


def _mean_grey(wb: Workbench, user, data: bytes, name: str) -> float:
    image = wb.library.ingest(user, data, filename=name)
    thumb = np.asarray(Image.open(io.BytesIO(wb.library.thumbnail(user, image.id))).convert("L"), dtype=float)
    return float(thumb.mean())


@pytest.mark.parametrize(("name", "data", "expected"), [
    ("grey16.png", builders.grey16("PNG", 16384), 64),
    ("grey16-bright.png", builders.grey16("PNG", 49152, size=(70, 40)), 191),
    ("grey16.tif", builders.grey16("TIFF", 16384, size=(50, 40)), 64),
    ("int32.tif", builders.wide_tiff("I", 32768), 128),
    ("float.tif", builders.wide_tiff("F", 0.25), 64),
    ("rgb16.png", builders.rgb16_png(16384), 64),
    ("rgba16.png", builders.rgb16_png(16384, alpha=True), 64),
    ("rgb16.tif", builders.rgb16_tiff(16384), 64),
    ("rgba16.tif", builders.rgb16_tiff(49152, channels=4), 191),
])
def test_16_bit_pictures_are_scaled_not_clipped(wb: Workbench, ben, name: str, data: bytes, expected: int) -> None:
    assert abs(_mean_grey(wb, ben, data, name) - expected) <= 3


def test_a_16_bit_gradient_keeps_its_shadows(wb: Workbench, ben) -> None:
    ramp = np.tile(np.linspace(0, 65535, 256).astype(np.uint16), (32, 1))
    out = io.BytesIO()
    Image.fromarray(ramp).save(out, format="PNG")
    image = wb.library.ingest(ben, out.getvalue(), filename="ramp16.png")
    thumb = np.asarray(Image.open(io.BytesIO(wb.library.thumbnail(ben, image.id))).convert("L"), dtype=float)
    assert thumb[:, :8].mean() < 20 and thumb[:, -8:].mean() > 235 and 110 < thumb.mean() < 145
    assert any(int(c[1:3], 16) < 100 for c in image.colors)  # the dark end shows in the palette too


def test_a_long_cjk_file_name_keeps_its_extension_within_255_bytes(wb: Workbench, ben) -> None:
    image = wb.library.ingest(ben, png_bytes(seed=77), filename="夜の撮影" * 150 + ".png")
    assert image.filename.endswith(".png") and len(image.filename.encode()) <= 255


@pytest.mark.parametrize("case", ["PNG whose zTXt inflates past 1 MB", "JPEG cut in the middle", "UTF-16 SVG",
                                  "random bytes"])
def test_search_by_a_hostile_example_picture_says_what_is_wrong(wb: Workbench, ana, photos, case: str) -> None:
    data, message = HOSTILE_FILES[case]
    with pytest.raises(InvalidInput, match=message.replace("upload.png", "query image")):
        wb.search.by_image(ana, data)


def test_search_by_a_16_bit_pillow_image_scales_it(wb: Workbench, ana, photos) -> None:
    ramp = Image.fromarray(np.tile(np.linspace(0, 65535, 128).astype(np.uint16), (64, 1)))
    assert ramp.mode == "I;16"
    assert len(wb.search.by_image(ana, ramp, limit=3)) == 3
    with pytest.raises(InvalidInput, match="binary mode"):
        wb.search.by_image(ana, io.StringIO("not a picture"))
