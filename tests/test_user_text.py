"""One rule for user text: every entry point stores it cleaned or refuses it, never a database error.

Lone UTF-16 surrogates used to reach DuckDB and fail its VARCHAR cast with a
``RuntimeError``; NUL and control characters were stored as typed in some
places and not in others. Each entry point below gets the same hostile text.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers import open_wb, png_bytes
from workbench import InvalidInput, Workbench
from workbench.library.intake import MAX_FILENAME_BYTES, MAX_FILENAME_CHARS, safe_filename
from workbench.text import clean_text

HOSTILE = {
    "lone high surrogate": "Night \ud800shoot",
    "lone low surrogate at the end": "Night shoot\udfff",
    "reversed pair": "Night \udc00\ud800shoot",
    "NUL and controls": "Night\x00 \x07shoot\x1b[31m\x7f\x9b",
    "byte-order mark and non-characters": "\ufeffNight \ufffe\uffff\U0010ffffshoot",
    "very long": "rain " * 30_000,
}


@pytest.fixture(scope="module")
def wb(tmp_path_factory: pytest.TempPathFactory) -> Workbench:
    bench = open_wb(tmp_path_factory.mktemp("user-text"))
    yield bench
    bench.close()


@pytest.fixture(scope="module")
def ana(wb: Workbench):
    return wb.accounts.create_user("ana@example.com", plan="premium")


_seed = iter(range(1000, 100_000))


def _image(wb: Workbench, ana, **kwargs: Any):
    return wb.library.ingest(ana, png_bytes(seed=next(_seed)), **{"filename": "still.png", **kwargs})


def _board(wb: Workbench, ana):
    return wb.boards.create(ana, "Text tests")


def _doc(wb: Workbench, ana):
    return wb.writing.create(ana, "idea", "An idea", "Rain.")


# Each entry point: (user text) -> the stored text(s), read back through the service.
ENTRY_POINTS: dict[str, Callable[[Workbench, Any, str], list[str]]] = {
    "image caption (ingest)": lambda wb, ana, t: [_image(wb, ana, caption=t).caption],
    "image caption (set_caption)": lambda wb, ana, t: [wb.library.set_caption(ana, _image(wb, ana).id, t).caption],
    "image tags (ingest)": lambda wb, ana, t: _image(wb, ana, tags=[t, "noir"]).tags,
    "image tags (set_tags)": lambda wb, ana, t: wb.library.set_tags(ana, _image(wb, ana).id, [t]).tags,
    "image tags (add_tags)": lambda wb, ana, t: wb.library.add_tags(ana, _image(wb, ana).id, [t]).tags,
    "image tag filter (list)": lambda wb, ana, t: [i.caption for i in wb.library.list(ana, tag=t)],
    "file name": lambda wb, ana, t: [_image(wb, ana, filename=t).filename],
    "document title (create)": lambda wb, ana, t: [wb.writing.create(ana, "idea", t, "Rain.").title],
    "document body (create)": lambda wb, ana, t: [wb.writing.create(ana, "idea", "Body", t).body],
    "document title (rename)": lambda wb, ana, t: [wb.writing.rename(ana, _doc(wb, ana).id, t).title],
    "document body (save)": lambda wb, ana, t: [wb.writing.save(ana, _doc(wb, ana).id, t).body],
    "document prompt (save)": lambda wb, ana, t: [
        wb.writing.versions(ana, wb.writing.save(ana, _doc(wb, ana).id, "x", prompt=t).id)[0].prompt],
    "board title (create)": lambda wb, ana, t: [wb.boards.create(ana, t).title],
    "board description (create)": lambda wb, ana, t: [wb.boards.create(ana, "B", t).description],
    "board title (rename)": lambda wb, ana, t: [wb.boards.rename(ana, _board(wb, ana).id, t).title],
    "board description (describe)": lambda wb, ana, t: [wb.boards.describe(ana, _board(wb, ana).id, t).description],
    "board title (duplicate)": lambda wb, ana, t: [wb.boards.duplicate(ana, _board(wb, ana).id, title=t).title],
    "board note": lambda wb, ana, t: [wb.boards.add_note(ana, _board(wb, ana).id, t).text],
    "board note caption": lambda wb, ana, t: [wb.boards.add_note(ana, _board(wb, ana).id, "n", caption=t).caption],
    "board heading": lambda wb, ana, t: [wb.boards.add_heading(ana, _board(wb, ana).id, t).text],
    "board link title": lambda wb, ana, t: [
        wb.boards.add_link(ana, _board(wb, ana).id, "https://example.com", title=t).text],
    "board image caption": lambda wb, ana, t: [
        wb.boards.add_image(ana, _board(wb, ana).id, _image(wb, ana).id, caption=t).caption],
    "board item update": lambda wb, ana, t: [
        wb.boards.update_item(ana, (b := _board(wb, ana)).id, wb.boards.add_note(ana, b.id, "n").id, text=t,
                              caption=t).text],
    "share link label": lambda wb, ana, t: [wb.boards.create_link(ana, _board(wb, ana).id, "view", label=t)[0].label],
    # Searches store nothing; they must answer (or refuse) instead of crashing in the tokenizer or LanceDB.
    "search words filter (by_text)": lambda wb, ana, t: [h.image.caption for h in wb.search.by_text(ana, t + " cat")],
    "search tag filter (by_text)": lambda wb, ana, t: [
        h.image.caption for h in wb.search.by_text(ana, "cat", tags=[t])],
}


def _storable(text: str) -> bool:
    return not any(0xD800 <= ord(c) <= 0xDFFF or (unicodedata.category(c) == "Cc" and c not in "\n\t")
                   or c in "\ufeff\ufffe\uffff\U0010ffff" for c in text)


@pytest.mark.parametrize("hostile", list(HOSTILE))
@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_every_entry_point_cleans_or_refuses_hostile_text(wb: Workbench, ana, entry: str, hostile: str) -> None:
    text = HOSTILE[hostile]
    try:
        stored = ENTRY_POINTS[entry](wb, ana, text)
    except InvalidInput as error:
        assert "limit" in str(error) or "must be" in str(error), str(error)
        assert hostile == "very long", f"{entry} refused text it could have cleaned: {error}"
        return
    assert all(_storable(s) for s in stored), stored
    if hostile != "very long" and "filter" not in entry:
        # The words themselves survive the cleaning (only the unstorable code points go).
        assert any("Night" in s or "night" in s for s in stored), stored


@pytest.mark.parametrize("entry", [e for e in ENTRY_POINTS if "filter" not in e])
def test_text_that_is_not_a_string_is_refused(wb: Workbench, ana, entry: str) -> None:
    with pytest.raises(InvalidInput):
        ENTRY_POINTS[entry](wb, ana, 12345)  # type: ignore[arg-type]


def test_clean_text_rules() -> None:
    # A correctly paired surrogate is one emoji, not two dropped halves.
    assert clean_text("rain \ud83c\udf27 tonight", field="t", max_chars=50) == "rain \U0001f327 tonight"
    assert clean_text("a\r\nb\rc\u2028d\x85e", field="t", max_chars=50, multiline=True) == "a\nb\nc\nd\ne"
    assert clean_text("  Act\tone \n two ", field="t", max_chars=50) == "Act one two"
    assert clean_text("tab\tkept\n", field="t", max_chars=50, multiline=True) == "tab\tkept\n"
    assert clean_text("Cafe\u0301", field="t", max_chars=50) == "Caf\u00e9"  # NFC: one way to spell it
    # Joiners are text (emoji families, Persian): they stay.
    assert clean_text("\U0001f468\u200d\U0001f469 \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", field="t",
                      max_chars=50).count("\u200d") == 1
    with pytest.raises(InvalidInput, match="The caption is 51 characters long; the limit is 50"):
        clean_text("x" * 51, field="caption", max_chars=50)
    assert clean_text("x" * 51, field="caption", max_chars=50, truncate=True) == "x" * 50
    with pytest.raises(InvalidInput, match="must be text"):
        clean_text(b"bytes", field="title", max_chars=50)


@pytest.mark.parametrize("name", [
    "a" * 400 + ".jpeg",
    "夜" * 600 + ".png",
    "\U0001f327" * 300 + ".tiff",
    "e\u0301" * 300 + ".webp",
    "clip." + "x" * 400,
])
def test_long_file_names_keep_their_extension_and_fit_any_file_system(name: str) -> None:
    safe = safe_filename(name)
    assert len(safe) <= MAX_FILENAME_CHARS and len(safe.encode()) <= MAX_FILENAME_BYTES
    ext = name.rsplit(".", 1)[1]
    if len(ext) <= 10:
        assert safe.endswith("." + ext) and len(safe) > len(ext) + 1
    assert not unicodedata.combining(safe.rsplit(".", 1)[0][-1])


def test_file_names_lose_folders_controls_and_spoofing() -> None:
    assert safe_filename("../../etc/pass\x00wd\ud800.png") == "passwd.png"
    assert safe_filename("C:\\shots\\photo\u202egnp.exe") == "photognp.exe"
    assert safe_filename("....") == "image"
    assert safe_filename("  .hidden.jpg ") == "hidden.jpg"
