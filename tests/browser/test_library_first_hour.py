"""The library's first hour (issue #18, items 2 and 4): duplicates that say so and show the picture
already there, and "Add to board" that offers the boards edited last and names a new board from the
selection."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Visit
from tests.helpers import png_bytes, wait_for

pytestmark = pytest.mark.browser


def _me(served: Any) -> Any:
    return served.wb.accounts.local_user()


def test_a_duplicate_upload_says_so_and_shows_the_picture(visit: Visit, served: Any, tmp_path: Path) -> None:
    still = tmp_path / "harbour-dusk.png"
    still.write_bytes(png_bytes((20, 90, 140), seed=31, size=(320, 200)))
    visit.open("/library", ready=".wb-thumb")
    upload = visit.page.locator(".wb-upload input[type=file]")
    upload.set_input_files(str(still))
    visit.page.locator('.wb-file-added[data-file="harbour-dusk.png"]').wait_for(timeout=30_000)
    # The same picture again, under another name: said so, and the stored one is selected.
    again = tmp_path / "copy-of-harbour.png"
    again.write_bytes(still.read_bytes())
    upload.set_input_files(str(again))
    row = visit.page.locator('.wb-file-duplicate[data-file="copy-of-harbour.png"]')
    row.wait_for(timeout=30_000)
    assert "Already in your library as harbour-dusk.png" in row.inner_text()
    summary = visit.page.locator(".wb-upload-summary")
    summary.wait_for(timeout=10_000)
    assert summary.inner_text() == "1 added · 1 already here"  # the batch at a glance (#18 item 3)
    visit.page.locator(".wb-detail-name", has_text="harbour-dusk.png").wait_for(timeout=15_000)
    # Why this result (#17 part 6): hovering a still says what the embedder saw, with its confidence.
    stored = next(i for i in served.wb.library.list(_me(served), limit=500) if i.filename == "harbour-dusk.png")
    wait_for(lambda: served.wb.library.get(_me(served), stored.id).ready, message="the still embedded")
    visit.page.reload()
    thumb = visit.page.locator(f'.wb-thumb[data-id="{stored.id}"]')
    thumb.wait_for(timeout=20_000)
    title = thumb.get_attribute("title") or ""
    name, score = served.wb.library.get(_me(served), stored.id).label_scores[0]
    assert f"Looks like: {name} {score:.2f}" in title, title
    names = [i.filename for i in served.wb.library.list(_me(served), limit=500)]
    assert names.count("harbour-dusk.png") == 1 and "copy-of-harbour.png" not in names
    visit.screenshot("library-duplicate")


def test_add_to_board_offers_recent_boards_and_names_a_new_one(visit: Visit, served: Any) -> None:
    wb, me = served.wb, _me(served)
    older = wb.boards.create(me, "Older board")
    recent = wb.boards.create(me, "Cutting room")
    wb.boards.add_note(me, recent.id, "edited last")
    tagged = [wb.library.ingest(me, png_bytes((150, 20 + n * 30, 60), seed=40 + n), filename=f"rain-{n}.png",
                                tags=["rain"], wait=True) for n in range(2)]
    visit.open("/library", ready=".wb-thumb")
    for image in tagged:
        visit.page.locator(f'.wb-thumb[data-id="{image.id}"]').click(modifiers=["Control"])
    visit.page.get_by_text("2 stills selected").wait_for()  # the panel for both (not the first click's)
    target = visit.page.locator(".wb-board-target select")
    target.wait_for(timeout=20_000)
    labels = target.locator("option").all_inner_texts()
    assert labels[0] == "Cutting room" and labels[-1] == "New board…", labels
    assert labels.index("Cutting room") < labels.index("Older board")
    assert older.id  # (both boards are offered; the one edited last comes first)
    target.select_option(label="New board…")
    name = visit.page.locator(".wb-new-board-name input")
    name.wait_for(timeout=10_000)
    assert name.input_value() == "Rain"
    visit.page.locator(".wb-add-to-board button").click()
    wait_for(lambda: any(b.title == "Rain" for b in wb.boards.list(me)), message="a board named from the tag")
    board = next(b for b in wb.boards.list(me) if b.title == "Rain")
    wait_for(lambda: {i.image_id for i in wb.boards.get(me, board.id).items} == {i.id for i in tagged},
             message="both stills on the new board")
    visit.screenshot("library-add-to-board")
