"""Start the web workbench: prepare the service layer, then serve the Panel app."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

import panel as pn

from server.design import ASSETS_URL, STATIC
from server.media import HealthHandler, media_patterns
from workbench.app import Workbench
from workbench.settings import Settings

__all__ = ["serve", "prepare", "start", "RunningWorkbench", "server_options", "HealthHandler"]

log = logging.getLogger(__name__)


def prepare(settings: Settings) -> Workbench:
    """Open the workbench, repair what a crash left, start the embed worker, load samples once."""
    wb = Workbench(settings)
    report = wb.reconcile()
    if report.repaired:
        log.warning("reconcile repaired %s item(s) at start-up: %s", report.repaired, report)
    wb.start_worker()
    if settings.library.load_samples:
        from workbench.samples import load_samples

        # In the background: the page answers at once, and the samples appear as they are added.
        threading.Thread(target=load_samples, args=(wb.accounts, wb.library), daemon=True).start()
    return wb


def server_options(wb: Workbench, host: str, port: int) -> dict[str, Any]:
    """Everything ``pn.serve`` needs besides the routes: static files, media, probes, origins."""
    return {
        "address": host,
        "port": port,
        "show": False,
        "websocket_origin": [f"{host}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"],
        "extra_patterns": media_patterns(wb),
        "static_dirs": {ASSETS_URL.strip("/"): str(STATIC)},
        "title": "FilmMaker Workbench",
        # Uploads arrive in chunks; leave room for one chunk plus framing.
        "websocket_max_message_size": 64 * 1024 * 1024,
    }


def serve(settings: Settings) -> None:
    """Serve the workbench on settings.server.host:port until interrupted."""
    from server.app import routes

    wb = prepare(settings)
    host, port = settings.server.host, settings.server.port
    print(f"FilmMaker Workbench on http://{host}:{port}/  (data in {settings.home})", flush=True)
    try:
        pn.serve(routes(wb), **server_options(wb, host, port))
    finally:
        wb.close()


@dataclass
class RunningWorkbench:
    """A workbench served from a background thread of this process (tests and benchmarks)."""

    wb: Workbench
    url: str
    thread: Any

    def stop(self) -> None:
        """Stop serving and close the workbench."""
        self.thread.stop()
        self.thread.join(timeout=10)
        self.wb.close()


def start(settings: Settings, *, wb: Workbench | None = None) -> RunningWorkbench:
    """Serve in a background thread and return at once (poll ``/healthz`` before use)."""
    from server.app import routes

    wb = wb or prepare(settings)
    host, port = settings.server.host, settings.server.port
    thread = pn.serve(routes(wb), threaded=True, **server_options(wb, host, port))
    return RunningWorkbench(wb, f"http://{host}:{port}", thread)
