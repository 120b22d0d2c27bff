"""How fast the board canvas opens and how fast a drop is saved, in a real browser.

Serves a fresh workbench in a thread of this process, builds a board of 200
items (stills, notes, headings) through the service layer, and drives Debian's
Chromium with Playwright:

- *open*: from navigation to the canvas showing all 200 cards with its
  gesture handlers attached (the component marks itself ``data-ready``);
- *drop to database*: from the mouse button going up at the end of a drag to
  the new position being readable through ``wb.boards.get`` (the service layer
  polled in a loop; one ``move_items`` call per drop).
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import CHROMIUM_ARGS, serve_workbench

ITEMS = 200
OPENS = 5
DROPS = 10


def _board(wb: Any) -> str:
    """A 200-item board: a grid of stills with a note under each, headings over each row."""
    me = wb.accounts.local_user()
    board = wb.boards.create(me, "Bench: 200 items")
    stills = wb.library.list(me, scope="all", limit=50)
    made = 0
    row = 0
    while made < ITEMS:
        wb.boards.add_heading(me, board.id, f"Sequence {row + 1}", x=0, y=row * 420, w=600, h=50)
        made += 1
        for col in range(8):
            if made >= ITEMS:
                break
            x, y = col * 280, row * 420 + 70
            if made % 2:
                wb.boards.add_image(me, board.id, stills[(made // 2) % len(stills)].id, x=x, y=y, w=260, h=180)
            else:
                wb.boards.add_note(me, board.id, f"Shot {made}: the light changes.", x=x, y=y + 190, w=260, h=120)
            made += 1
        row += 1
    return str(board.id)


def _time_open(page: Any, url: str) -> float:
    started = time.perf_counter()
    page.goto(url)
    page.wait_for_selector(f".wb-board[data-ready='1'][data-count='{ITEMS}']", timeout=60_000)
    page.locator(".wb-card").nth(ITEMS - 1).wait_for(state="attached")
    return (time.perf_counter() - started) * 1000


def _time_drop(page: Any, wb: Any, board_id: str, item_id: str, step: int) -> tuple[float, float]:
    """(ms from mouse-up to the row's update stamp, ms until a service-layer poll saw it)."""
    me = wb.accounts.local_user()
    before = next(i for i in wb.boards.get(me, board_id).items if i.id == item_id)
    box = page.locator(f'.wb-card[data-id="{item_id}"]').bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + 10
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 20 + step, y + 15, steps=4)
    # Stamped before the call: the page may save the drop before Playwright reports the
    # mouse-up done, so this counts the round trip to the browser too (an upper bound).
    released, released_at = time.perf_counter(), datetime.now(UTC).replace(tzinfo=None)
    page.mouse.up()
    deadline = released + 10
    while time.perf_counter() < deadline:
        # Polled gently: a tight loop of full board reads competes with the server for the GIL.
        now = next(i for i in wb.boards.get(me, board_id).items if i.id == item_id)
        if (now.x, now.y) != (before.x, before.y):
            seen = (time.perf_counter() - released) * 1000
            stamped = (now.updated_at - released_at).total_seconds() * 1000
            return stamped, seen
        time.sleep(0.02)
    raise RuntimeError("the drop never reached the database")


def run() -> list[dict[str, Any]]:
    """Open a 200-item board several times and time drops; returns benchmark rows."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        return [{"benchmark": "board canvas", "value": float("nan"), "unit": "ms", "note": "chromium not installed"}]
    with tempfile.TemporaryDirectory() as home:
        running = serve_workbench(Path(home), samples=True)
        try:
            board_id = _board(running.wb)
            url = f"{running.url}/board?id={board_id}"
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1440, "height": 900})
                _time_open(page, url)  # warm-up: first load compiles the page's JS
                opens = [_time_open(page, url) for _ in range(OPENS)]
                ids = page.locator(".wb-card[data-kind='note']").evaluate_all("ns => ns.map(n => n.dataset.id)")
                drops = [_time_drop(page, running.wb, board_id, ids[i % len(ids)], i) for i in range(DROPS)]
                page.close()
                browser.close()
        finally:
            running.stop()
    stamped, seen = [d[0] for d in drops], [d[1] for d in drops]
    return [
        {"benchmark": f"open a {ITEMS}-item board until cards are draggable (median of {OPENS})",
         "value": statistics.median(opens), "unit": "ms", "note": f"min {min(opens):.0f}, max {max(opens):.0f}"},
        {"benchmark": f"mouse-up to row updated in DuckDB (median of {DROPS})",
         "value": statistics.median(stamped), "unit": "ms",
         "note": f"min {min(stamped):.0f}, max {max(stamped):.0f}; the row's update stamp; one move_items per drop"},
        {"benchmark": f"mouse-up to new position read back via wb.boards.get (median of {DROPS})",
         "value": statistics.median(seen), "unit": "ms",
         "note": f"min {min(seen):.0f}, max {max(seen):.0f}; polled every 20 ms"},
    ]


if __name__ == "__main__":
    from bench import module_main

    raise SystemExit(module_main(run, {}, __doc__))
