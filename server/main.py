"""Start the web workbench: prepare the service layer, then serve the Panel app."""

from __future__ import annotations

import logging
import threading

import panel as pn
from tornado.web import RequestHandler

from workbench.app import Workbench
from workbench.settings import Settings

__all__ = ["serve", "prepare"]

log = logging.getLogger(__name__)


class HealthHandler(RequestHandler):
    """``/healthz``: the process answers."""

    def get(self) -> None:
        self.set_header("Content-Type", "text/plain")
        self.write("ok")


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


def serve(settings: Settings) -> None:
    """Serve the workbench on settings.server.host:port until interrupted."""
    from server.app import routes

    wb = prepare(settings)
    host, port = settings.server.host, settings.server.port
    print(f"FilmMaker Workbench on http://{host}:{port}/  (data in {settings.home})", flush=True)
    try:
        pn.serve(
            routes(wb),
            address=host,
            port=port,
            show=False,
            websocket_origin=[f"{host}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"],
            extra_patterns=[(r"/healthz", HealthHandler)],
            title="FilmMaker Workbench",
        )
    finally:
        wb.close()
