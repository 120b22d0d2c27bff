"""Benchmarks: ``./dev bench`` (or ``python -m bench``) runs every module here and prints one table.

Each module defines ``run(**options) -> list[dict]``; every dict has
``benchmark``, ``value``, ``unit`` and optionally ``note``. Each module also
runs on its own with its options as flags (``python -m bench.search --rows
20000``). Speed is measured here, never asserted by wall clock in the tests.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

__all__ = ["CHROMIUM_ARGS", "format_table", "module_main", "serve_workbench"]

#: Chromium flags for the browser benchmarks: no sandbox (containers), nothing fetched from the network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def serve_workbench(home: Path, *, samples: bool = False) -> Any:
    """A workbench web server on a free local port over ``home`` (offline AI), returned once ``/healthz`` answers.

    With ``samples`` the sample library is stored and embedded first (a worker runs). The caller
    stops it with ``running.stop()``.
    """
    import os
    import socket
    import urllib.request

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from server.main import start
    from workbench.app import Workbench
    from workbench.samples import load_samples
    from workbench.settings import Settings

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    settings = Settings(home=home, server={"host": "127.0.0.1", "port": port}, library={"load_samples": False})
    wb = Workbench(settings)
    if samples:
        wb.start_worker()
        load_samples(wb.accounts, wb.library, wait=True)
    running = start(settings, wb=wb)
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"{running.url}/healthz", timeout=2):
                return running
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the workbench did not start")


def format_table(rows: Iterable[dict[str, Any]], *, with_module: bool = True) -> str:
    """The rows as an aligned plain-text table."""
    header = ("module", "benchmark", "value", "unit", "note") if with_module else ("benchmark", "value", "unit", "note")
    table = [header]
    for r in rows:
        value = f"{r['value']:.3f}" if isinstance(r["value"], float) else str(r["value"])
        cells = (str(r["benchmark"]), value, str(r.get("unit", "")), str(r.get("note", "")))
        table.append(((str(r.get("module", "")),) if with_module else ()) + cells)
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    lines = []
    for i, line in enumerate(table):
        lines.append("  ".join(cell.ljust(widths[j]) for j, cell in enumerate(line)).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def module_main(run: Callable[..., list[dict[str, Any]]], options: dict[str, tuple[type, Any, str]],
                description: str | None) -> int:
    """Run one benchmark module from the command line: ``options`` maps flag names to (type, default, help)."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name, (kind, default, text) in options.items():
        parser.add_argument("--" + name.replace("_", "-"), type=kind, default=default, help=f"{text} (default {default})")
    parser.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    args = vars(parser.parse_args())
    target = args.pop("json")
    started = time.perf_counter()
    rows = run(**args)
    print(format_table(rows, with_module=False))
    print(f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    if target:
        target.write_text(json.dumps(rows, indent=2, default=str))
    return 0
