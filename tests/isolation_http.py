"""The HTTP half of the isolation suite: every route of the web server, tried by every actor.

The world's workbench is served in Clerk mode (a real server on a loopback port,
tokens minted with the local key, Clerk's Backend API a local fake; see
tests/clerk_kit.py). A signed-in actor sends a fresh session cookie; a link
holder sends none (or B's) and holds the share token. What an actor gets:

- a picture (thumbnail, original, through a board) or a probe: its body, scanned
  for A's secrets like any service answer;
- a page: the person the page's Bokeh session was bound to (it must be the
  actor, or a guest), and the page's whole document as built on the server,
  scanned for A's secrets;
- a websocket for a page A opened: refused to everyone but A.

A refusal (302 to sign-in, 401, 403, 404, a refused handshake) is raised as
``Forbidden``/``NotFound`` so the machinery of tests/isolation_cases.py checks
it like a service-layer refusal (A's rows unchanged).
"""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import socket
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from tests.clerk_kit import FakeClerk, Person, mint
from tests.isolation_cases import ALLOW, DENY, FILTER, Case, by_role, everyone_denied
from tests.isolation_world import Actor, World
from workbench import Forbidden, NotFound

__all__ = ["HTTP_CASES", "HTTP_EXEMPT", "http_paths", "HttpSide"]

PAGES = ("/", "/library", "/boards", "/writing", "/magic", "/account")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


class HttpSide:
    """The world's workbench served in Clerk mode, started on the first HTTP case."""

    def __init__(self, world: World, fake: FakeClerk, port: int) -> None:
        self.world, self.fake, self.port = world, fake, port
        self.url = f"http://127.0.0.1:{port}"
        self.running: Any = None
        self.people: dict[str, Person] = {}
        for actor in world.actors.values():
            if actor.user is not None and actor.user.id not in self.people:
                user = world.wb.accounts.get_user(actor.user.id)
                row = world.wb.db.query_one("SELECT external_id FROM users WHERE id = ?", [user.id])
                external = (row or {}).get("external_id") or f"clerk_{user.id}"
                world.wb.accounts.sign_in(external, user.email, user.display_name)  # links a user made by hand
                self.people[user.id] = fake.add(Person(external, f"sess_{user.id}", user.email, user.display_name))

    def start(self) -> HttpSide:
        if self.running is None:
            from server.main import start

            self.running = start(self.world.wb.settings, wb=self.world.wb)
        return self

    def stop(self) -> None:
        if self.running is not None:
            from server.identity import Gate

            self.running.thread.stop()
            self.running.thread.join(timeout=10)
            Gate.of(self.world.wb).stop()

    def cookie(self, actor: Actor) -> dict[str, str]:
        if actor.user is None:
            return {}
        person = self.people[actor.user.id]
        token = mint(person.user_id, person.session_id, party=self.url, email=person.email, name=person.first_name)
        return {"Cookie": f"__session={token}"}

    def request(self, actor: Actor, path: str, *, method: str = "GET",
                headers: dict[str, str] | None = None) -> Reply:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        connection.request(method, path, headers={"Host": f"127.0.0.1:{self.port}", **self.cookie(actor),
                                                  **(headers or {})})
        answer = connection.getresponse()
        reply = Reply(answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read())
        connection.close()
        return reply

    def document(self, session_id: str, app_path: str) -> str:
        """The page's whole document as the server built it (every model and property), as JSON text."""
        bokeh_server = self._bokeh_server()
        session = bokeh_server._tornado.get_session(app_path, session_id)
        return json.dumps(session.document.to_json(), default=str)

    def _bokeh_server(self) -> Any:
        import panel as pn

        return pn.state._servers[self.running.thread.server_id][0]

    def connect(self, actor: Actor, path: str, token: str) -> int:
        """Open a websocket as ``actor`` with a page's session token; 101 when accepted, else the status."""
        from tornado.httpclient import HTTPClientError, HTTPRequest
        from tornado.websocket import websocket_connect

        async def run() -> int:
            request = HTTPRequest(f"ws://127.0.0.1:{self.port}{path}",
                                  headers={"Origin": self.url, **self.cookie(actor)})
            try:
                ws = await websocket_connect(request, subprotocols=["bokeh", token])
            except HTTPClientError as error:
                return int(error.code)
            await asyncio.wait_for(ws.read_message(), 20)
            ws.close()
            return 101

        with ThreadPoolExecutor(1) as pool:
            return int(pool.submit(asyncio.run, run()).result(timeout=90))


