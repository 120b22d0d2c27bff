"""A board page hears its own change and someone else's in one go (issue #20, the stress test's rare divergence).

The canvas moves a card as soon as the person drags or nudges it, before the
server knows. When the page's own move and a later change that puts the card back
where the page last drew it reach the page together, the page's copy of the board
ends where it started: it must still send the card, or the canvas keeps showing
the move that was overridden.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.browser.conftest import Visit, board_shared_with_ana
from workbench.boards import BoardEvent, ItemMove

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


def test_a_nudge_put_back_by_someone_else_at_once_shows_the_card_where_it_is_stored(
        served: Any, visit: Visit) -> None:
    wb = served.wb
    owner, ana, board = board_shared_with_ana(wb, "Own echo", "ana@own-echo.example")
    note = wb.boards.add_note(owner, board.id, "Put back", x=200, y=200)
    put_back: list[int] = []
    loop = served.thread.asyncio_loop  # the server's event loop, where every page applies what it heard
    busy, free = threading.Event(), threading.Event()

    def hold_the_loop() -> None:
        busy.set()
        free.wait(timeout=10)

    def put_it_back(event: BoardEvent) -> None:
        # Ana puts the card back the moment the page's move is committed, from inside its delivery
        # (watches may change the board), while the server's loop is busy for a moment (as on a
        # loaded machine): the page hears its own move and hers before it can apply either.
        if event.kind == "move" and event.actor == owner.id and not put_back:
            put_back.append(event.seq)
            loop.call_soon_threadsafe(hold_the_loop)
            busy.wait(timeout=10)
            try:
                wb.boards.move_items(ana, board.id, [ItemMove(note.id, 200, 200)])
            finally:
                free.set()

    # Registered before the page opens, so it hears the page's move before the page does.
    stop = wb.boards.watch(ana, board.id, put_it_back)
    try:
        visit.open(f"/board?id={board.id}", ready=".wb-board[data-ready='1']")
        page = visit.page
        card = page.locator(f".wb-card[data-id='{note.id}']")
        box = card.bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + 8)
        page.keyboard.press("ArrowRight")  # one nudge: a move 400 ms later
        for _ in range(100):
            if put_back and page.locator(".wb-board").get_attribute("data-revision") == \
                    str(wb.boards.get(owner, board.id).board.revision):
                break
            page.wait_for_timeout(100)
        stored = wb.boards.get(owner, board.id)
        assert put_back, "the page's nudge reached the board"
        assert (stored.items[0].x, stored.items[0].y) == (200, 200)  # Ana's move came last: it wins
        assert card.evaluate("n => [n.style.left, n.style.top]") == ["200px", "200px"]
        assert page.locator(".wb-board").get_attribute("data-revision") == str(stored.board.revision)
        assert not visit.errors, visit.errors[:3]
    finally:
        stop()
