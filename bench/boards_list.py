"""How fast the Boards page opens with 150 boards, in a real browser.

Serves a fresh workbench in a thread of this process, makes 150 boards (every
third with a still on it, so covers load too) through the service layer, and
drives Debian's Chromium with Playwright from navigation until every board card
the page shows is in the document and the first cover has loaded. The page
shows one page of boards (``server.pages.boards.PAGE_SIZE``) when it has one,
otherwise every board. Also times the service call behind it.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import CHROMIUM_ARGS, serve_workbench

BOARDS = 150
OPENS = 5


def _boards(wb: Any) -> None:
    me = wb.accounts.local_user()
    stills = wb.library.list(me, scope="all", limit=20)
    for n in range(BOARDS):
        board = wb.boards.create(me, f"Bench board {n + 1:03d}")
        if n % 3 == 0:
            wb.boards.add_image(me, board.id, stills[n % len(stills)].id)
        else:
            wb.boards.add_note(me, board.id, f"Note {n}")


def _shown() -> int:
    try:
        from server.pages.boards import PAGE_SIZE
    except ImportError:  # a Boards page from before paging showed every board
        return BOARDS
    return min(BOARDS, PAGE_SIZE)


def _time_open(page: Any, url: str, shown: int) -> float:
    started = time.perf_counter()
    page.goto(url)
    page.locator(".wb-board-card").nth(shown - 1).wait_for(state="attached", timeout=60_000)
    page.wait_for_function("() => { const i = document.querySelector('.wb-board-cover img'); "
                           "return !i || i.complete; }", timeout=60_000)
    return (time.perf_counter() - started) * 1000


def _time_listing(wb: Any) -> float:
    me = wb.accounts.local_user()
    browse = getattr(wb.boards, "browse", None)
    started = time.perf_counter()
    for _ in range(20):
        if browse is not None:
            browse(me, limit=_shown())
        else:
            wb.boards.list(me)
    return (time.perf_counter() - started) * 1000 / 20


def run() -> list[dict[str, Any]]:
    """Open the Boards page with 150 boards several times; returns benchmark rows."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        return [{"benchmark": "boards page", "value": float("nan"), "unit": "ms", "note": "chromium not installed"}]
    shown = _shown()
    with tempfile.TemporaryDirectory() as home:
        running = serve_workbench(Path(home), samples=True)
        try:
            _boards(running.wb)
            listing = _time_listing(running.wb)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1440, "height": 900})
                _time_open(page, f"{running.url}/boards", shown)  # warm-up: the first load compiles the JS
                opens = [_time_open(page, f"{running.url}/boards", shown) for _ in range(OPENS)]
                page.close()
                browser.close()
        finally:
            running.stop()
    return [
        {"benchmark": f"open the Boards page with {BOARDS} boards until its {shown} cards are in (median of {OPENS})",
         "value": statistics.median(opens), "unit": "ms", "note": f"min {min(opens):.0f}, max {max(opens):.0f}"},
        {"benchmark": f"the listing behind it ({shown} of {BOARDS} boards, service layer)", "value": listing,
         "unit": "ms", "note": "mean of 20"},
    ]


if __name__ == "__main__":
    from bench import module_main

    raise SystemExit(module_main(run, {}, __doc__))
