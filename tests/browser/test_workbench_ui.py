"""The web workbench in a real browser: library, boards, sharing, writing, exports, and no CDN.

Each test drives Debian's Chromium through Playwright against the served app
and checks the result through the service layer (the same process owns the
database), never through the page alone.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from tests.browser.conftest import Visit
from tests.helpers import png_bytes, sample_bytes, wait_for

pytestmark = pytest.mark.browser

HOSTILE = "<img src=x onerror=alert(1)>"
PAGES = ("library", "boards", "writing", "magic", "account")


def _me(served):  # noqa: ANN001, ANN202
    return served.wb.accounts.local_user()


def _board_with_images(served, title: str, count: int = 2):  # noqa: ANN001, ANN202
    wb, me = served.wb, _me(served)
    board = wb.boards.create(me, title)
    images = wb.library.list(me, scope="all", limit=count)
    for n, image in enumerate(images):
        wb.boards.add_image(me, board.id, image.id, x=40 + n * 320, y=60)
    return board


def _card_box(visit: Visit, item_id: str) -> dict:
    card = visit.page.locator(f'.wb-card[data-id="{item_id}"]')
    card.wait_for(state="visible", timeout=20_000)
    return card.bounding_box()


def _drag(visit: Visit, item_id: str, dx: float, dy: float) -> None:
    box = _card_box(visit, item_id)
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 3
    mouse = visit.page.mouse
    mouse.move(x, y)
    mouse.down()
    mouse.move(x + dx / 2, y + dy / 2, steps=5)
    mouse.move(x + dx, y + dy, steps=5)
    mouse.up()


def _item(served, board_id: str, item_id: str):  # noqa: ANN001, ANN202
    view = served.wb.boards.get(_me(served), board_id)
    return next(i for i in view.items if i.id == item_id)




def test_every_page_renders_from_this_machine_alone(visit: Visit, served) -> None:  # noqa: ANN001
    board = _board_with_images(served, "Screenshot board", count=4)
    served.wb.boards.add_note(_me(served), board.id, "INT. HARBOUR - NIGHT\nFog rolls in.", x=40, y=330)
    for name in PAGES:
        visit.open(f"/{name}")
        visit.page.wait_for_timeout(1200)
        assert visit.page.locator(".wb-nav-link.active").inner_text() != ""
        assert visit.page.locator(".wb-balance").is_visible()
        assert "Traceback" not in visit.page.content()
        visit.screenshot(name)
    visit.open(f"/board?id={board.id}", ready=".wb-board[data-ready='1']")
    visit.page.wait_for_timeout(1500)
    visit.screenshot("board")
    assert visit.foreign_hosts() == set()
    assert any("/static/js/bokeh" in url for url in visit.requests), "Bokeh JS must come from this server"
    assert not visit.errors, visit.errors


def test_upload_two_stills_and_see_them_in_the_grid(visit: Visit, served, tmp_path: Path) -> None:  # noqa: ANN001
    first, second, broken = tmp_path / "red-alley.png", tmp_path / "blue-dock.png", tmp_path / "not-a-picture.png"
    first.write_bytes(png_bytes((200, 40, 40), seed=11))
    second.write_bytes(png_bytes((30, 60, 210), seed=12))
    broken.write_bytes(b"this is a screenplay, not a picture")
    visit.open("/library", ready=".wb-thumb")
    visit.page.locator(".wb-upload input[type=file]").set_input_files([str(first), str(second), str(broken)])
    for name in ("red-alley.png", "blue-dock.png"):
        visit.page.locator(f'.wb-file-added[data-file="{name}"]').wait_for(timeout=30_000)
        visit.page.locator(".wb-thumb-title", has_text=name).first.wait_for(timeout=15_000)
    failed = visit.page.locator('.wb-file-error[data-file="not-a-picture.png"]')
    failed.wait_for(timeout=15_000)
    assert failed.locator(".wb-file-why").inner_text().strip() != ""
    names = {i.filename for i in served.wb.library.list(_me(served), limit=100)}
    assert {"red-alley.png", "blue-dock.png"} <= names
    assert "not-a-picture.png" not in names
    visit.screenshot("library-upload")


def test_search_by_words_and_by_picture(visit: Visit, tmp_path: Path) -> None:
    visit.open("/library", ready=".wb-thumb")
    box = visit.page.get_by_placeholder("Search by words", exact=False)
    box.fill("cat")
    box.press("Enter")
    visit.page.get_by_text("results for", exact=False).wait_for(timeout=15_000)
    assert "cat" in visit.page.locator(".wb-thumb-title").first.inner_text().lower()
    visit.screenshot("library-search-text")

    visit.page.get_by_text("Back to the library").click()
    visit.page.get_by_text("images", exact=False).first.wait_for()
    query = tmp_path / "coffee-query.png"
    query.write_bytes(sample_bytes("coffee.png"))
    visit.page.locator(".wb-picture-search input[type=file]").set_input_files(str(query))
    visit.page.get_by_text("the picture you dropped", exact=False).wait_for(timeout=20_000)
    assert "coffee" in visit.page.locator(".wb-thumb-title").first.inner_text().lower()


def test_a_dragged_card_stays_where_it_was_dropped(visit: Visit, served) -> None:  # noqa: ANN001
    board = _board_with_images(served, "Drag test")
    item = served.wb.boards.get(_me(served), board.id).items[0]
    visit.open(f"/board?id={board.id}", ready=".wb-board[data-ready='1']")
    visit.page.wait_for_timeout(500)  # the canvas fits the board into view on first draw
    card = visit.page.locator(f'.wb-card[data-id="{item.id}"]')

    def position() -> tuple[float, float]:
        now = _item(served, board.id, item.id)
        return now.x, now.y

    _drag(visit, item.id, 180, 120)
    wait_for(lambda: position() != (item.x, item.y), message="the drop to reach the database")
    moved = _item(served, board.id, item.id)
    assert moved.x > item.x and moved.y > item.y

    # Undo (Ctrl+Z on the canvas) puts it back, in the database and on screen.
    visit.page.keyboard.press("Control+z")
    wait_for(lambda: position() == (item.x, item.y), message="undo to restore the position")
    wait_for(lambda: card.evaluate("n => n.style.left") == f"{item.x:g}px", message="the card to move back")
    visit.page.keyboard.press("Control+Shift+z")
    wait_for(lambda: position() == (moved.x, moved.y), message="redo to move it again")

    visit.page.reload()
    visit.page.wait_for_selector(".wb-board[data-ready='1']")
    assert card.evaluate("n => [n.style.left, n.style.top]") == [f"{moved.x:g}px", f"{moved.y:g}px"]


def test_delete_key_and_undo_on_the_canvas(visit: Visit, served) -> None:  # noqa: ANN001
    board = _board_with_images(served, "Keyboard test")
    item = served.wb.boards.get(_me(served), board.id).items[0]
    visit.open(f"/board?id={board.id}", ready=".wb-board[data-ready='1']")
    visit.page.locator(f'.wb-card[data-id="{item.id}"]').click()
    visit.page.keyboard.press("Delete")
    wait_for(lambda: len(served.wb.boards.get(_me(served), board.id).items) == 1, message="the card to be removed")
    visit.page.keyboard.press("Control+z")
    wait_for(lambda: len(served.wb.boards.get(_me(served), board.id).items) == 2, message="undo to bring it back")
    visit.page.locator(f'.wb-card[data-id="{item.id}"]').wait_for()


def test_a_view_only_link_cannot_move_cards(visit: Visit, second_visit: Visit, served) -> None:  # noqa: ANN001
    board = _board_with_images(served, "Shared look book")
    item = served.wb.boards.get(_me(served), board.id).items[0]
    visit.open(f"/board?id={board.id}", ready=".wb-board[data-ready='1']")
    visit.page.get_by_text("Create share link").click()
    url_field = visit.page.locator(".wb-share-url input")
    url_field.wait_for(timeout=15_000)
    url = url_field.input_value()
    assert "/board?token=" in url
    assert url.startswith(served.url)

    second_visit.page.goto(url)
    second_visit.page.wait_for_selector(".wb-board[data-ready='1']", timeout=30_000)
    assert second_visit.page.locator(".wb-board.read-only").count() == 1
    assert "token=" in second_visit.page.url  # the address names the open board
    _drag(second_visit, item.id, 200, 150)
    second_visit.page.wait_for_timeout(1500)
    after = _item(served, board.id, item.id)
    assert (after.x, after.y) == (item.x, item.y)
    second_visit.page.reload()
    second_visit.page.wait_for_selector(".wb-board[data-ready='1']")
    style = second_visit.page.locator(f'.wb-card[data-id="{item.id}"]').evaluate("n => [n.style.left, n.style.top]")
    assert style == [f"{item.x:g}px", f"{item.y:g}px"]
    second_visit.screenshot("board-view-only")
    assert not second_visit.foreign_hosts()


def test_an_offline_idea_goes_onto_a_board(visit: Visit, served) -> None:  # noqa: ANN001
    board = served.wb.boards.create(_me(served), "Idea wall")
    visit.open("/writing", ready=".wb-premise textarea")
    visit.page.locator(".wb-premise textarea").fill("A projectionist finds a reel that shows tomorrow")
    # Earlier tests may have left idea cards: this test works on the cards its own click makes.
    before = {d.id for d in served.wb.writing.list(_me(served)) if d.kind == "idea"}
    visit.page.get_by_text("Generate ideas", exact=False).click()
    wait_for(lambda: any(d.kind == "idea" and d.id not in before for d in served.wb.writing.list(_me(served))),
             timeout=30, message="new idea cards")
    new = next(d.id for d in served.wb.writing.list(_me(served)) if d.kind == "idea" and d.id not in before)
    card = visit.page.locator(f'.wb-idea[data-doc="{new}"]')
    card.wait_for(timeout=30_000)
    assert card.locator(".wb-badge.offline").count() == 1
    title = served.wb.writing.get(_me(served), new).title
    visit.screenshot("writing-ideas")
    # One board picker and one Send button per card, in the cards' order.
    docs = [visit.page.locator(".wb-idea").nth(i).get_attribute("data-doc")
            for i in range(visit.page.locator(".wb-idea").count())]
    index = docs.index(new)
    visit.page.locator(".wb-idea-target select").nth(index).select_option(label="Idea wall")
    visit.page.locator(".wb-send").nth(index).click()
    wait_for(lambda: any(title in i.text for i in served.wb.boards.get(_me(served), board.id).items),
              message="the idea to be pinned on the board")


def test_export_zip_and_pdf_downloads_open(visit: Visit, served, tmp_path: Path) -> None:  # noqa: ANN001
    board = _board_with_images(served, "Export me")
    served.wb.boards.add_note(_me(served), board.id, "A note for the export", x=40, y=400)
    visit.open(f"/board?id={board.id}", ready=".wb-board[data-ready='1']")
    with visit.page.expect_download(timeout=30_000) as zipped:
        visit.page.locator(".wb-export-zip").get_by_text("Export ZIP").click()
    path = tmp_path / "board.zip"
    zipped.value.save_as(path)
    with zipfile.ZipFile(path) as archive:
        assert "board.json" in archive.namelist()
        assert "A note for the export" in archive.read("notes.md").decode()
    with visit.page.expect_download(timeout=60_000) as printed:
        visit.page.locator(".wb-export-pdf").get_by_text("Export PDF").click()
    pdf = tmp_path / "board.pdf"
    printed.value.save_as(pdf)
    from pypdf import PdfReader

    assert len(PdfReader(io.BytesIO(pdf.read_bytes())).pages) >= 1


def test_hostile_text_renders_as_text(visit: Visit, served, tmp_path: Path) -> None:  # noqa: ANN001
    wb, me = served.wb, _me(served)
    board = wb.boards.create(me, f"Board {HOSTILE}")
    image = wb.library.ingest(me, png_bytes((90, 90, 20), seed=21), filename=f"{HOSTILE}.png", caption=HOSTILE)
    wb.boards.add_image(me, board.id, image.id, x=0, y=0, caption=HOSTILE)
    wb.boards.add_note(me, board.id, HOSTILE, x=340, y=0)
    wb.boards.add_heading(me, board.id, HOSTILE, x=0, y=-80)
    for path in (f"/board?id={board.id}", "/boards", "/library"):
        visit.open(path)
        visit.page.wait_for_timeout(1500)
        assert visit.page.locator("img[src='x']").count() == 0
        assert visit.page.get_by_text(HOSTILE, exact=False).count() >= 1
    doc = wb.writing.create(me, "screenplay", "Hostile script", f"INT. LAB - NIGHT\n\n{HOSTILE}\n\nMAE\n{HOSTILE}\n")
    visit.open("/writing")
    visit.page.locator(".bk-tab", has_text="Screenplay").click()
    visit.page.locator(".wb-preview").get_by_text(HOSTILE, exact=False).first.wait_for(timeout=15_000)
    assert visit.page.locator("img[src='x']").count() == 0
    assert doc.id
    assert not visit.dialogs, visit.dialogs


def test_continue_scene_streams_into_the_editor(visit: Visit, served) -> None:  # noqa: ANN001
    wb, me = served.wb, _me(served)
    doc = wb.writing.create(me, "screenplay", "Stream test", "INT. DINER - NIGHT\n\nRain on the glass.\n\nMAE\nMore coffee?\n")
    visit.open("/writing")
    visit.page.locator(".bk-tab", has_text="Screenplay").click()
    visit.page.locator(".wb-editor").wait_for()
    visit.page.locator(".wb-script-picker select").select_option(label="Stream test")
    editor = visit.page.locator(".wb-editor")
    wait_for(lambda: "More coffee" in editor.input_value(), message="the script to load in the editor")
    before = wb.writing.get(me, doc.id).version
    visit.page.get_by_text("Continue scene", exact=False).click()
    wait_for(lambda: wb.writing.get(me, doc.id).version > before, timeout=30, message="the continued scene to be saved")
    longer = wb.writing.get(me, doc.id).body
    assert len(longer) > len("INT. DINER - NIGHT\n\nRain on the glass.\n\nMAE\nMore coffee?\n")
    visit.screenshot("writing-screenplay")


def test_rewrite_selection_streams_over_the_selected_lines(visit: Visit, served) -> None:  # noqa: ANN001
    wb, me = served.wb, _me(served)
    body = "INT. HALL - DAY\n\nShe walks very slowly down the really long hall.\n\nTHE END\n"
    doc = wb.writing.create(me, "screenplay", "Rewrite test", body)
    visit.open("/writing")
    visit.page.locator(".bk-tab", has_text="Screenplay").click()
    visit.page.locator(".wb-editor").wait_for()
    visit.page.locator(".wb-script-picker select").select_option(label="Rewrite test")
    editor = visit.page.locator(".wb-editor")
    wait_for(lambda: "really long hall" in editor.input_value(), message="the script to load in the editor")
    start, end = body.index("She"), body.index("hall.") + len("hall.")
    editor.evaluate(f"(el) => {{ el.focus(); el.setSelectionRange({start}, {end}); "
                    "el.dispatchEvent(new Event('select')); el.dispatchEvent(new KeyboardEvent('keyup')); }")
    visit.page.wait_for_timeout(300)
    visit.page.get_by_text("Rewrite selection", exact=False).click()
    wait_for(lambda: wb.writing.get(me, doc.id).version > 1, timeout=30, message="the rewrite to be saved")
    saved = wb.writing.get(me, doc.id).body
    assert saved.startswith("INT. HALL - DAY\n\n") and saved.endswith("\n\nTHE END\n")
    assert "really long hall" not in saved
    wait_for(lambda: editor.input_value() == saved, message="the editor to show the saved rewrite")


def test_magic_board_shows_its_price_and_opens_the_new_board(visit: Visit, served) -> None:  # noqa: ANN001
    visit.open("/magic", ready=".wb-pitch textarea")
    visit.page.locator(".wb-pitch textarea").fill("A ferry crosses the harbour at night. A girl finds a camera.")
    cost = visit.page.locator(".wb-cost")
    cost.wait_for(timeout=10_000)
    assert int(cost.get_attribute("data-credits")) > 0
    visit.page.get_by_text("Make the board").click()
    visit.page.wait_for_url("**/board?id=*", timeout=60_000)
    visit.page.wait_for_selector(".wb-board[data-ready='1']", timeout=30_000)
    assert int(visit.page.locator(".wb-board").get_attribute("data-count")) >= 2


def test_select_stills_tag_one_and_add_them_to_a_board(visit: Visit, served) -> None:  # noqa: ANN001
    wb, me = served.wb, _me(served)
    board = wb.boards.create(me, "Location scout")
    mine = [wb.library.ingest(me, png_bytes((20 * n, 120, 90), seed=40 + n), filename=f"scout-{n}.png", wait=True)
            for n in range(2)]
    visit.open("/library", ready=".wb-thumb")
    for image in mine:
        visit.page.locator(f'.wb-thumb[data-id="{image.id}"]').click(modifiers=["Control"])
    visit.page.get_by_text("2 stills selected").wait_for()
    visit.page.locator(".wb-board-target select").select_option(label="Location scout")
    visit.page.locator(".wb-add-to-board").get_by_text("Add 2 to board").click()
    wait_for(lambda: {i.image_id for i in wb.boards.get(me, board.id).items} == {i.id for i in mine},
              message="both stills on the board")

    visit.page.locator(f'.wb-thumb[data-id="{mine[1].id}"]').click(modifiers=["Control"])
    tags = visit.page.locator(".wb-tags input")
    tags.wait_for()
    tags.fill("dusk, harbour")
    tags.press("Enter")
    wait_for(lambda: wb.library.get(me, mine[0].id).tags == ["dusk", "harbour"], message="the tags to be saved")


def test_drag_a_suggestion_in_and_edit_a_note_inline(visit: Visit, served) -> None:  # noqa: ANN001
    wb, me = served.wb, _me(served)
    board = _board_with_images(served, "Suggestions test", count=1)
    note = wb.boards.add_note(me, board.id, "First draft of a note", x=40, y=320, w=260, h=120)
    visit.open(f"/board?id={board.id}", ready=".wb-board[data-ready='1']")
    suggestion = visit.page.locator(".wb-thumb").first
    suggestion.wait_for(timeout=20_000)
    suggested = suggestion.get_attribute("data-id")
    suggestion.drag_to(visit.page.locator(".wb-viewport"), target_position={"x": 600, "y": 300})
    wait_for(lambda: any(i.image_id == suggested for i in wb.boards.get(me, board.id).items),
              message="the dragged suggestion to land on the board")

    visit.page.locator(f'.wb-card[data-id="{note.id}"]').dblclick()
    field = visit.page.locator(".wb-card textarea.wb-edit")
    field.fill("Rewritten on the canvas")
    field.press("Control+Enter")
    wait_for(lambda: _item(served, board.id, note.id).text == "Rewritten on the canvas", message="the note edit")
