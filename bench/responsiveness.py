"""Does one person's heavy work slow everyone else down? ``/healthz`` and another person's drag, meanwhile.

Serves a fresh workbench in a thread of this process and drives two Chromium
contexts with Playwright: session A does heavy work, session B drags cards on
a board of its own. Phases:

- *idle*: nothing but the probes and B's drags;
- *export*: A exports a 120-page screenplay to PDF from the Writing page, again and again;
- *import*: A imports a 200-image board ZIP on the Boards page;
- *magic*: A makes a 12-frame Magic Board.

Measured per phase: ``/healthz`` latency (p50, p95, max) from a separate
process polling every 20 ms on a new connection each time (a probe in this
process would wait for the GIL itself), and B's drag: mouse-up until the new
position is readable through ``wb.boards.get`` (as in ``bench/board_ui.py``).
The window of the import and Magic Board phases closes as A's browser leaves
for the new board (opening a page is measured by the idle page opens instead).
"""

from __future__ import annotations

import io
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
from PIL import Image

from bench import CHROMIUM_ARGS, serve_workbench
from bench.board_ui import _time_drop

DROP_LIMIT_MS = 10_000.0
PROBE = r"""
import http.client, sys, time
host, port = sys.argv[1], int(sys.argv[2])
print("ready", flush=True)
while sys.stdin.readline().strip() != "stop":
    started = time.monotonic()
    try:
        connection = http.client.HTTPConnection(host, port, timeout=30)
        connection.request("GET", "/healthz")
        answer = connection.getresponse()
        body = answer.read()
        connection.close()
        problem = "" if answer.status == 200 and body == b"ok" else f"status {answer.status}: {body[:80]!r}"
    except OSError as error:
        problem = repr(error)
    print(f"{time.monotonic():.6f} {(time.monotonic() - started) * 1000:.3f} {problem}", flush=True)
"""


