"""A real workbench served on a free port, and Debian's Chromium driven by Playwright.

The server runs in a thread of the test process (``server.main.start``), so a
test can check what the service layer stored after a gesture in the browser
(DuckDB has one owner per file: this process). The sample photos are loaded
and embedded before the first page opens, so search results are stable.
"""

from __future__ import annotations

import os
import shutil
import socket
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_healthy(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the workbench at {url} did not answer /healthz within {timeout:.0f} s")


def serve_workbench(home: Path):  # noqa: ANN201 - RunningWorkbench, imported lazily
    """Start a workbench with the samples embedded, on a free loopback port; returns it running."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    from server.main import start
    from workbench.app import Workbench
    from workbench.samples import load_samples
    from workbench.settings import Settings

    settings = Settings(home=home, server={"host": "127.0.0.1", "port": free_port()},
                        library={"load_samples": False})
    wb = Workbench(settings)
    wb.reconcile()
    wb.start_worker()
    load_samples(wb.accounts, wb.library, wait=True)
    running = start(settings, wb=wb)
    wait_healthy(running.url)
    return running


def launch_chromium(playwright):  # noqa: ANN001, ANN201 - Playwright types
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.skip("Debian's chromium is not installed")
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """The running workbench (``.wb`` the service layer, ``.url`` the base URL)."""
    running = serve_workbench(tmp_path_factory.mktemp("workbench"))
    yield running
    running.stop()


@pytest.fixture(scope="session")
def chromium() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


class Visit:
    """One browser context: the page, every URL it requested, and the dialogs that fired."""

    def __init__(self, browser, base: str) -> None:  # noqa: ANN001
        self.base = base
        self.context = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        # What the Content-Security-Policy blocked (it must block nothing the app itself needs).
        self.blocked: list[str] = []
        self.page.on("console", lambda message: self.blocked.append(message.text)
                     if "Content Security Policy" in message.text else None)

    def _dialog(self, dialog) -> None:  # noqa: ANN001
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self, path: str, *, ready: str = ".wb-title") -> None:
        """Go to a page of the app and wait until the shell has rendered."""
        self.page.goto(self.base + path)
        self.page.wait_for_selector(ready, timeout=30_000)

    def foreign_hosts(self) -> set[str]:
        """Hosts other than loopback the page asked for (must stay empty: no CDN, no fonts)."""
        hosts = set()
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOOPBACK:
                hosts.add(parts.hostname or url)
        return hosts

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(chromium, served) -> Iterator[Visit]:  # noqa: ANN001
    """A fresh browser context on the served workbench; fails the test on foreign requests."""
    session = Visit(chromium, served.url)
    yield session
    foreign, blocked = session.foreign_hosts(), session.blocked
    session.close()
    assert not foreign, f"the page reached beyond this machine: {sorted(foreign)}"
    assert not blocked, f"the security policy blocked part of the app: {blocked[:3]}"


@pytest.fixture
def second_visit(chromium, served) -> Iterator[Visit]:  # noqa: ANN001
    """Another, independent browser context (a teammate)."""
    session = Visit(chromium, served.url)
    yield session
    session.close()


def board_shared_with_ana(wb, title: str, email: str):  # noqa: ANN001, ANN201 - Workbench, (User, User, Board)
    """The local user's new board ``title``, shared for editing with Ana (made once per ``email``)."""
    owner = wb.accounts.local_user()
    ana = wb.accounts.find_by_email(email) or wb.accounts.create_user(email, display_name="Ana")
    board = wb.boards.create(owner, title)
    wb.boards.share_with(owner, board.id, ana, "edit")
    return owner, ana, board
