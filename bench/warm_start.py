"""First search after process start: how long a person waits for their first answer.

Each case runs in a fresh process that opens a library of ``--images`` embedded
photos the way the server's ``prepare()`` does (open, reconcile), times from
the moment the parent starts that process:

- *warmed up* (the server's way): ``wb.warm_up()`` at start-up loads the
  embedder on a background thread; the first search arrives once it is ready
  (the target: under 2 s);
- *no warm-up* (before): the first search loads the model itself;
- *too early*: a search arrives at once, before the warm-up is done; it waits
  for the model (the library page shows "Preparing search…" meanwhile).

Run: ``python -m bench.warm_start [--images N]``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import module_main

ROOT = Path(__file__).resolve().parents[1]

_CHILD = """
import json, sys, time
from pathlib import Path
started, home, mode = float(sys.argv[1]), sys.argv[2], sys.argv[3]
from workbench import Settings, Workbench
wb = Workbench(Settings(home=Path(home), library={"load_samples": False}))
if mode != "cold":
    wb.warm_up()
wb.reconcile()
me = wb.accounts.local_user()
marks = {"opened": time.time() - started}
if mode == "warm":
    wb.wait_for_search()
    marks["ready"] = time.time() - started
t = time.perf_counter()
hits = wb.search.by_text(me, "a cat on a windowsill", limit=24)
marks["search"] = time.perf_counter() - t
marks["answered"] = time.time() - started
marks["hits"] = len(hits)
print(json.dumps(marks), flush=True)
wb.close()
"""


def _first_search(home: str, mode: str) -> dict[str, float]:
    started = time.time()
    done = subprocess.run([sys.executable, "-c", _CHILD, str(started), home, mode], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the {mode} first search failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(images: int = 60, cases: str = "warm,cold,early") -> list[dict]:
    from bench.ingest import variants
    from workbench import Settings, Workbench

    with tempfile.TemporaryDirectory() as home:
        wb = Workbench(Settings(home=Path(home), library={"load_samples": False}))
        if images:
            wb.library.ingest_many(wb.accounts.local_user(), variants(images, seed=4), wait=True)
        wb.close()
        marks = {mode: _first_search(home, mode) for mode in cases.split(",")}
    rows = []
    if "warm" in marks:
        warm = marks["warm"]
        rows.append({"benchmark": f"first search after process start, warmed up ({images} images)", "value": warm["search"],
                     "unit": "s", "note": f"search ready {warm['ready']:.1f} s after process start "
                                          "(target: first search < 2 s)"})
    if "cold" in marks:
        cold = marks["cold"]
        rows.append({"benchmark": "first search after process start, no warm-up (before)", "value": cold["search"],
                     "unit": "s", "note": f"answered {cold['answered']:.1f} s after process start: the search "
                                          "loads the model"})
    if "early" in marks:
        early = marks["early"]
        rows.append({"benchmark": "a search arriving right at start-up, warm-up still running",
                     "value": early["search"], "unit": "s",
                     "note": f"answered {early['answered']:.1f} s after process start; the page says "
                             "'Preparing search…' meanwhile"})
    return rows


if __name__ == "__main__":
    raise SystemExit(module_main(run, {"images": (int, 60, "embedded photos in the library"),
                                       "cases": (str, "warm,cold,early", "which first searches to time")}, __doc__))
