"""Change-to-other-view latency on a co-edited board, with 2, 10 and 25 viewers (issue #20).

One person moves a card; every other open view of the board hears the event
(``wb.boards.watch``) and applies its operations to its own copy of the board with
the same code the board page uses (``server.live_board.LiveBoard``). Timed from
just before the ``move_items`` call to the moment each viewer has applied the
event, for every viewer and every change (the listener of an in-process viewer
runs on the thread that committed, one viewer after another, so the last of 25
waits for the 24 before it).

With ``--browser 1`` (the default, when Debian's Chromium is there) a real board
page in Chromium watches too, served by this process: timed from the same start
to the browser's DOM showing the card at its new place (a MutationObserver stamps
``Date.now()``; both clocks are this machine's wall clock). That path adds the
page's hop to its session's event loop, the websocket and the canvas's patch.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench import CHROMIUM_ARGS, serve_workbench

OBSERVE = """(world) => {
  window.__seen = [];
  new MutationObserver((changes) => {
    const t = Date.now();
    for (const c of changes) window.__seen.push([c.target.dataset.id, c.target.style.left, t]);
  }).observe(world, { subtree: true, attributes: true, attributeFilter: ["style"] });
}"""


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


class Viewer:
    """One service-layer view of the board: a LiveBoard kept by the events it hears."""

    def __init__(self, wb: Any, user: Any, board_id: str, token: str | None) -> None:
        from server.live_board import LiveBoard

        self.wb, self.user, self.board_id, self.token = wb, user, board_id, token
        self.live = LiveBoard.from_view(wb.boards.get(user, board_id, token=token))
        self.applied_at: dict[int, float] = {}
        self.lock = threading.Lock()
        self.stop = wb.boards.watch(user, board_id, self.heard, token=token, since=self.live.revision)

    def heard(self, event: Any) -> None:
        with self.lock:
            if not self.live.follows(event):
                for earlier in self.wb.boards.events_since(self.user, self.board_id, self.live.revision,
                                                           token=self.token):
                    self.live.apply(earlier)
            self.live.apply(event)
            self.applied_at[event.seq] = time.perf_counter()


def _round(wb: Any, viewers: int, changes: int, page: Any | None) -> list[dict[str, Any]]:
    """One board, ``viewers`` service-layer views (and the page, if any), ``changes`` moves by its owner."""
    from workbench.boards import ItemMove

    me = wb.accounts.local_user()
    board = wb.boards.create(me, f"Bench: {viewers} viewers")
    notes = [wb.boards.add_note(me, board.id, f"Shot {n}", x=40 + n * 280, y=60) for n in range(8)]
    _, token = wb.boards.create_link(me, board.id, "edit")
    # Half the views are the owner's (other tabs, a notebook), half are edit-link guests.
    views = [Viewer(wb, me if n % 2 == 0 else None, board.id, None if n % 2 == 0 else token) for n in range(viewers)]
    if page is not None:
        page.goto(page.base + f"/board?id={board.id}")
        page.wait_for_selector(f".wb-board[data-ready='1'][data-count='{len(notes)}']", timeout=60_000)
        page.locator(".wb-world").evaluate(OBSERVE)
    started: dict[int, tuple[float, float, str, int]] = {}
    try:
        for n in range(changes):
            card = notes[n % len(notes)]
            x = 40 + (n % len(notes)) * 280 + 1 + n  # a new place every time: the DOM stamp finds it
            wall, began = time.time(), time.perf_counter()
            wb.boards.move_items(me, board.id, [ItemMove(card.id, x, 300 + n % 7)])
            seq = wb.boards.get(me, board.id).board.revision
            started[seq] = (began, wall, card.id, x)
            deadline = time.perf_counter() + 10
            while not all(seq in v.applied_at for v in views) and time.perf_counter() < deadline:
                time.sleep(0.001)
            if page is not None:
                page.wait_for_timeout(40)  # the page's loop and the browser get their turn (as between gestures)
        service = [(v.applied_at[seq] - began) * 1000 for seq, (began, *_rest) in started.items()
                   for v in views if seq in v.applied_at]
        missed = sum(1 for seq in started for v in views if seq not in v.applied_at)
        rows = _rows(f"{viewers} viewers: change to each service-layer view", service,
                     f"{changes} moves x {viewers} views; missed {missed}")
        if page is not None:
            page.wait_for_timeout(1000)
            seen = page.evaluate("() => window.__seen")
            shown = []
            for _seq, (_began, wall, card_id, x) in started.items():
                stamp = next((t for i, left, t in seen if i == card_id and left == f"{x}px"), None)
                if stamp is not None:
                    shown.append(stamp - wall * 1000)
            rows += _rows(f"{viewers} viewers + 1 browser page: change to the page's DOM", shown,
                          f"{len(shown)} of {changes} moves seen in Chromium")
        return rows
    finally:
        for v in views:
            v.stop()


def _rows(name: str, values: list[float], note: str) -> list[dict[str, Any]]:
    if not values:
        return [{"benchmark": name, "value": float("nan"), "unit": "ms", "note": note + "; nothing measured"}]
    return [{"benchmark": name + ", median", "value": statistics.median(values), "unit": "ms", "note": note},
            {"benchmark": name + ", p95", "value": _percentile(values, 0.95), "unit": "ms",
             "note": f"max {max(values):.1f} ms"}]


def run(changes: int = 60, viewers: str = "2,10,25", browser: int = 1) -> list[dict[str, Any]]:
    """Time change-to-other-view latency for each viewer count; returns benchmark rows (median, p95 in the note)."""
    counts = [int(v) for v in str(viewers).split(",") if v.strip()]
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    with tempfile.TemporaryDirectory() as home:
        running = serve_workbench(Path(home))
        rows: list[dict[str, Any]] = []
        try:
            if browser and executable:
                from playwright.sync_api import sync_playwright

                with sync_playwright() as playwright:
                    chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
                    page = chromium.new_page(viewport={"width": 1440, "height": 900})
                    page.base = running.url  # type: ignore[attr-defined]
                    for count in counts:
                        rows += _round(running.wb, count, changes, page)
                    chromium.close()
            else:
                for count in counts:
                    rows += _round(running.wb, count, changes, None)
        finally:
            running.stop()
    return rows


if __name__ == "__main__":
    from bench import module_main

    raise SystemExit(module_main(run, {"changes": (int, 60, "moves per viewer count"),
                                       "viewers": (str, "2,10,25", "viewer counts, comma-separated"),
                                       "browser": (int, 1, "also time one board page in Chromium (1) or not (0)")},
                                 __doc__))
