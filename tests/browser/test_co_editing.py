"""Two people on one board in two browsers (issue #20): each sees the other's changes without a reload.

The owner (the local user) opens the board by id; a teammate opens it through an
edit link in another browser context. A drag, a note edit and a notebook's change
through the service layer reach the other page by the board's events alone: the
page is never reloaded, and the checks read the other page's DOM. Waits are
generous hang guards, not speed checks (bench/co_editing.py measures the latency).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.conftest import Visit
from tests.helpers import wait_for

pytestmark = pytest.mark.browser

READY = ".wb-board[data-ready='1']"


def until(visit: Visit, check: Callable[[], bool], *, timeout: float = 20.0, message: str = "condition") -> None:
    """Poll a check that reads the page, pumping Playwright between tries (its events only arrive then)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        visit.page.wait_for_timeout(100)
    raise AssertionError(f"timed out waiting for {message}")


def card_place(visit: Visit, item_id: str) -> tuple[str, str]:
    card = visit.page.locator(f'.wb-card[data-id="{item_id}"]')
    if card.count() == 0:
        return ("", "")
    left, top = card.evaluate("n => [n.style.left, n.style.top]")
    return (left, top)


def drag(visit: Visit, item_id: str, dx: float, dy: float) -> None:
    card = visit.page.locator(f'.wb-card[data-id="{item_id}"]')
    card.wait_for(state="visible", timeout=20_000)
    box = card.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 3
    mouse = visit.page.mouse
    mouse.move(x, y)
    mouse.down()
    mouse.move(x + dx / 2, y + dy / 2, steps=5)
    mouse.move(x + dx, y + dy, steps=5)
    mouse.up()


def open_both(visit: Visit, second_visit: Visit, served: Any, title: str) -> tuple[Any, Any, Any, list[Any]]:
    """A board with two stills and a note, open for its owner and for an edit-link holder."""
    wb = served.wb
    me = wb.accounts.local_user()
    board = wb.boards.create(me, title)
    for n, image in enumerate(wb.library.list(me, scope="all", limit=2)):
        wb.boards.add_image(me, board.id, image.id, x=40 + n * 320, y=60)
    wb.boards.add_note(me, board.id, "Fog rolls in over the harbour.", x=40, y=340, w=260, h=120)
    _, token = wb.boards.create_link(me, board.id, "edit")
    visit.open(f"/board?id={board.id}", ready=READY)
    second_visit.open(f"/board?token={token}", ready=READY)
    items = wb.boards.get(me, board.id).items
    for page in (visit, second_visit):
        until(page, lambda page=page: page.page.locator(".wb-card").count() == len(items), message="every card")
    stored = wb.boards.get(me, board.id).board.revision
    assert visit.page.locator(".wb-board").get_attribute("data-revision") == str(stored)
    return wb, me, board, items


