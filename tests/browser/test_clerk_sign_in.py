"""Two people signed in with Clerk in two browser contexts: each sees only their own library, and a
revoked session stops acting.

The workbench runs in Clerk mode; each context carries a ``__session`` cookie
minted with the local key (tests/clerk_kit.py) and Clerk's Backend API is the
local fake. Clerk's own browser script cannot load here (no internet): its
request is answered with an empty script, and the test checks the page asked
for it with the right key.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest

from server.identity import Gate
from tests.browser.conftest import wait_healthy
from tests.clerk_kit import FakeClerk, Person, clerk_settings, mint, serve_fake
from tests.helpers import png_bytes, wait_for

pytestmark = pytest.mark.browser

ANA = Person("user_ana_b", "sess_ana_b", "ana@studio.test", "Ana")
BEN = Person("user_ben_b", "sess_ben_b", "ben@studio.test", "Ben")
CLERK_JS = "https://clerk.workbench.test/npm/@clerk/clerk-js@5/dist/clerk.browser.js"


@dataclass
class World:
    url: str
    wb: Any
    fake: FakeClerk


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    os.environ["HF_HUB_OFFLINE"] = "1"
    from server.main import start
    from workbench.app import Workbench

    fake = FakeClerk()
    fake.add(Person(**vars(ANA)))
    fake.add(Person(**vars(BEN)))
    for running_fake in serve_fake(fake):
        settings = clerk_settings(tmp_path_factory.mktemp("clerk-browser"), running_fake, clerk_revalidate_seconds=2)
        url = settings.server.public_url
        wb = Workbench(settings)
        for person, color in ((ANA, (200, 40, 40)), (BEN, (40, 40, 200))):
            user = wb.accounts.sign_in(person.user_id, person.email, person.first_name)
            wb.library.ingest(user, png_bytes(color, size=(96, 64)), filename=f"{person.first_name}-still.png",
                              wait=True)
        running = start(settings, wb=wb)
        wait_healthy(running.url)
        try:
            yield World(url, wb, running_fake)
        finally:
            running.stop()


class Person_page:
    """One browser context signed in as one person."""

    def __init__(self, browser: Any, world: World, person: Person) -> None:
        self.context = browser.new_context(viewport={"width": 1440, "height": 900})
        token = mint(person.user_id, person.session_id, party=world.url, ttl=900, email=person.email,
                     name=person.first_name)
        self.context.add_cookies([{"name": "__session", "value": token, "url": world.url}])
        self.clerk_requests: list[str] = []
        self.console: list[str] = []

        def clerk(route: Any) -> None:
            self.clerk_requests.append(route.request.url)
            route.fulfill(status=200, content_type="text/javascript", body="/* Clerk is not reachable offline */")

        self.context.route("https://clerk.workbench.test/**", clerk)
        self.page = self.context.new_page()
        self.page.on("console", lambda message: self.console.append(message.text))
        self.sockets_closed: list[str] = []
        self.page.on("websocket", lambda ws: ws.on("close", lambda closed: self.sockets_closed.append(closed.url)))
        self.page.goto(world.url + "/library")
        self.page.wait_for_selector(".wb-title", timeout=30_000)

    def pump(self) -> None:
        """Let Playwright deliver the browser's events (the sync API only does while it is called)."""
        self.page.wait_for_timeout(50)

    def text(self) -> str:
        return str(self.page.evaluate("""() => {
            const texts = [];
            const walk = (root) => { root.querySelectorAll('*').forEach(el => {
                if (el.shadowRoot) walk(el.shadowRoot);
                if (el.getAttribute && el.getAttribute('title')) texts.push(el.getAttribute('title'));
            }); texts.push(root.textContent || ''); };
            walk(document); return texts.join(' ');
        }"""))


def test_each_person_sees_only_their_library_and_a_revoked_session_stops(chromium: Any, world: World) -> None:
    # The session's Chromium (tests/browser/conftest.py): one Playwright per process.
    ana, ben = Person_page(chromium, world, ANA), Person_page(chromium, world, BEN)
    try:
        wait_for(lambda: "Ana-still.png" in ana.text(), timeout=30, message="Ana's still in her library")
        wait_for(lambda: "Ben-still.png" in ben.text(), timeout=30, message="Ben's still in his library")
        assert "Ben-still.png" not in ana.text() and "Ana-still.png" not in ben.text()
        # Clerk's browser script was asked for, with the instance's publishable key, in Clerk mode only.
        wait_for(lambda: CLERK_JS in ana.clerk_requests, timeout=15, message="Clerk's script requested")
        key = ana.page.evaluate("() => document.querySelector('script[data-clerk-publishable-key]')"
                                "?.getAttribute('data-clerk-publishable-key')")
        assert key == "pk_test_local"
        ana.page.screenshot(path="tests/artifacts/clerk-ana-library.png")

        # An administrator revokes Ben's session in Clerk: within the re-check window his page stops acting.
        gate = Gate.of(world.wb)
        assert gate.open_sockets(BEN.user_id) == 1 and gate.open_sockets(ANA.user_id) == 1
        world.fake.people[BEN.user_id].status = "revoked"
        wait_for(lambda: gate.open_sockets(BEN.user_id) == 0, timeout=30, message="Ben's websocket closed")
        wait_for(lambda: ben.pump() or bool(ben.sockets_closed), timeout=10,
                 message="Ben's browser saw its websocket close")
        assert gate.open_sockets(BEN.user_id) == 0 and gate.open_sockets(ANA.user_id) >= 1
        # Ana is untouched, and Ben's reload goes to sign-in, not to his library.
        ana.pump()
        assert not ana.sockets_closed
        # (Clerk's hosted sign-in page is not reachable offline: the navigation is caught as it leaves.)
        with ben.page.expect_request(lambda r: r.url.startswith("https://accounts.workbench.test/")) as left:
            try:
                ben.page.goto(world.url + "/library")
            except Exception as error:  # noqa: BLE001 - net::ERR_NAME_NOT_RESOLVED for the sign-in host
                assert "ERR_NAME_NOT_RESOLVED" in str(error)
        assert "redirect_url=" + quote(world.url + "/library", safe="") in left.value.url
    finally:
        ana.context.close()
        ben.context.close()
        world.fake.people[BEN.user_id].status = "active"
