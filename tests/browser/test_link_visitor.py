"""A share-link visitor sees only the board: no way into the owner's other pages (issue #18, item 7),
the board's name and "view only" each said once (item 12)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import Visit

pytestmark = pytest.mark.browser


def test_a_link_visitor_gets_no_navigation_to_the_owners_pages(visit: Visit, served: Any) -> None:
    wb = served.wb
    me = wb.accounts.local_user()
    board = wb.boards.create(me, "Location scout")
    _, token = wb.boards.create_link(me, board.id, "view")
    visit.open(f"/board?token={token}", ready=".wb-board[data-ready='1']")
    nav = visit.page.locator("nav.wb-nav")
    nav.wait_for(timeout=20_000)
    assert nav.locator("a").count() == 0  # not even the brand links to the library
    assert "shared with you through a link" in nav.inner_text()
    assert "Viewing a shared board" in visit.page.locator(".wb-balance").inner_text()
    # The header names the board, and "view only" is said once (over the canvas), not as a badge too.
    assert visit.page.locator(".wb-title").inner_text() == "Location scout"
    assert visit.page.get_by_text("Location scout", exact=True).count() == 1
    assert visit.page.get_by_text(re.compile(r"^\s*view only\s*$", re.IGNORECASE)).count() == 1
    visit.screenshot("link-visitor-board")
    # The owner's own board page keeps the navigation.
    visit.open(f"/board?id={board.id}", ready=".wb-board[data-ready='1']")
    links = visit.page.locator("nav.wb-nav a.wb-nav-link")
    links.first.wait_for(timeout=20_000)
    assert links.count() == 5