def test_a_drag_and_a_note_edit_reach_the_other_browser_without_a_reload(
        visit: Visit, second_visit: Visit, served: Any) -> None:
    wb, me, board, items = open_both(visit, second_visit, served, "Harbour at night")
    still, note = items[0], next(i for i in items if i.kind == "note")
    # Neither page may reload: a reload would make a new window object and lose this mark.
    for page in (visit, second_visit):
        page.page.evaluate("() => { window.__sameWindow = true; }")

    # The owner drags a still; the guest's page shows it where the owner dropped it.
    before = card_place(second_visit, still.id)
    drag(visit, still.id, 160, 110)
    wait_for(lambda: wb.boards.get(me, board.id).items[0].x != still.x, message="the drag to be stored")
    moved = next(i for i in wb.boards.get(me, board.id).items if i.id == still.id)
    until(second_visit, lambda: card_place(second_visit, still.id) == (f"{moved.x:g}px", f"{moved.y:g}px"),
          message="the guest's page to show the owner's drag")
    assert card_place(second_visit, still.id) != before

    # The guest rewrites the note; the owner's page shows the new text.
    second_visit.page.locator(f'.wb-card[data-id="{note.id}"]').dblclick()
    field = second_visit.page.locator(".wb-card textarea.wb-edit")
    field.fill("Fog lifts. A foghorn, far off.")
    field.press("Control+Enter")
    owner_note = visit.page.locator(f'.wb-card[data-id="{note.id}"] .wb-note-text')
    until(visit, lambda: owner_note.inner_text() == "Fog lifts. A foghorn, far off.",
          message="the owner's page to show the guest's note")

    # A notebook adds a note and removes a still through the service layer: both pages follow.
    added = wb.boards.add_note(me, board.id, "Added from a notebook", x=420, y=340)
    wb.boards.remove_items(me, board.id, [items[1].id])
    third = wb.library.list(me, scope="all", limit=3)[2]
    picture = wb.boards.add_image(me, board.id, third.id, x=700, y=340)  # its metadata comes with the patch
    for page in (visit, second_visit):
        until(page, lambda page=page: page.page.locator(f'.wb-card[data-id="{added.id}"]').count() == 1
              and page.page.locator(f'.wb-card[data-id="{items[1].id}"]').count() == 0
              and page.page.locator(f'.wb-card[data-id="{picture.id}"] img').count() == 1,
              message="both pages to follow the notebook")
        img = page.page.locator(f'.wb-card[data-id="{picture.id}"] img')
        assert third.id in (img.get_attribute("src") or "") and img.get_attribute("alt") == third.filename
        assert page.page.evaluate("() => window.__sameWindow === true")
    revision = wb.boards.get(me, board.id).board.revision
    for page in (visit, second_visit):
        until(page, lambda page=page: page.page.locator(".wb-board").get_attribute("data-revision") == str(revision),
              message="each page to reach the board's revision")
    visit.screenshot("co-editing-owner")
    second_visit.screenshot("co-editing-guest")
    assert not visit.errors and not second_visit.errors


def test_a_note_changed_while_being_edited_says_so_and_a_deleted_one_refuses_the_save(
        visit: Visit, second_visit: Visit, served: Any) -> None:
    wb, me, board, items = open_both(visit, second_visit, served, "Rewrites")
    note = next(i for i in items if i.kind == "note")
    notice = visit.page.locator(".wb-live-notice")

    # The owner is editing the note when the guest's version of it arrives.
    visit.page.locator(f'.wb-card[data-id="{note.id}"]').dblclick()
    field = visit.page.locator(".wb-card textarea.wb-edit")
    field.fill("The owner's version")
    _, token = wb.boards.create_link(me, board.id, "edit")
    wb.boards.update_item(None, board.id, note.id, text="The guest's version", token=token)
    until(visit, lambda: "changed this note while you were editing" in notice.inner_text(),
          message="the owner to be told the note changed meanwhile")
    assert notice.inner_text().startswith("Guest changed this note")
    visit.screenshot("co-editing-conflict")
    assert field.input_value() == "The owner's version"  # the editor keeps what the owner typed
    field.press("Control+Enter")
    wait_for(lambda: next(i for i in wb.boards.get(me, board.id).items if i.id == note.id).text
             == "The owner's version", message="the owner's save to win (last write)")
    until(second_visit, lambda: second_visit.page.locator(f'.wb-card[data-id="{note.id}"] .wb-note-text')
          .inner_text() == "The owner's version", message="the guest to see the owner's save")

    # The guest deletes the note while the owner edits it again: the save is refused with the reason.
    visit.page.locator(f'.wb-card[data-id="{note.id}"]').dblclick()
    field.fill("Too late")
    wb.boards.remove_items(None, board.id, [note.id], token=token)
    until(visit, lambda: "deleted this note while you were editing" in notice.inner_text(),
          message="the owner to be told the note was deleted")
    field.press("Control+Enter")
    refusal = visit.page.locator(".notyf__message")
    until(visit, lambda: refusal.count() > 0 and "deleted by someone else" in refusal.first.inner_text(),
          message="the refused save to say why")
    until(visit, lambda: visit.page.locator(f'.wb-card[data-id="{note.id}"]').count() == 0,
          message="the deleted note to leave the canvas")
    visit.screenshot("co-editing-deleted-while-editing")


