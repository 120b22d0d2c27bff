"""Start the web workbench: prepare the service layer, then serve the Panel app."""

from __future__ import annotations

import logging
import secrets
import signal
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import panel as pn

from server.auth import WorkbenchAuth
from server.design import ASSETS_URL, STATIC
from server.hardening import allowed_hosts, harden, is_loopback, security_headers
from server.identity import Gate
from server.media import HealthHandler, media_patterns
from server.probes import log_request, probe_patterns
from workbench.app import Workbench
from workbench.settings import Settings

__all__ = ["serve", "run_until_stopped", "prepare", "start", "RunningWorkbench", "server_options", "session_secret",
           "HealthHandler", "ExposedWithoutSignIn", "check_exposure"]

log = logging.getLogger(__name__)


class ExposedWithoutSignIn(RuntimeError):
    """Local mode (no sign-in) asked to listen on an interface other people can reach."""


def check_exposure(settings: Settings) -> None:
    """Refuse to serve the local user's whole workspace to a network, and refuse Clerk mode half set up."""
    if settings.auth.mode == "local" and not is_loopback(settings.server.host):
        raise ExposedWithoutSignIn(
            f"Local mode has no sign-in, so it only listens on this machine (127.0.0.1), not on "
            f"'{settings.server.host}'. To serve other people, turn on Clerk sign-in: set WORKBENCH_AUTH__MODE=clerk "
            "with WORKBENCH_AUTH__CLERK_JWT_KEY, __CLERK_ISSUER, __CLERK_AUTHORIZED_PARTIES, __CLERK_SECRET_KEY and "
            "__CLERK_SIGN_IN_URL (see the README's 'Sign-in with Clerk').")
    if settings.auth.mode == "clerk":
        missing = [name for name, value in (
            ("CLERK_JWT_KEY", settings.auth.clerk_jwt_key), ("CLERK_ISSUER", settings.auth.clerk_issuer),
            ("CLERK_AUTHORIZED_PARTIES", settings.auth.clerk_authorized_parties),
            ("CLERK_SECRET_KEY", settings.auth.clerk_secret_key), ("CLERK_SIGN_IN_URL", settings.auth.clerk_sign_in_url),
        ) if not value]
        if missing:
            raise ExposedWithoutSignIn("Clerk sign-in is not fully configured; set " +
                                       ", ".join(f"WORKBENCH_AUTH__{m}" for m in missing) + ".")


def prepare(settings: Settings) -> Workbench:
    """Open the workbench, repair what a crash left, start the embed worker, load samples once."""
    check_exposure(settings)
    wb = Workbench(settings)
    wb.warm_up()  # the embedder loads in the background while the rest starts: the first search does not wait
    checked = wb.db.integrity
    rebuilt = [c.describe() for c in checked if c.missing]
    log.log(logging.ERROR if rebuilt else logging.INFO, "metadata: %d index(es) checked against their tables%s%s",
            len(checked), "; after an unclean shutdown" if wb.db.recovered_wal else "",
            "; " + "; ".join(rebuilt) if rebuilt else ", all match")
    report = wb.reconcile()
    if report.repaired:
        log.warning("reconcile repaired %s item(s) at start-up: %s", report.repaired, report)
    if settings.server.embed_in_web:
        wb.start_worker()
    if settings.library.load_samples:
        from workbench.samples import load_samples

        # In the background: the page answers at once, and the samples appear as they are added.
        threading.Thread(target=load_samples, args=(wb.accounts, wb.library), daemon=True).start()
    return wb


_PROCESS_SECRET = secrets.token_urlsafe(32)


def session_secret(settings: Settings) -> str:
    """The key that signs Bokeh session ids and tokens (the setting, or one random key per process)."""
    configured = settings.server.session_secret
    return configured.get_secret_value() if configured else _PROCESS_SECRET


