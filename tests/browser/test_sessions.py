"""Messages reach the person they belong to, pickers keep same-titled documents apart, failures say why.

Several browser contexts at once (an owner and link guests, each their own
Bokeh session) against the served app; what was stored is checked through the
service layer.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import Visit
from tests.helpers import wait_for

pytestmark = pytest.mark.browser

GONE = "no longer opens a board"  # the boards domain's message for a revoked or expired link
BANNER = "revoked by its owner"




def _messages(visit: Visit) -> list[str]:
    """Every notification this browser session has shown so far."""
    return [str(t) for t in visit.page.locator(".notyf__message").all_inner_texts()]


def _board(served: Any, title: str) -> Any:
    wb = served.wb
    me = wb.accounts.local_user()
    board = wb.boards.create(me, title)
    for n, image in enumerate(wb.library.list(me, scope="all", limit=2)):
        wb.boards.add_image(me, board.id, image.id, x=40 + n * 320, y=60)
    return board


def _open_board(visit: Visit, path: str) -> None:
    visit.open(path, ready=".wb-board[data-ready='1']")
    visit.page.wait_for_timeout(400)  # the canvas fits the board into view on first draw


def _drag(visit: Visit, item_id: str, dx: float, dy: float) -> None:
    card = visit.page.locator(f'.wb-card[data-id="{item_id}"]')
    card.wait_for(state="visible", timeout=20_000)
    box = card.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 3
    visit.page.mouse.move(x, y)
    visit.page.mouse.down()
    visit.page.mouse.move(x + dx / 2, y + dy / 2, steps=5)
    visit.page.mouse.move(x + dx, y + dy, steps=5)
    visit.page.mouse.up()


def test_a_revoked_guest_is_told_and_the_owner_is_not(visit: Visit, second_visit: Visit, served: Any) -> None:
    wb = served.wb
    me = wb.accounts.local_user()
    board = _board(served, "Revoked while open")
    link, token = wb.boards.create_link(me, board.id, "edit")
    _open_board(visit, f"/board?id={board.id}")
    _open_board(second_visit, f"/board?token={token}")
    assert second_visit.page.locator(".wb-board.read-only").count() == 0

    visit.page.locator(f'.wb-link-row[data-link="{link.id}"]').wait_for(timeout=20_000)
    visit.page.locator("button", has_text="Revoke").click()  # the board's only active link
    # The guest's open page learns it at once: a banner, a notification, and a read-only canvas.
    banner = second_visit.page.locator(".wb-banner")
    banner.wait_for(timeout=20_000)
    assert BANNER in banner.inner_text()
    wait_for(lambda: any(GONE in m for m in _messages(second_visit)), message="the guest's notification")
    second_visit.page.locator(".wb-board.read-only").wait_for(timeout=10_000)
    second_visit.screenshot("sessions-revoked-guest")
    # The owner hears only their own confirmation, never the guest's error.
    wait_for(lambda: any("no longer opens this board" in m for m in _messages(visit)), message="the owner's note")
    visit.page.wait_for_timeout(1500)
    assert not any(GONE in m for m in _messages(visit)), _messages(visit)
    assert visit.page.locator(".wb-banner").count() == 0
    visit.screenshot("sessions-revoking-owner")


def test_an_edit_guest_moving_a_card_is_not_told_about_another_guests_revoked_link(
        visit: Visit, second_visit: Visit, chromium: Any, served: Any) -> None:
    wb = served.wb
    me = wb.accounts.local_user()
    board = _board(served, "Two guests")
    item = wb.boards.get(me, board.id).items[0]
    viewer_link, viewer_token = wb.boards.create_link(me, board.id, "view")
    _, editor_token = wb.boards.create_link(me, board.id, "edit")
    viewer = Visit(chromium, served.url)
    try:
        _open_board(viewer, f"/board?token={viewer_token}")
        wb.boards.revoke_link(me, board.id, viewer_link.id)
        viewer.page.locator(".wb-banner").wait_for(timeout=20_000)
        shown_to_viewer = len(_messages(viewer))

        _open_board(second_visit, f"/board?token={editor_token}")
        _drag(second_visit, item.id, 160, 90)
        wait_for(lambda: next(i for i in wb.boards.get(me, board.id).items if i.id == item.id).x != item.x,
                  message="the edit guest's move to be stored")
        second_visit.page.wait_for_timeout(1500)
        assert not any(GONE in m or "revoked" in m for m in _messages(second_visit)), _messages(second_visit)
        assert second_visit.page.locator(".wb-banner").count() == 0
        # The dead link's page is not told again for every change others make.
        assert len(_messages(viewer)) == shown_to_viewer
        assert not any(GONE in m for m in _messages(visit))
    finally:
        viewer.close()


def test_a_revoked_guests_export_says_why(second_visit: Visit, served: Any) -> None:
    wb = served.wb
    me = wb.accounts.local_user()
    board = _board(served, "Export after revoke")
    link, token = wb.boards.create_link(me, board.id, "view")
    _open_board(second_visit, f"/board?token={token}")
    wb.boards.revoke_link(me, board.id, link.id)
    second_visit.page.locator(".wb-banner").wait_for(timeout=20_000)
    before = len(_messages(second_visit))

    downloads: list[Any] = []
    second_visit.page.on("download", lambda download: downloads.append(download))
    second_visit.page.locator(".wb-export-pdf").get_by_text("Export PDF").click()
    wait_for(lambda: len(_messages(second_visit)) > before, message="the export's reason")
    assert GONE in _messages(second_visit)[-1]
    second_visit.page.locator(".wb-export-pdf").get_by_text("Export PDF").wait_for(timeout=10_000)
    second_visit.page.wait_for_timeout(800)
    assert downloads == []
    assert not second_visit.errors, second_visit.errors
    second_visit.screenshot("sessions-revoked-export")


def test_two_screenplays_with_one_title_stay_apart(visit: Visit, served: Any) -> None:
    wb = served.wb
    me = wb.accounts.local_user()
    first = wb.writing.create(me, "screenplay", "Drafted twice", "INT. FERRY - NIGHT\n\nThe first draft.\n")
    second = wb.writing.create(me, "screenplay", "Drafted twice", "EXT. PIER - DAWN\n\nThe second draft.\n")
    visit.open("/writing")
    visit.page.locator(".bk-tab", has_text="Screenplay").click()
    picker = visit.page.locator(".wb-script-picker select")
    picker.wait_for()
    labels = [t for t in picker.locator("option").all_inner_texts() if t.startswith("Drafted twice")]
    assert len(labels) == 2 and len(set(labels)) == 2, labels
    editor = visit.page.locator(".wb-editor")
    for doc, label in ((second, labels[0]), (first, labels[1]), (second, labels[0])):
        picker.select_option(label=label)
        wait_for(lambda doc=doc: editor.input_value() == doc.body, message=f"{label} in the editor")
        visit.page.wait_for_timeout(1200)  # it stays: no flip back to the other draft
        assert editor.input_value() == doc.body
    assert not _messages(visit), _messages(visit)
    visit.screenshot("sessions-same-title-scripts")
