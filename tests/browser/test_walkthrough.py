"""A new filmmaker's first ten minutes on the embedded default (offline AI), page by page (issue #18).

One fresh workbench (the samples in, nothing else: no boards, no writing, no
credit spent) and one browser walk through what a newcomer does: the library
and its empty "My uploads", an upload, a search, a still sent to a new board,
the board, the boards list, the writing page from idea to screenplay, a
Magic Board, the account; then a teammate opens a view link. Each step checks
what the person needs to see and saves tests/artifacts/walkthrough/NN-page.png
at 1440x900 (looked at by whoever changes a page).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Visit, serve_workbench
from tests.helpers import png_bytes, wait_for

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "walkthrough"


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A workbench nobody has used yet (its own data folder, the samples embedded)."""
    running = serve_workbench(tmp_path_factory.mktemp("walkthrough"))
    yield running
    running.stop()


def _shot(visit: Visit, number: int, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    visit.page.wait_for_timeout(400)  # let a notification or a redraw settle into the picture
    visit.page.screenshot(path=str(SHOTS / f"{number:02d}-{name}.png"))


def _notice(visit: Visit, text: str) -> str:
    message = visit.page.locator(".notyf__message", has_text=text).first
    message.wait_for(timeout=30_000)
    return message.inner_text()


def test_a_new_filmmakers_first_ten_minutes(chromium: Any, fresh: Any, tmp_path: Path) -> None:
    wb, me = fresh.wb, fresh.wb.accounts.local_user()
    start_balance = wb.accounts.balance(me)
    visit = Visit(chromium, fresh.url)
    page = visit.page
    step = itertools.count(1)  # the screenshots' numbers, in the order a newcomer meets the pages
    scope = page.locator("select", has=page.locator("option", has_text="My uploads"))  # which stills the grid shows

    # 1. The library: the samples, counted.
    visit.open("/library", ready=".wb-thumb")
    assert page.locator(".wb-title").inner_text() == "Library"
    samples = wb.library.count(me, scope="all")
    page.get_by_text(f"{samples} images").wait_for()
    _shot(visit, next(step), "library")
    visit.open("/boards", ready=".wb-empty")
    assert "No boards yet" in page.locator(".wb-empty").inner_text()
    _shot(visit, next(step), "boards-empty")
    visit.open("/library", ready=".wb-thumb")

    # 2. "My uploads" is empty and says what to do.
    scope.select_option(label="My uploads")
    page.get_by_text("Your library is empty", exact=False).wait_for(timeout=15_000)
    _shot(visit, next(step), "library-my-uploads-empty")

    # 3. Upload two stills: they are counted and listed.
    stills = []
    for n, colour in enumerate(((200, 40, 40), (30, 60, 160))):
        still = tmp_path / f"night-shoot-{n + 1}.png"
        still.write_bytes(png_bytes(colour, seed=900 + n, size=(640, 400)))
        stills.append(str(still))
    page.locator(".wb-upload input[type=file]").set_input_files(stills)
    page.locator(".wb-upload-summary", has_text="2 added").wait_for(timeout=60_000)
    page.get_by_text("2 images").wait_for(timeout=15_000)  # "My uploads" now holds them
    _shot(visit, next(step), "library-uploaded")

    # 4. Search by words across everything.
    scope.select_option(label="Everything I can see")
    page.get_by_text(f"{samples + 2} images").wait_for(timeout=15_000)
    box = page.get_by_placeholder("Search by words", exact=False)
    box.fill("a cat")
    box.press("Enter")
    page.get_by_text("results for “a cat”", exact=False).wait_for(timeout=30_000)
    assert "cat" in page.locator(".wb-thumb-title").first.inner_text().lower()
    _shot(visit, next(step), "library-search")

    # 5. Select the cat and send it to a new board named from it.
    page.locator(".wb-thumb").first.click()
    page.locator(".wb-detail-name").wait_for(timeout=20_000)
    target = page.locator(".wb-board-target select")
    target.wait_for(timeout=20_000)
    assert target.locator("option").all_inner_texts() == ["New board…"]  # no boards yet
    name = page.locator(".wb-new-board-name input")
    name.fill("Night shoot")
    page.locator(".wb-add-to-board button").click()
    assert "Added 1 to" in _notice(visit, "Added 1 to")
    wait_for(lambda: any(b.title == "Night shoot" for b in wb.boards.list(me)), message="the new board")
    board = next(b for b in wb.boards.list(me) if b.title == "Night shoot")
    _shot(visit, next(step), "library-added-to-board")

    # 6. The board, with the still on it.
    visit.open(f"/board?id={board.id}", ready=".wb-board[data-ready='1']")
    assert page.locator(".wb-board").get_attribute("data-count") == "1"
    # An editor reads the board's name once, in its title field (the page header says "Board").
    assert page.locator(".wb-board-title-input input").input_value() == "Night shoot"
    _shot(visit, next(step), "board")

    # 7. The boards list: one board, found by its title.
    visit.open("/boards", ready=".wb-board-card")
    assert page.locator(".wb-board-total").get_attribute("data-total") == "1"
    assert page.locator(".wb-board-name").inner_text().startswith("Night shoot")
    _shot(visit, next(step), "boards")

    # 8. Writing: no ideas yet; a premise gives idea cards.
    visit.open("/writing", ready=".wb-premise textarea")
    page.get_by_text("No ideas yet").wait_for()
    _shot(visit, next(step), "writing-empty")
    page.locator(".wb-premise textarea").fill("A night-ferry deckhand finds a camera full of tomorrow's photos")
    page.locator(".wb-generate button").click()
    page.locator(".wb-idea").first.wait_for(timeout=60_000)
    ideas = wb.writing.list(me, kind="idea")
    assert page.locator(".wb-idea").count() == len(ideas) >= 1
    _shot(visit, next(step), "writing-ideas")

    # 9. Loglines for the first idea, then its outline.
    first = page.locator(".wb-idea").first
    page.locator(".wb-loglines-button button").first.click()
    wait_for(lambda: first.locator(".wb-loglines li").count() >= 2, timeout=60, message="loglines on the card")
    _shot(visit, next(step), "writing-loglines")
    page.get_by_role("button", name="Outline it").first.click()
    page.get_by_role("button", name="Make outline", exact=False).click()
    beats = page.locator(".wb-table tr")
    wait_for(lambda: beats.count() > 3, timeout=60, message="the outline's beats")
    outline = wb.writing.list(me, kind="outline")[0]
    assert beats.count() == len(outline.meta["beats"]) + 1  # the header row, then one row per beat
    _shot(visit, next(step), "writing-outline")

    # 10. Screenplay pages from the outline, in the editor.
    page.get_by_role("button", name="Draft screenplay pages", exact=False).click()
    editor = page.locator(".wb-editor")
    wait_for(lambda: any(d.kind == "screenplay" for d in wb.writing.list(me)), timeout=60, message="the draft")
    script = wb.writing.list(me, kind="screenplay")[0]
    wait_for(lambda: editor.is_visible() and editor.input_value() == script.body, timeout=30,
             message="the draft in the editor")
    assert "INT." in script.body or "EXT." in script.body
    _shot(visit, next(step), "writing-screenplay")

    # 11. A Magic Board from a pitch, priced before it runs.
    visit.open("/magic", ready=".wb-pitch textarea")
    page.locator(".wb-pitch textarea").fill(
        "A night ferry crosses a black harbour. A girl finds a camera under her seat. Dawn breaks over the pier.")
    cost = page.locator(".wb-cost")
    cost.wait_for(timeout=10_000)
    price = int(cost.get_attribute("data-credits") or 0)
    assert price > 0 and "frames" in cost.inner_text()
    _shot(visit, next(step), "magic")
    page.get_by_role("button", name="Make the board").click()
    page.wait_for_url("**/board?id=*", timeout=90_000)
    page.wait_for_selector(".wb-board[data-ready='1']", timeout=30_000)
    assert int(page.locator(".wb-board").get_attribute("data-count") or 0) >= 3
    _shot(visit, next(step), "magic-board")

    # 12. The account: what is left, and what it went on, in words.
    visit.open("/account", ready=".wb-activity li")
    balance = wb.accounts.balance(me)
    assert balance < start_balance
    assert page.locator(".wb-big").get_attribute("data-balance") == str(balance)
    assert "Magic Board" in page.locator(".wb-activity li").first.inner_text()
    _shot(visit, next(step), "account")
    assert not visit.errors, visit.errors
    assert visit.foreign_hosts() == set()
    visit.close()

    # 13. A teammate opens a view link: the board alone, no way into the owner's pages.
    _, token = wb.boards.create_link(me, board.id, "view")
    guest = Visit(chromium, fresh.url)
    guest.open(f"/board?token={token}", ready=".wb-board[data-ready='1']")
    assert guest.page.locator(".wb-board").get_attribute("data-count") == "1"
    assert guest.page.locator("nav.wb-nav a").count() == 0
    assert "Viewing a shared board" in guest.page.locator(".wb-balance").inner_text()
    _shot(guest, next(step), "guest-view-link")
    guest.close()


def test_the_account_shows_times_in_the_browsers_time_zone(chromium: Any, fresh: Any) -> None:
    from zoneinfo import ZoneInfo

    from server.pages.account import when_text
    from workbench.activity import CreditActivity

    context = chromium.new_context(viewport={"width": 1440, "height": 900}, timezone_id="Pacific/Auckland")
    try:
        page = context.new_page()
        page.goto(f"{fresh.url}/account")
        page.get_by_text("times in Pacific/Auckland", exact=False).wait_for(timeout=30_000)
        wb = fresh.wb
        me = wb.accounts.local_user()
        newest = CreditActivity(wb.db, wb.accounts).recent(me, limit=1).items[0]

        def local(when: Any) -> Any:
            return when.replace(tzinfo=UTC).astimezone(ZoneInfo("Pacific/Auckland")).replace(tzinfo=None)

        expected = when_text(local(newest.when), local(datetime.now(UTC).replace(tzinfo=None)))
        assert page.locator(".wb-when").first.inner_text() == expected  # (Auckland is 12-13 h ahead of UTC)
    finally:
        context.close()