_SIDES: dict[int, HttpSide] = {}


def side(world: World) -> HttpSide:
    return _SIDES[id(world)].start()


def register(world: World, http_side: HttpSide) -> None:
    _SIDES[id(world)] = http_side


def _refuse(reply: Reply) -> None:
    """Raise the service-style refusal an HTTP refusal stands for."""
    if reply.status == 404:
        raise NotFound(f"HTTP 404: {reply.body[:120]!r}")
    if reply.status in (401, 403) or (reply.status == 302 and "/signin" in reply.headers.get("location", "")):
        raise Forbidden(f"HTTP {reply.status}")
    if reply.status >= 400:
        raise AssertionError(f"unexpected HTTP {reply.status}: {reply.body[:200]!r}")


def _picture(path_of: Any) -> Any:
    def run(w: World, x: Actor, _: Any) -> bytes:
        reply = side(w).request(x, path_of(w, x))
        _refuse(reply)
        assert reply.status == 200 and reply.headers["content-type"].startswith("image/"), reply.status
        assert reply.headers["x-content-type-options"] == "nosniff"
        return reply.body
    return run


def _board_picture(image: str) -> Any:
    def path(w: World, x: Actor) -> str:
        from server.media import seal_grant

        grant = f"?grant={seal_grant(w.wb, x.token)}" if x.token else ""
        return f"/media/board/{w.board}/{getattr(w, image)}{grant}"
    return _picture(path)


def _page(path_of: Any, app_path: str) -> Any:
    def run(w: World, x: Actor, _: Any) -> str:
        from bokeh.util.token import get_session_id

        from server.identity import Gate

        http_side = side(w)
        reply = http_side.request(x, path_of(w, x))
        _refuse(reply)
        found = re.search(rb'"token":\s*"([A-Za-z0-9_\-.]+)"', reply.body)
        assert reply.status == 200 and found, reply.status
        session_id = get_session_id(found.group(1).decode())
        binding = Gate.of(w.wb).binding(session_id)
        assert binding is not None, "the page's session is bound to whoever opened it"
        acting = binding.identity.user
        assert (acting.id if acting else None) == (x.user.id if x.user else None), \
            f"the page acts as {acting} for {x.name}"
        return http_side.document(session_id, app_path)
    return run


def _socket(page: str) -> Any:
    app_path = page if page != "/" else "/"
    ws_path = (page.rstrip("/") or "") + "/ws"

    def setup(w: World, x: Actor) -> str:
        http_side = side(w)
        reply = http_side.request(w.actors["owner"], page)
        found = re.search(rb'"token":\s*"([A-Za-z0-9_\-.]+)"', reply.body)
        assert reply.status == 200 and found, (app_path, reply.status)
        return found.group(1).decode()

    def run(w: World, x: Actor, token: str) -> int:
        status = side(w).connect(x, ws_path, token)
        if status != 101:
            raise Forbidden(f"websocket refused with {status}")
        return status
    return setup, run


def _probe(path: str, method: str = "GET", headers: dict[str, str] | None = None) -> Any:
    def run(w: World, x: Actor, _: Any) -> bytes:
        reply = side(w).request(x, path, method=method, headers=headers)
        _refuse(reply)
        return reply.body + json.dumps(reply.headers).encode()
    return run


def _signed_in(actor: Actor) -> str:
    """Pages of one's own workspace: the owner sees hers, other people theirs; no account, no page."""
    return ALLOW if actor.is_owner else FILTER if actor.signed_in else DENY


def _signed_in_allow(actor: Actor) -> str:
    return ALLOW if actor.signed_in or actor.is_owner else DENY


def _anyone(actor: Actor) -> str:
    return ALLOW


def _owner_only(actor: Actor) -> str:
    return ALLOW if actor.is_owner else DENY


def _owner_or_filtered(actor: Actor) -> str:
    return ALLOW if actor.is_owner else FILTER if actor.signed_in else DENY


THUMB = r"/media/thumb/([A-Za-z0-9_\-]+)"
ORIGINAL = r"/media/original/([A-Za-z0-9_\-]+)"
BOARD_PICTURE = r"/media/board/([A-Za-z0-9_\-]+)/([A-Za-z0-9_\-]+)"

