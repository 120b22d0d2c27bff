"""The first hour on the boards (#18): finding a board among many, styling cards on the canvas,
naming the board in place, storyboard numbers and match scores, replacing a frame's still,
export file names, and what the share panel says about reaching this machine; the page says the
board's name once, its toolbar is one row, Share brings the share panel into view, and the pin box
is unticked until a card is selected.

Each gesture is made in Debian's Chromium and its result read back through the service layer.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Visit
from tests.helpers import wait_for

pytestmark = pytest.mark.browser


def _me(served):  # noqa: ANN001, ANN202
    return served.wb.accounts.local_user()


def _item(served, board_id: str, item_id: str):  # noqa: ANN001, ANN202
    return next(i for i in served.wb.boards.get(_me(served), board_id).items if i.id == item_id)


def _click_card(visit: Visit, item_id: str) -> None:
    card = visit.page.locator(f'.wb-card[data-id="{item_id}"]')
    card.wait_for(state="visible", timeout=20_000)
    box = card.bounding_box()
    visit.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 3)


def test_boards_list_searches_sorts_and_pages(visit: Visit, served) -> None:  # noqa: ANN001
    wb, me = served.wb, _me(served)
    made = [wb.boards.create(me, f"Polish reel {n:02d}") for n in range(30)]
    wb.boards.rename(me, made[4].id, "Polish reel 04 — recut")  # now the last edited
    visit.open("/boards", ready=".wb-board-card")
    page = visit.page
    total = len(wb.boards.list(me))
    assert page.locator(".wb-board-card").count() == 24
    assert page.locator(".wb-board-total").inner_text().strip() == f"1–24 of {total} boards"
    assert page.locator(".wb-board-name").first.inner_text().startswith("Polish reel 04 — recut")
    page.locator(".wb-board-next button").click()
    expect(page.locator(".wb-board-total")).to_have_text(re.compile(rf"^25–\d+ of {total} boards$"))
    page.locator(".wb-board-search input").fill("polish REEL 1")
    expect(page.locator(".wb-board-card")).to_have_count(10)
    names = page.locator(".wb-board-name").all_inner_texts()
    assert sorted(names) == [f"Polish reel {n}" for n in range(10, 20)]
    page.locator(".wb-board-sort select").select_option(label="Title A–Z")
    expect(page.locator(".wb-board-name").first).to_have_text("Polish reel 10")
    assert page.locator(".wb-board-name").all_inner_texts() == [f"Polish reel {n}" for n in range(10, 20)]
    visit.screenshot("boards-search")
    page.locator(".wb-board-search input").fill("no board is called this")
    page.get_by_text("No board matches").wait_for(timeout=10_000)
    assert not visit.errors, visit.errors


def test_colour_caption_rename_numbers_and_replace_a_still(visit: Visit, served) -> None:  # noqa: ANN001
    wb, me = served.wb, _me(served)
    board = wb.boards.create(me, "Ferry storyboard")
    stills = wb.library.list(me, scope="all", limit=3)
    frames = [wb.boards.add_image(me, board.id, s.id, x=n * 360, y=0, w=320, h=180,
                                  caption=f"{n + 1}. {beat}")
              for n, (s, beat) in enumerate(zip(stills[:2], ("A night ferry crosses the harbour.",
                                                             "A girl finds a camera under her seat."), strict=True))]
    note = wb.boards.add_note(me, board.id, "Shot: wide, low angle", x=0, y=240)
    visit.open(f"/board?id={board.id}", ready=".wb-board[data-ready='1']")
    page = visit.page
    # Storyboard numbers in reading order, and each frame says how close its still is to its beat.
    badge = page.locator(f'.wb-card[data-id="{frames[1].id}"] .wb-frame-no')
    badge.wait_for(timeout=20_000)
    assert badge.inner_text() == "2"
    matches = wb.magic.frame_matches(me, board.id)
    shown = page.locator(f'.wb-card[data-id="{frames[0].id}"] .wb-match').inner_text()
    assert shown == f"{round(matches[frames[0].id].score * 100)}% match"

    # Colour a note from the canvas toolbar.
    _click_card(visit, note.id)
    page.locator(".wb-color-tool").click()
    page.locator('.wb-swatch[data-color="#f39c12"]').click()
    wait_for(lambda: _item(served, board.id, note.id).color == "#f39c12", message="the note to turn orange")

    # Caption a picture: select it, Caption, type, Enter.
    _click_card(visit, frames[1].id)
    page.locator(".wb-caption-tool").click()
    field = page.locator(".wb-caption-edit")
    field.fill("2. She finds a camera — close on her hands")
    field.press("Enter")
    wait_for(lambda: _item(served, board.id, frames[1].id).caption.endswith("close on her hands"),
             message="the caption to be saved")

    # Rename and describe the board in place.
    title = page.locator(".wb-board-title-input input")
    title.fill("Ferry storyboard — v2")
    title.press("Enter")
    about = page.locator(".wb-board-description textarea")
    about.fill("Night, fog, one camera.")
    about.press("Tab")
    wait_for(lambda: wb.boards.get(me, board.id).board.title == "Ferry storyboard — v2"
             and wb.boards.get(me, board.id).board.description == "Night, fog, one camera.",
             message="the board to be renamed and described")

    # Replace the first frame's still with a search result for its beat.
    _click_card(visit, frames[0].id)
    page.locator(".wb-replace-tool").click()
    choice = page.locator(".wb-replace-grid .wb-thumb").first
    choice.wait_for(timeout=30_000)
    page.wait_for_timeout(300)
    visit.screenshot("board-replace-still")
    before = frames[0].image_id
    choice.click()
    wait_for(lambda: _item(served, board.id, frames[0].id).image_id != before, message="the still to be replaced")
    assert _item(served, board.id, frames[0].id).caption == frames[0].caption
    page.wait_for_timeout(800)
    visit.screenshot("board-styled")
    assert not visit.errors, visit.errors


def test_one_title_one_toolbar_row_share_pin_and_export_names(visit: Visit, served, tmp_path) -> None:  # noqa: ANN001
    wb, me = served.wb, _me(served)
    board = wb.boards.create(me, "<script>Crème brûlée</script>")
    note = wb.boards.add_note(me, board.id, "Dessert at dawn")
    visit.open(f"/board?id={board.id}", ready=".wb-board[data-ready='1']")
    page = visit.page
    # The board's name is said once: in the title field under the page header, not in the header too.
    assert page.locator(".wb-title").inner_text() == "Board"
    assert page.locator(".wb-board-title-input input").input_value() == board.title
    # One toolbar row: every control on one centre line, the row inside the canvas's width.
    canvas = page.locator(".wb-canvas").bounding_box()
    boxes = [b.bounding_box() for b in page.locator(".wb-board-toolbar button, .wb-board-toolbar input").all()]
    centres = [b["y"] + b["height"] / 2 for b in boxes]
    assert len(boxes) == 7 and max(centres) - min(centres) <= 1.5, centres
    assert max(b["x"] + b["width"] for b in boxes) <= canvas["x"] + canvas["width"] + 1
    # Without a selection the pin box is unticked and greyed, and says what it needs.
    pin = page.locator(".wb-comment-pin input")
    assert not pin.is_checked() and pin.is_disabled()
    assert "select one" in page.locator(".wb-comment-pin .bk-label").inner_text()
    _click_card(visit, note.id)
    expect(pin).to_be_enabled()
    expect(pin).to_be_checked()
    # Share brings the share panel (under the suggestions) into view; a clicked button keeps no focus ring.
    share = page.locator(".wb-share-panel")
    expect(share).not_to_be_in_viewport(timeout=30_000)  # once the suggestions above it are in
    page.locator(".wb-share-button button").click()
    expect(share).to_be_in_viewport()
    ring = page.locator(".wb-share-button button").evaluate("b => [b === b.getRootNode().activeElement,"
                                                            " getComputedStyle(b).outlineStyle]")
    assert ring == [True, "none"]
    with page.expect_download(timeout=60_000) as printed:
        page.locator(".wb-export-pdf").get_by_text("Export PDF").click()
    assert printed.value.suggested_filename == "script Crème brûlée script.pdf"
    # The share panel says this server is only reachable here, and links use the public URL setting.
    assert "only reachable from this computer" in page.locator(".wb-local-only").inner_text()
    page.get_by_text("Create share link").click()
    url = page.locator(".wb-share-url input")
    url.wait_for(timeout=20_000)
    public = wb.settings.server.public_url.rstrip("/")
    assert re.fullmatch(re.escape(public) + r"/board\?token=[\w\-%]+", url.input_value())
    visit.screenshot("board-share-local")

    reserved = wb.boards.create(me, "CON")
    visit.open(f"/board?id={reserved.id}", ready=".wb-board[data-ready='1']")
    with page.expect_download(timeout=60_000) as zipped:
        page.locator(".wb-export-zip").get_by_text("Export ZIP").click()
    assert zipped.value.suggested_filename == "CON-board.zip"
    assert not visit.errors, visit.errors