def test_presence_shows_both_people_and_a_comment_link_guest_comments_for_the_owner(
        visit: Visit, second_visit: Visit, served: Any) -> None:
    wb = served.wb
    me = wb.accounts.local_user()
    board = wb.boards.create(me, "Notes from the recce")
    still = wb.boards.add_image(me, board.id, wb.library.list(me, scope="all", limit=1)[0].id, x=40, y=60)
    _, token = wb.boards.create_link(me, board.id, "comment")
    visit.open(f"/board?id={board.id}", ready=READY)
    second_visit.open(f"/board?token={token}", ready=READY)

    # Presence: both views are listed on both pages, the link holder as a guest.
    strip = visit.page.locator(".wb-presence")
    for page in (visit, second_visit):
        until(page, lambda page=page: page.page.locator(".wb-presence").get_attribute("data-count") == "2",
              timeout=30, message="both people in the presence strip")
    assert visit.page.locator('.wb-person[data-guest="1"]').inner_text().strip().endswith("Guest")
    assert "(you)" in visit.page.locator(".wb-person.me").inner_text()
    assert second_visit.page.get_by_text("can comment", exact=True).count() == 1  # read-only canvas, comments open

    # The guest selects the still and points at the canvas: the owner sees the outline and the cursor.
    second_visit.page.locator(f'.wb-card[data-id="{still.id}"]').click()
    box = second_visit.page.locator(".wb-viewport").bounding_box()
    assert box is not None
    second_visit.page.mouse.move(box["x"] + 500, box["y"] + 300, steps=4)
    owner_card = visit.page.locator(f'.wb-card[data-id="{still.id}"]')
    until(visit, lambda: owner_card.get_attribute("data-peers") == "G", timeout=30,
          message="the guest's selection outlined on the owner's canvas")
    until(visit, lambda: visit.page.locator(".wb-cursor").count() == 1, timeout=30, message="the guest's cursor")
    assert visit.page.locator(".wb-cursor .wb-cursor-name").inner_text() == "Guest"

    # The guest comments on the selected still, signing with a name; the text is shown as text.
    hostile = "<b>Warmer</b> light here? <img src=x onerror=alert(1)>"
    second_visit.page.locator(".wb-comment-name input").fill("Dee")
    second_visit.page.locator(".wb-comment-input textarea").fill(hostile)
    second_visit.page.locator(".wb-comment-post button").click()
    wait_for(lambda: len(wb.boards.comments.list(me, board.id)) == 1, message="the guest's comment to be stored")
    (thread,) = wb.boards.comments.list(me, board.id)
    assert (thread.item_id, thread.author_name, thread.guest) == (still.id, "Dee", True)
    owner_thread = visit.page.locator(f'.wb-thread[data-thread="{thread.id}"]')
    until(visit, lambda: owner_thread.count() == 1, message="the comment to appear for the owner")
    assert hostile in owner_thread.inner_text() and "Dee · guest" in owner_thread.inner_text()
    assert owner_thread.locator("img, b").count() == 0  # escaped, never markup
    visit.screenshot("co-editing-presence-and-comment")

    # The owner replies and resolves; the guest sees the reply, then the thread leaves the open list.
    reply = visit.page.locator(".wb-reply-input input").first
    reply.fill("Yes, try the tungsten")
    reply.press("Enter")
    guest_thread = second_visit.page.locator(f'.wb-thread[data-thread="{thread.id}"]')
    until(second_visit, lambda: guest_thread.count() == 1 and "Yes, try the tungsten" in guest_thread.inner_text(),
          message="the owner's reply on the guest's page")
    visit.page.locator(".wb-resolve button").first.click()
    until(second_visit, lambda: guest_thread.count() == 0, message="the resolved thread to leave the guest's list")
    assert wb.boards.comments.list(me, board.id)[0].resolved

    # The guest closes the tab: the owner's strip drops them (the service lists a view 10 s after its last beat).
    second_visit.page.close()
    until(visit, lambda: strip.get_attribute("data-count") == "1", timeout=20, message="the guest to leave the list")
    assert not visit.errors