HTTP_CASES: list[Case] = [
    Case(f"GET {THUMB}", "A's hidden private image", _picture(lambda w, x: f"/media/thumb/{w.private_hidden}"),
         _owner_only),
    Case(f"GET {THUMB}", "A's private image on the shared board",
         _picture(lambda w, x: f"/media/thumb/{w.private_on_board}"), _owner_only),
    Case(f"GET {THUMB}", "A's team image", _picture(lambda w, x: f"/media/thumb/{w.team_image}"),
         _signed_in_allow),
    Case(f"GET {THUMB}", "A's public image", _picture(lambda w, x: f"/media/thumb/{w.public_image}"),
         _signed_in_allow),
    Case(f"GET {ORIGINAL}", "A's hidden private image",
         _picture(lambda w, x: f"/media/original/{w.private_hidden}"), _owner_only),
    Case(f"GET {ORIGINAL}", "A's private image on the shared board",
         _picture(lambda w, x: f"/media/original/{w.private_on_board}"), _owner_only),
    Case(f"GET {BOARD_PICTURE}", "A's private image through the shared board", _board_picture("private_on_board"),
         by_role("view"), board_scoped=True),
    Case(f"GET {BOARD_PICTURE}", "A's hidden image through the shared board (it is not on it)",
         _board_picture("private_hidden"), everyone_denied),
    Case(f"GET {BOARD_PICTURE}", "a forged grant", _picture(
        lambda w, x: f"/media/board/{w.board}/{w.private_on_board}?grant=gAAAAABforged"), everyone_denied),
    Case("GET /board", "A's shared board by id", _page(lambda w, x: f"/board?id={w.board}", "/board"),
         lambda x: ALLOW if x.is_owner else FILTER if x.signed_in else DENY,
         board_scoped=True, also_allowed=lambda w: {w.board}),  # the id the actor typed (the page's URL)
    Case("GET /board", "A's unshared board by id", _page(lambda w, x: f"/board?id={w.hidden_board}", "/board"),
         _owner_or_filtered, also_allowed=lambda w: {w.hidden_board}),
    Case("GET /board", "A's shared board through the actor's link (or a dead one)",
         _page(lambda w, x: f"/board?token={x.token or 'no-such-link'}", "/board"),
         lambda x: ALLOW if x.is_owner else FILTER, board_scoped=True),
    Case("GET /healthz", "the liveness probe", _probe("/healthz"), _anyone),
    Case("GET /readyz", "the readiness probe", _probe("/readyz"), _anyone),
    Case("GET /metrics", "the metrics", _probe("/metrics"), _anyone),
    Case("GET /signin", "the way to sign in", _probe("/signin?next=//evil.example"), _anyone,
         check=lambda w, x, body: _no_offsite(body)),
    Case("GET /signout", "the sign-out confirmation", _probe("/signout"), _anyone),
    Case("POST /signout", "a sign-out posted from another site",
         _probe("/signout", "POST", {"Origin": "http://evil.example"}), everyone_denied),
]
for _path in PAGES:
    HTTP_CASES.append(Case(f"GET {_path}", "the actor's own workspace",
                           _page(lambda w, x, p=_path: p, _path), _signed_in))
    _setup, _run = _socket(_path)
    HTTP_CASES.append(Case(f"WS {(_path.rstrip('/') or '')}/ws", "a page A opened", _run, _owner_only,
                           setup=_setup))
HTTP_CASES.append(Case("GET /board", "the board page with no board", _page(lambda w, x: "/board", "/board"),
                       _signed_in))
_setup, _run = _socket("/board")
HTTP_CASES.append(Case("WS /board/ws", "a board page A opened", _run, _owner_only, setup=_setup))


def _no_offsite(body: bytes) -> None:
    assert b"evil.example" not in body.split(b"{", 1)[0]


HTTP_EXEMPT: dict[str, str] = {}


def http_paths(world: World) -> set[str]:
    """Every route the web server answers, as the server itself is configured (not a hand-made list)."""
    import inspect

    from server.app import routes
    from server.auth import WorkbenchAuth
    from server.main import server_options

    options = server_options(world.wb, "127.0.0.1", 0)
    found = {f"GET {pattern}" for pattern, *_ in options["extra_patterns"]}
    for page in routes(world.wb):
        found |= {f"GET {page}", f"WS {page.rstrip('/')}/ws"}
    for path, handler in WorkbenchAuth(world.wb).endpoints:
        found |= {f"{m.upper()} {path}" for m in ("get", "post", "put", "delete", "patch")
                  if m in vars(handler) and inspect.isfunction(vars(handler)[m])}
    return found