def server_options(wb: Workbench, host: str, port: int) -> dict[str, Any]:
    """Everything ``pn.serve`` needs besides the routes: static files, media, probes, origins, headers."""
    public = urlsplit(wb.settings.server.public_url).netloc
    names = sorted(allowed_hosts(wb.settings))
    return {
        "address": host,
        "port": port,
        "show": False,
        # Bokeh's allow-list takes no IPv6 literals; the host guard (server/hardening.py) covers those.
        "websocket_origin": sorted({*(f"{n}:{port}" for n in names if ":" not in n), *([public] if public else [])}),
        "transforms": [security_headers(wb.settings)],  # reaches Tornado's Application through Panel and Bokeh
        # Every page, static file and websocket upgrade asks the one identity seam (server/identity.py).
        "auth_provider": WorkbenchAuth(wb),
        # Bokeh accepts session ids a client picks unless sessions are signed; and it copies every
        # cookie and header of the page request into a token that page scripts can read.
        "sign_sessions": True,
        "secret_key": session_secret(wb.settings),
        "generate_session_ids": True,
        "exclude_headers": ["Authorization", "Cookie", "X-Forwarded-For"],
        "exclude_cookies": ["__session", "__client", "__client_uat"],
        "extra_patterns": media_patterns(wb) + probe_patterns(wb),
        "log_function": log_request,  # per-route request counts and latency for /metrics
        "static_dirs": {ASSETS_URL.strip("/"): str(STATIC)},
        "title": "FilmMaker Workbench",
        # Uploads arrive in chunks over the websocket (the file dropper caps what it holds, see
        # server/components/upload.py); a board ZIP or a Fountain file arrives as one message.
        "websocket_max_message_size": 64 * 1024 * 1024,
        # Plain HTTP takes no uploads: the only body the app reads is a sign-out form.
        "http_server_kwargs": {"max_body_size": 64 * 1024, "max_header_size": 64 * 1024},
    }


def serve(settings: Settings) -> None:
    """Serve the workbench on settings.server.host:port until SIGTERM or SIGINT, then shut down cleanly.

    Exits with status 2 and says what to configure when the settings would expose the workbench unsafely.
    """
    try:
        check_exposure(settings)
    except ExposedWithoutSignIn as error:
        print(f"workbench serve: {error}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    run_until_stopped(prepare(settings), settings)


def run_until_stopped(wb: Workbench, settings: Settings) -> None:
    """Serve ``wb`` until SIGTERM/SIGINT; then stop taking requests and writes, finish those under way,
    checkpoint the database and close it.

    Without this, SIGTERM (what Kubernetes and ``docker stop`` send) ended the
    process with every change since the last checkpoint only in DuckDB's WAL.
    """
    from server.app import routes

    host, port = settings.server.host, settings.server.port
    server = pn.serve(routes(wb), start=False, **server_options(wb, host, port))
    stopping = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        if stopping.is_set():
            return
        stopping.set()
        log.warning("%s received: shutting down", signal.Signals(signum).name)
        server.io_loop.asyncio_loop.call_soon_threadsafe(server.io_loop.stop)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, request_stop)
    harden(server, settings)
    Gate.of(wb).start()
    server.start()
    print(f"FilmMaker Workbench on http://{host}:{port}/  (data in {settings.home})", flush=True)
    try:
        server.io_loop.start()
    finally:
        try:
            server.stop()  # no new connections or requests
            Gate.of(wb).stop()
        finally:
            wb.close()  # the worker stops, writes under way finish, then checkpoint and close
        print("FilmMaker Workbench stopped; every change is saved.", flush=True)


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
        Gate.of(self.wb).stop()
        self.wb.close()


def start(settings: Settings, *, wb: Workbench | None = None) -> RunningWorkbench:
    """Serve in a background thread and return at once (poll ``/healthz`` before use)."""
    from server.app import routes

    check_exposure(settings)
    wb = wb or prepare(settings)
    host, port = settings.server.host, settings.server.port
    thread = pn.serve(routes(wb), threaded=True, **server_options(wb, host, port))
    deadline = time.monotonic() + 60
    while thread.server_id not in pn.state._servers:  # Panel registers the server as its thread builds it
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the web workbench did not start")
        time.sleep(0.01)
    harden(pn.state._servers[thread.server_id][0], settings)
    Gate.of(wb).start()
    return RunningWorkbench(wb, f"http://{host}:{port}", thread)
