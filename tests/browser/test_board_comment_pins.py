"""Comments pinned on the canvas and the board's history, in two browsers (issue #20).

An edit-link guest drops a comment on an empty spot of the board; the owner's
canvas shows its numbered marker without a reload, and a click on the marker
puts the thread on top of the Comments panel, outlined. A comment written with
the keyboard (C on a selected card, Enter posts; Escape cancels) pins to the
card's corner. The History tab lists a drag in words, and "Restore to here"
(confirmed) brings back a card removed since, on both pages; one Undo takes the
restore back. Waits are hang guards, not speed checks.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import Visit
from tests.browser.test_co_editing import drag, open_both, until
from tests.helpers import wait_for

pytestmark = pytest.mark.browser


def empty_spot(visit: Visit) -> tuple[float, float]:
    """A point of the viewport with no card, marker or form under it (the lower right, where fit leaves room)."""
    box = visit.page.locator(".wb-viewport").bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] - 220, box["y"] + box["height"] - 160
    under = visit.page.evaluate("([x, y]) => { const n = document.elementFromPoint(x, y);"
                                " return n ? n.className : ''; }", [x, y])
    assert "wb-card" not in str(under) and "wb-pin" not in str(under), under
    return x, y


def test_a_spot_comment_shows_a_marker_for_the_other_person_and_opens_its_thread(
        visit: Visit, second_visit: Visit, served: Any) -> None:
    wb, me, board, items = open_both(visit, second_visit, served, "Pins on the pier")
    for page in (visit, second_visit):
        page.page.evaluate("() => { window.__sameWindow = true; }")

    # The guest picks the Comment tool and clicks an empty spot: a small form opens there.
    second_visit.page.locator(".wb-comment-tool").click()
    assert second_visit.page.locator(".wb-pin-banner.on").count() == 1
    x, y = empty_spot(second_visit)
    second_visit.page.mouse.click(x, y)
    field = second_visit.page.locator(".wb-pin-form textarea")
    field.wait_for(state="visible", timeout=10_000)
    assert second_visit.page.locator(".wb-pin.pending").count() == 1  # where it will pin
    hostile = "<b>Move</b> the crane here? <img src=x onerror=alert(1)>"
    field.fill(hostile)
    second_visit.screenshot("comment-pins-form")
    field.press("Enter")
    wait_for(lambda: len(wb.boards.comments.list(me, board.id)) == 1, message="the spot comment to be stored")
    (thread,) = wb.boards.comments.list(me, board.id)
    assert thread.item_id is None and thread.x is not None and thread.y is not None and thread.text == hostile
    assert second_visit.page.locator(".wb-pin-form").count() == 0

    # The owner's canvas shows marker 1 at that spot, the words as text only.
    marker = visit.page.locator(f'.wb-pin[data-thread="{thread.id}"]')
    until(visit, lambda: marker.count() == 1, message="the guest's marker on the owner's canvas")
    assert marker.inner_text() == "1" and hostile in (marker.get_attribute("title") or "")
    assert visit.page.locator(".wb-pins img, .wb-pins b").count() == 0
    left, top = marker.evaluate("n => [parseFloat(n.style.left), parseFloat(n.style.top)]")
    assert (round(left), round(top)) == (round(thread.x), round(thread.y))  # board coordinates, not the screen's

    # A second, older-looking thread on the board as a whole, then the owner clicks marker 1: its thread goes on top.
    wb.boards.comments.add(me, board.id, "Overall: more haze")
    until(visit, lambda: visit.page.locator(".wb-thread").count() == 2, message="the owner's list to hold both")
    assert visit.page.locator(".wb-thread").first.get_attribute("data-thread") != thread.id  # newest first
    marker.click()
    focused = visit.page.locator(".wb-thread.focused")
    until(visit, lambda: focused.count() == 1 and focused.get_attribute("data-thread") == thread.id,
          message="the marker's thread outlined in the panel")
    assert visit.page.locator(".wb-thread").first.get_attribute("data-thread") == thread.id
    assert hostile in focused.inner_text() and focused.locator("img, b").count() == 0
    assert "wb-pin focused" in (marker.get_attribute("class") or "")
    visit.screenshot("comment-pins-owner-marker-open")

    # The owner selects the note and presses C: the form pins to the card; Escape cancels, C again and Enter posts.
    note = next(i for i in items if i.kind == "note")
    visit.page.locator(f'.wb-card[data-id="{note.id}"]').click()
    visit.page.keyboard.press("c")
    form = visit.page.locator(".wb-pin-form textarea")
    form.wait_for(state="visible", timeout=10_000)
    assert visit.page.locator(".wb-pin-form-title").inner_text() == "Comment on this card"
    form.fill("Not this")
    form.press("Escape")
    assert visit.page.locator(".wb-pin-form").count() == 0 and len(wb.boards.comments.list(me, board.id)) == 2
    visit.page.keyboard.press("c")
    form.fill("Fog thicker on this one")
    form.press("Enter")
    wait_for(lambda: len(wb.boards.comments.list(me, board.id)) == 3, message="the card comment to be stored")
    on_card = next(t for t in wb.boards.comments.list(me, board.id) if t.item_id == note.id)
    guest_marker = second_visit.page.locator(f'.wb-pin.on-card[data-thread="{on_card.id}"]')
    until(second_visit, lambda: guest_marker.count() == 1, message="the card's marker on the guest's canvas")
    assert guest_marker.inner_text() == "3"  # threads are numbered as started, the board-wide one is #2

    # The marker sits on the card's corner and follows the card when it moves.
    def corner_gap() -> float:  # the canvas lives in a shadow root: read both through locators
        left, top, width = second_visit.page.locator(f'.wb-card[data-id="{note.id}"]').evaluate(
            "n => [parseFloat(n.style.left), parseFloat(n.style.top), parseFloat(n.style.width)]")
        x, y = guest_marker.evaluate("n => [parseFloat(n.style.left), parseFloat(n.style.top)]")
        return float(abs(x - (left + width)) + abs(y - top))
    assert corner_gap() < 1
    drag(visit, note.id, 120, 40)
    until(second_visit, lambda: second_visit.page.locator(f'.wb-card[data-id="{note.id}"]').evaluate(
        "n => n.style.left") != f"{note.x:g}px", message="the guest to see the note move")
    until(second_visit, lambda: corner_gap() < 1, message="the marker to follow its card")
    second_visit.screenshot("comment-pins-guest-markers")

    # Alt+click is the quick way in (Escape leaves it); zoomed out, markers keep their size on screen.
    x, y = empty_spot(visit)
    visit.page.keyboard.down("Alt")
    visit.page.mouse.click(x, y)
    visit.page.keyboard.up("Alt")
    visit.page.locator(".wb-pin-form textarea").wait_for(state="visible", timeout=10_000)
    assert visit.page.locator(".wb-pin-form-title").inner_text() == "Comment on this spot"
    visit.page.locator(".wb-pin-form textarea").press("Escape")
    assert visit.page.locator(".wb-pin-form").count() == 0 and visit.page.locator(".wb-pin.pending").count() == 0
    before = marker.bounding_box()
    for _ in range(3):
        visit.page.keyboard.press("-")
    until(visit, lambda: visit.page.locator(".wb-zoom").inner_text() == "51%", message="the zoom out")
    after = marker.bounding_box()
    assert before is not None and after is not None and abs(after["height"] - before["height"]) < 2
    visit.screenshot("comment-pins-zoomed-out")

    # "Show spot" in the panel brings the marker to the middle of the canvas.
    visit.page.locator(f'.wb-thread[data-thread="{thread.id}"]').wait_for(timeout=10_000)
    visit.page.locator(".wb-show-spot button").first.click()
    view = visit.page.locator(".wb-viewport").bounding_box()
    assert view is not None

    def off_centre() -> float:
        box = marker.bounding_box()
        if box is None:
            return 1e9
        return abs(box["x"] - (view["x"] + view["width"] / 2)) + abs(box["y"] + box["height"] - (view["y"] + view["height"] / 2))
    until(visit, lambda: off_centre() < 4, message="the spot brought to the middle of the view")

    # Resolving a thread takes its marker off both canvases.
    wb.boards.comments.resolve(me, board.id, thread.id)
    for page in (visit, second_visit):
        until(page, lambda page=page: page.page.locator(f'.wb-pin[data-thread="{thread.id}"]').count() == 0,
              message="the resolved thread's marker to go")
    assert all(page.page.evaluate("() => window.__sameWindow === true") for page in (visit, second_visit))
    assert not visit.errors and not second_visit.errors


def test_history_lists_a_move_and_restore_brings_a_removed_card_back(
        visit: Visit, second_visit: Visit, served: Any) -> None:
    wb, me, board, items = open_both(visit, second_visit, served, "Takes and retakes")
    still, other = items[0], items[1]
    drag(visit, still.id, 140, 60)
    wait_for(lambda: next(i for i in wb.boards.get(me, board.id).items if i.id == still.id).x != still.x,
             message="the drag to be stored")
    moved_at = wb.boards.get(me, board.id).board.revision
    wb.boards.remove_items(me, board.id, [other.id])  # e.g. from a notebook
    until(visit, lambda: visit.page.locator(f'.wb-card[data-id="{other.id}"]').count() == 0,
          message="the removed card to leave the owner's canvas")

    visit.page.locator(".bk-tab", has_text="History").click()
    move = visit.page.locator(f'.wb-event[data-seq="{moved_at}"]')
    until(visit, lambda: move.count() == 1, message="the move in the history")
    assert "moved a card" in move.inner_text()
    events = visit.page.locator(".wb-event")
    assert "removed a card" in events.first.inner_text()  # newest first
    visit.screenshot("board-history")

    # Restore to right after the move: asked first; Cancel changes nothing, Restore brings the card back.
    seqs = [events.nth(n).get_attribute("data-seq") for n in range(events.count())]
    restore = visit.page.locator(".wb-restore button").nth(seqs.index(str(moved_at)) - 1)  # the newest has none
    restore.click()
    confirm = visit.page.locator(".wb-confirm")
    confirm.wait_for(state="visible", timeout=10_000)
    assert "moved a card" in confirm.inner_text()
    visit.screenshot("board-history-confirm")
    visit.page.locator(".wb-restore-no button").click()
    until(visit, lambda: visit.page.locator(".wb-confirm").count() == 0, message="the question to close")
    assert other.id not in {i.id for i in wb.boards.get(me, board.id).items}
    restore.click()
    visit.page.locator(".wb-restore-yes button").click()
    wait_for(lambda: other.id in {i.id for i in wb.boards.get(me, board.id).items}, message="the restore")
    for page in (visit, second_visit):
        until(page, lambda page=page: page.page.locator(f'.wb-card[data-id="{other.id}"]').count() == 1,
              message="the card back on both canvases")
    until(visit, lambda: "restored the board" in events.first.inner_text(), message="the restore in the history")
    assert visit.page.locator(".wb-event").count() >= 4  # the history stays open and follows

    # One step: Undo takes the restore back.
    visit.page.locator(".wb-board").focus()
    visit.page.keyboard.press("Control+z")
    wait_for(lambda: other.id not in {i.id for i in wb.boards.get(me, board.id).items}, message="undo of the restore")
    until(second_visit, lambda: second_visit.page.locator(f'.wb-card[data-id="{other.id}"]').count() == 0,
          message="the guest to see the undo")
    # The edit-link guest may restore too; a view link could not (the boards domain's rule).
    second_visit.page.locator(".bk-tab", has_text="History").click()
    until(second_visit, lambda: second_visit.page.locator(".wb-restore button").count() > 0,
          message="the guest's history with restore buttons")
    assert not visit.errors and not second_visit.errors