class Probe:
    """``/healthz`` every 20 ms from another process; ``stop()`` closes the window (later answers are dropped)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.process = subprocess.Popen([sys.executable, "-c", PROBE, parts.hostname or "127.0.0.1",
                                         str(parts.port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None and self.process.stdout.readline().strip() == "ready"
        self.cutoff = float("inf")
        self._done = threading.Event()
        self._ticker = threading.Thread(target=self._tick, daemon=True)
        self._ticker.start()

    def _tick(self) -> None:
        assert self.process.stdin is not None
        while not self._done.wait(0.02):
            self.process.stdin.write("go\n")
            self.process.stdin.flush()

    def stop(self) -> None:
        self.cutoff = min(self.cutoff, time.monotonic())
        self._done.set()

    def results(self) -> tuple[list[float], list[str]]:
        """Stop probing; the latencies (ms) and the failures of the probes answered inside the window."""
        self.stop()
        self._ticker.join(timeout=10)
        output, _ = self.process.communicate("stop\n", timeout=120)
        latencies: list[float] = []
        failures: list[str] = []
        for line in output.splitlines():
            ended, latency, *problem = line.split(" ", 2)
            if float(ended) <= self.cutoff:
                latencies.append(float(latency))
                if problem and problem[0]:
                    failures.append(problem[0])
        return latencies, failures

    def latencies(self) -> list[float]:
        """Stop probing; the latencies (ms) of the probes answered inside the window."""
        return self.results()[0]


def _script(pages: int) -> str:
    """About ``pages`` pages of dialogue in Fountain (1.55 scenes a page with these speeches)."""
    parts = ["Title: Bench Night\n\n"]
    for n in range(int(pages * 1.55)):
        parts.append(f"INT. ROOM {n} - NIGHT\n\nThe light flickers over the table; rain keeps on at the window.\n\n")
        for k in range(6):
            parts.append(f"{'MAE' if k % 2 else 'JONAH'}\nI told you the ferry leaves at six, and you weren't there.\n\n")
    return "".join(parts)


def _board_zip(home: Path, images: int) -> Path:
    """A board ZIP of ``images`` distinct stills, exported by a throwaway workbench (so all are new)."""
    from workbench.app import Workbench
    from workbench.settings import Settings

    wb = Workbench(Settings(home=home, library={"load_samples": False}))
    try:
        me = wb.accounts.local_user()
        board = wb.boards.create(me, "Bench import")
        rng = np.random.default_rng(7)
        for n in range(images):
            out = io.BytesIO()
            Image.fromarray(rng.integers(0, 255, (64, 96, 3), dtype=np.uint8)).save(out, format="PNG")
            image = wb.library.ingest(me, out.getvalue(), filename=f"still-{n}.png")
            wb.boards.add_image(me, board.id, image.id, x=(n % 20) * 100, y=(n // 20) * 80, w=96, h=64)
        target = home / "bench-import.zip"
        with target.open("wb") as out_file:
            wb.boards.export_zip(me, board.id, out_file)
        with zipfile.ZipFile(target) as archive:
            assert sum(name.startswith("images/") for name in archive.namelist()) >= images
        return target
    finally:
        wb.close()


def _phase(name: str, url: str, drag: Callable[[int], tuple[float, float]], start: Callable[[], Any],
           done: Callable[[], bool], *, repeat: int = 1, leaving: Any = None, limit: float = 300.0) -> dict[str, Any]:
    """Run ``start`` ``repeat`` times (each until ``done``), dragging in B meanwhile; the numbers of the phase."""
    probe = Probe(url)
    if leaving is not None:
        leaving(probe)
    drags: list[float] = []
    started = time.perf_counter()
    for _ in range(repeat):
        start()
        deadline = time.perf_counter() + limit
        while not done():
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{name}: the heavy action did not finish within {limit:.0f} s")
            drags.append(drag(len(drags))[1])
    took = time.perf_counter() - started
    probes = sorted(probe.latencies())
    return {"phase": name, "probes": probes, "drags": drags, "seconds": took}


def run(pages: int = 120, images: int = 200) -> list[dict[str, Any]]:
    """The four phases; returns benchmark rows."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        return [{"benchmark": "responsiveness", "value": float("nan"), "unit": "ms", "note": "chromium not installed"}]
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        archive = _board_zip(home / "source", images)
        running = serve_workbench(home / "served", samples=True)
        wb = running.wb
        me = wb.accounts.local_user()
        wb.writing.create(me, "screenplay", "Bench Night", _script(pages))
        board = wb.boards.create(me, "Bench: drags")
        notes = [wb.boards.add_note(me, board.id, f"Shot {n}", x=(n % 5) * 280, y=(n // 5) * 160, w=260, h=120)
                 for n in range(20)]
        phases: list[dict[str, Any]] = []
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
                heavy = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True).new_page()
                mover = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
                mover.goto(f"{running.url}/board?id={board.id}")
                mover.wait_for_selector(".wb-board[data-ready='1']", timeout=60_000)
                mover.wait_for_timeout(500)

                def drag(step: int) -> tuple[float, float]:
                    try:
                        return _time_drop(mover, wb, board.id, notes[step % len(notes)].id, step % 7)
                    except RuntimeError:  # not stored within 10 s: counted as 10 s (the note says how many)
                        return DROP_LIMIT_MS, DROP_LIMIT_MS

                phases.append(_idle(running.url, drag))
                # Export: the Writing page with the script open, Export PDF five times.
                heavy.goto(f"{running.url}/writing")
                heavy.wait_for_selector(".wb-title")
                heavy.locator(".bk-tab", has_text="Screenplay").click()
                heavy.locator(".wb-script-picker select").select_option(label="Bench Night")
                heavy.locator(".wb-preview").get_by_text("INT. ROOM 1 - NIGHT", exact=True).wait_for(timeout=60_000)
                got: list[Any] = []
                heavy.on("download", lambda download: got.append(download))
                asked = [0]

                def export() -> None:
                    asked[0] += 1
                    heavy.locator(".wb-script-pdf").get_by_text("Export PDF").click()

                phases.append(_phase(f"export a {pages}-page script to PDF (x5)", running.url, drag, export,
                                     lambda: len(got) >= asked[0], repeat=5))
                # Import: the Boards page, the ZIP into its file input.
                heavy.goto(f"{running.url}/boards")
                heavy.wait_for_selector(".wb-import-board input[type=file]")
                phases.append(_phase(
                    f"import a {images}-image board ZIP", running.url, drag,
                    lambda: heavy.locator(".wb-import-board input[type=file]").set_input_files(str(archive)),
                    lambda: "/board?id=" in heavy.url, leaving=lambda probe: _leaving(heavy, probe)))
                # Magic Board: a 12-beat pitch.
                heavy.goto(f"{running.url}/magic")
                heavy.wait_for_selector(".wb-pitch textarea")
                heavy.locator(".wb-pitch textarea").fill(
                    ". ".join(f"Beat {n}: the ferry turns toward the pier in the fog" for n in range(1, 13)) + ".")
                heavy.locator(".wb-cost").wait_for(timeout=10_000)
                phases.append(_phase("make a 12-frame Magic Board", running.url, drag,
                                     lambda: heavy.get_by_text("Make the board").click(),
                                     lambda: "/board?id=" in heavy.url,
                                     leaving=lambda probe: _leaving(heavy, probe)))
                browser.close()
        finally:
            running.stop()
    return _rows(phases)


def _idle(url: str, drag: Callable[[int], tuple[float, float]]) -> dict[str, Any]:
    probe = Probe(url)
    started = time.perf_counter()
    drags = [drag(step)[1] for step in range(10)]
    return {"phase": "idle", "probes": sorted(probe.latencies()), "drags": drags,
            "seconds": time.perf_counter() - started}


def _leaving(page: Any, probe: Probe) -> None:
    """Close the probe window just before the page asks for the new board (a page open is not the action)."""

    def leave(route: Any) -> None:
        probe.stop()
        route.continue_()

    page.unroute("**/board?id=*")
    page.route("**/board?id=*", leave)


def _rows(phases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for phase in phases:
        probes, drags = phase["probes"], phase["drags"] or [float("nan")]
        p95 = probes[int(0.95 * (len(probes) - 1))] if probes else float("nan")
        note = f"{len(probes)} probes over {phase['seconds']:.1f} s; p95 {p95:.1f}, max {max(probes):.1f}"
        rows.append({"benchmark": f"/healthz p50 while: {phase['phase']}", "value": statistics.median(probes),
                     "unit": "ms", "note": note})
        rows.append({"benchmark": f"/healthz max while: {phase['phase']}", "value": max(probes), "unit": "ms",
                     "note": f"p95 {p95:.1f} ms"})
        rows.append({"benchmark": f"other session's drag, mouse-up to stored, median while: {phase['phase']}",
                     "value": statistics.median(drags), "unit": "ms",
                     "note": f"{len(phase['drags'])} drags, max {max(drags):.0f} ms, "
                             f"{sum(d >= DROP_LIMIT_MS for d in drags)} not stored within 10 s"})
    return rows


if __name__ == "__main__":
    from bench import module_main

    raise SystemExit(module_main(run, {"pages": (int, 120, "screenplay length in pages"),
                                       "images": (int, 200, "stills in the imported board ZIP")}, __doc__))
