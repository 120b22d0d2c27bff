"""Clerk sign-in on the real web server: pages, media, the websocket upgrade, sign-out and revocation.

A real workbench served in Clerk mode on a loopback port; real RS256 session
tokens minted with a local key; Clerk's Backend API is a local HTTP server the
real ``clerk-backend-api`` SDK talks to (``tests/clerk_kit.py``). Every token
case is tried over HTTP, over the websocket upgrade and on a media URL.
"""

from __future__ import annotations

import asyncio
import http.client
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from bokeh.util.token import generate_jwt_token, get_session_id

from server.identity import Gate, safe_next
from tests.clerk_kit import OTHER_KEY, FakeClerk, Person, clerk_settings, mint, serve_fake
from tests.helpers import png_bytes
from workbench import Settings, Workbench

ANA = Person("user_ana", "sess_ana", "ana@studio.test", "Ana", "Film")
BEN = Person("user_ben", "sess_ben", "ben@studio.test", "Ben", "Cut")
CLEO = Person("user_cleo", "sess_cleo", "cleo@studio.test", "Cleo")  # her tokens carry no email claim


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Served:
    port: int
    url: str
    wb: Workbench
    fake: FakeClerk
    ana_image: str

    def token(self, person: Person, **overrides: Any) -> str:
        claims: dict[str, Any] = {"email": person.email, "name": f"{person.first_name} {person.last_name}".strip()}
        if person is CLEO:
            claims = {}
        claims.update(overrides)
        return mint(person.user_id, person.session_id, party=self.url, **claims)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    from server.main import start

    fake = FakeClerk()
    for person in (ANA, BEN, CLEO):
        fake.add(Person(**vars(person)))
    for running_fake in serve_fake(fake):
        settings = clerk_settings(tmp_path_factory.mktemp("clerk"), running_fake, clerk_revalidate_seconds=1)
        port, url = settings.server.port, settings.server.public_url
        wb = Workbench(settings)
        ana = wb.accounts.sign_in(ANA.user_id, ANA.email, "Ana Film")
        image = wb.library.ingest(ana, png_bytes((10, 120, 200)), filename="ana.png", wait=True)
        running = start(settings, wb=wb)
        try:
            yield Served(port, url, wb, running_fake, image.id)
        finally:
            running.stop()


def _get(served: Served, path: str, headers: dict[str, str] | None = None,
         method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
    connection.request(method, path, headers={"Host": f"127.0.0.1:{served.port}", **(headers or {})})
    answer = connection.getresponse()
    body = answer.read()
    connection.close()
    headers = {k.lower(): v for k, v in answer.getheaders()}
    headers["set-cookie"] = "\n".join(answer.msg.get_all("Set-Cookie") or [])
    return answer.status, headers, body


def _cookie(token: str) -> dict[str, str]:
    return {"Cookie": f"theme=dark; __session={token}"}


def _unsigned(served: Served) -> str:
    import base64
    import json

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    now = int(time.time())
    claims = {"sub": ANA.user_id, "sid": ANA.session_id, "iss": "https://clerk.workbench.test", "azp": served.url,
              "iat": now, "nbf": now, "exp": now + 60}
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def _hs256(served: Served) -> str:
    import jwt

    from tests.clerk_kit import PUBLIC_PEM

    now = int(time.time())
    claims = {"sub": ANA.user_id, "sid": ANA.session_id, "iss": "https://clerk.workbench.test", "azp": served.url,
              "iat": now, "nbf": now, "exp": now + 60}
    try:
        return jwt.encode(claims, PUBLIC_PEM, algorithm="HS256")
    except jwt.exceptions.InvalidKeyError:  # PyJWT refuses PEM keys for HMAC: sign by hand
        import base64
        import hashlib
        import hmac
        import json

        def part(data: dict[str, Any]) -> bytes:
            return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=")

        head = part({"alg": "HS256", "typ": "JWT"}) + b"." + part(claims)
        signature = base64.urlsafe_b64encode(hmac.new(PUBLIC_PEM.encode(), head, hashlib.sha256).digest())
        return (head + b"." + signature.rstrip(b"=")).decode()


# Every way a request can claim to be Ana; only the first two are her.
BAD: dict[str, Callable[[Served], dict[str, str]]] = {
    "expired": lambda s: _cookie(s.token(ANA, iat=int(time.time()) - 300, nbf=int(time.time()) - 300,
                                         exp=int(time.time()) - 100)),
    "not yet valid": lambda s: _cookie(s.token(ANA, nbf=int(time.time()) + 300, iat=int(time.time()) + 300)),
    "wrong signature": lambda s: _cookie(mint(ANA.user_id, ANA.session_id, party=s.url, key=OTHER_KEY,
                                              email=ANA.email)),
    "alg none": lambda s: _cookie(_unsigned(s)),
    "HS256 with the public key": lambda s: _cookie(_hs256(s)),
    "wrong authorized party": lambda s: _cookie(s.token(ANA, azp="https://evil.example")),
    "wrong issuer": lambda s: _cookie(s.token(ANA, iss="https://clerk.evil.example")),
    "missing": lambda s: {},
    "garbage": lambda s: _cookie("not-a-jwt"),
}
GOOD: dict[str, Callable[[Served], dict[str, str]]] = {
    "valid cookie": lambda s: _cookie(s.token(ANA)),
    "valid bearer": lambda s: {"Authorization": f"Bearer {s.token(ANA)}"},
}


@pytest.mark.parametrize("case", list(GOOD))
def test_a_valid_token_opens_the_page_as_its_person(served: Served, case: str) -> None:
    status, _, body = _get(served, "/library", GOOD[case](served))
    assert status == 200 and b'"token"' in body
    user = served.wb.accounts.find_by_external_id(ANA.user_id)
    assert user is not None and user.email == ANA.email and user.display_name == "Ana Film"


@pytest.mark.parametrize("case", list(BAD))
def test_any_other_token_is_sent_to_sign_in_not_an_error_page(served: Served, case: str) -> None:
    status, headers, body = _get(served, "/boards?sort=recent", BAD[case](served))
    assert status == 302, (case, status, body[:200])
    location = headers["location"]
    assert location.lstrip(".").startswith("/signin?next=") and b'"token"' not in body
    assert unquote(location.split("next=", 1)[1]) == "/boards?sort=recent"
    # ... and /signin forwards to Clerk with a return URL back into this app only.
    status, headers, _ = _get(served, location.lstrip("."))
    assert status == 302
    target = urlsplit(headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == "https://accounts.workbench.test/sign-in"
    assert parse_qs(target.query)["redirect_url"] == [served.url + "/boards?sort=recent"]


@pytest.mark.parametrize("case", list(GOOD) + list(BAD))
def test_media_answers_only_its_person(served: Served, case: str) -> None:
    headers = (GOOD | BAD)[case](served)
    status, answer, body = _get(served, f"/media/thumb/{served.ana_image}", headers)
    if case in GOOD:
        assert status == 200 and answer["content-type"] in ("image/webp", "image/jpeg", "image/png")
        assert answer["x-content-type-options"] == "nosniff"
    else:
        assert status == 401 and b"Sign in" in body, (case, status)
    if case == "valid cookie":  # the original goes out with the type intake stored for it
        status, answer, _ = _get(served, f"/media/original/{served.ana_image}", headers)
        stored = served.wb.db.scalar("SELECT mime FROM images WHERE id = ?", [served.ana_image])
        assert status == 200 and answer["content-type"] == stored == "image/png"
    # Ben, signed in, is not Ana: her picture does not exist for him.
    status, _, _ = _get(served, f"/media/original/{served.ana_image}", _cookie(served.token(BEN)))
    assert status in (403, 404)


def _page_token(served: Served, headers: dict[str, str], path: str = "/library") -> str:
    status, _, body = _get(served, path, headers)
    assert status == 200, status
    found = re.search(rb'"token":\s*"([A-Za-z0-9_\-.]+)"', body)
    assert found, "the page carries its session token"
    return found.group(1).decode()


def _connect(served: Served, token: str | None, headers: dict[str, str], *, path: str = "/library/ws",
             origin: str | None = None, hold: Callable[[Any], Any] | None = None) -> tuple[int, list[Any]]:
    """Open the websocket; (101, messages read) when accepted, (HTTP status, []) when refused."""
    from tornado.httpclient import HTTPClientError, HTTPRequest
    from tornado.websocket import websocket_connect

    async def run() -> tuple[int, list[Any]]:
        request = HTTPRequest(f"ws://127.0.0.1:{served.port}{path}",
                              headers={"Origin": origin or served.url, **headers})
        try:
            ws = await websocket_connect(request, subprotocols=["bokeh", token] if token else None)
        except HTTPClientError as error:
            return error.code, []
        messages = [await asyncio.wait_for(ws.read_message(), 20)]
        if hold is not None:
            messages += await hold(ws)
        ws.close()
        return 101, messages

    # On a thread of its own: another test in this process may own a running event loop (Playwright).
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result(timeout=90)


@pytest.mark.parametrize("case", list(GOOD) + list(BAD) + ["another person"])
def test_the_websocket_upgrade_is_only_for_the_person_who_opened_the_page(served: Served, case: str) -> None:
    token = _page_token(served, _cookie(served.token(ANA)))
    headers = _cookie(served.token(BEN)) if case == "another person" else (GOOD | BAD)[case](served)
    status, messages = _connect(served, token, headers)
    if case in GOOD:
        assert status == 101 and messages[0] is not None  # Bokeh's ACK: the session is Ana's
    else:
        assert (status, messages) == (403, []), case


def test_forged_replayed_or_client_chosen_sessions_get_no_document(served: Served) -> None:
    ana = _cookie(served.token(ANA))
    token = _page_token(served, ana)
    payload, signature = token.rsplit(".", 1)
    tampered = f"{payload}.{'A' * 4}{signature[4:]}"
    chosen = generate_jwt_token("picked-by-the-client", secret_key=None, signed=False)
    other_key = generate_jwt_token("x" * 44, secret_key="another-servers-key-" * 3, signed=True)
    assert _connect(served, None, ana) == (403, [])
    assert _connect(served, tampered, ana) == (403, [])
    assert _connect(served, chosen, ana) == (403, [])
    assert _connect(served, other_key, ana) == (403, [])
    assert _connect(served, token, ana, origin="http://evil.example")[0] == 403
    # The same token replayed by Ben, even with his own valid session, gets nothing.
    assert _connect(served, token, _cookie(served.token(BEN))) == (403, [])
    assert get_session_id(token) and _connect(served, token, ana)[0] == 101


def test_a_share_link_guest_needs_no_account_but_only_reaches_that_board(served: Served) -> None:
    ana = served.wb.accounts.find_by_external_id(ANA.user_id)
    assert ana is not None
    board = served.wb.boards.create(ana, "Pitch")
    _, link_token = served.wb.boards.create_link(ana, board.id, "view")
    token = _page_token(served, {}, f"/board?token={link_token}")
    assert _connect(served, token, {}, path="/board/ws")[0] == 101
    status, headers, _ = _get(served, f"/board?id={board.id}")
    assert status == 302 and "/signin" in headers["location"]
    assert _get(served, "/library")[0] == 302


def test_first_sign_in_creates_the_user_from_the_backend_api_when_the_token_has_no_email(served: Served) -> None:
    assert served.wb.accounts.find_by_external_id(CLEO.user_id) is None
    status, _, _ = _get(served, "/library", _cookie(served.token(CLEO, pla="u:premium")))
    assert status == 200
    cleo = served.wb.accounts.find_by_external_id(CLEO.user_id)
    assert cleo is not None and cleo.email == CLEO.email and cleo.display_name == "Cleo" and cleo.plan == "premium"
    assert ("GET", f"/v1/users/{CLEO.user_id}") in served.fake.calls


def _wait_closed() -> Any:
    """Read until the server closes the socket (the window is 1 s here); "still open" after 20 s fails the test."""
    async def hold(socket_: Any) -> list[Any]:
        seen: list[Any] = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            message = await asyncio.wait_for(socket_.read_message(), 20)
            if message is None:
                return seen + ["closed", socket_.close_code]
            seen.append("message")
        return seen + ["still open"]
    return hold


@pytest.mark.parametrize("what", ["banned", "deleted", "revoked"])
def test_a_revoked_or_banned_person_stops_acting_within_the_window(served: Served, what: str) -> None:
    ben = served.fake.people[BEN.user_id]
    # A session of its own per case: an ended Clerk session never comes back.
    ben.session_id, ben.status, ben.banned, ben.deleted = f"sess_ben_{what}", "active", False, False
    cookie = _cookie(served.token(ben))
    token = _page_token(served, cookie)

    def revoke_soon() -> None:
        time.sleep(1.0)
        # An administrator bans Ben, deletes him, or revokes his session in Clerk's dashboard.
        if what == "banned":
            ben.banned = True
        elif what == "deleted":
            ben.deleted = True
        else:
            ben.status = "revoked"

    with ThreadPoolExecutor(1) as pool:
        pool.submit(revoke_soon)
        status, messages = _connect(served, token, cookie, hold=_wait_closed())
    assert status == 101 and messages[-2:] == ["closed", 4001], messages
    # His still-unexpired token no longer acts over HTTP either, and his page cannot reconnect.
    assert _get(served, "/library", cookie)[0] == 302
    assert _connect(served, token, cookie)[0] == 403
    ben.session_id, ben.status, ben.banned, ben.deleted = BEN.session_id, "active", False, False


def test_sign_out_revokes_the_clerk_session_and_closes_the_open_pages(served: Served) -> None:
    gate = Gate.of(served.wb)
    dana = served.fake.add(Person("user_dana", "sess_dana", "dana@studio.test", "Dana"))
    cookie = _cookie(served.token(dana))
    token = _page_token(served, cookie)
    assert _get(served, "/signout", {**cookie, "Origin": "http://evil.example"}, method="POST")[0] == 403

    def sign_out_soon() -> None:
        time.sleep(1.0)
        status, headers, _ = _get(served, "/signout", {**cookie, "Origin": served.url}, method="POST")
        assert status == 303 and headers["location"].startswith("/signin")
        assert "__session=;" in headers["set-cookie"] or '__session="";' in headers["set-cookie"]

    with ThreadPoolExecutor(1) as pool:
        signing_out = pool.submit(sign_out_soon)
        status, messages = _connect(served, token, cookie, hold=_wait_closed())
        signing_out.result(timeout=30)
    assert status == 101 and messages[-2:] == ["closed", 4001]
    assert ("POST", "/v1/sessions/sess_dana/revoke") in served.fake.calls
    assert dana.status == "revoked" and gate.binding(get_session_id(token)).ended == "signed out"  # type: ignore[union-attr]


@pytest.mark.parametrize("value, expected", [
    ("/board?id=b_1", "/board?id=b_1"),
    ("/library", "/library"),
    ("//evil.example/x", "/library"),
    ("/\\evil.example", "/library"),
    ("/%5Cevil.example", "/library"),
    ("/%2F%2Fevil.example", "/library"),
    ("https://evil.example/board", "/library"),
    ("http://127.0.0.1:9/board?id=1", "/library"),
    ("javascript:alert(1)", "/library"),
    ("JaVaScRiPt:alert(1)", "/library"),
    (" /library", "/library"),
    ("/library\r\nSet-Cookie: x=1", "/library"),
    ("board", "/library"),
    ("", "/library"),
    ("/signin?next=/library", "/library"),
    ("https://workbench.test/boards?x=1", "/boards?x=1"),
])
def test_the_return_url_can_only_point_back_into_the_app(value: str, expected: str) -> None:
    assert safe_next(value, "https://workbench.test") == expected


def test_local_mode_refuses_a_public_interface(tmp_path: Path) -> None:
    env = {"WORKBENCH_HOME": str(tmp_path), "WORKBENCH_SERVER__HOST": "0.0.0.0", "PATH": "/usr/bin:/bin",
           "WORKBENCH_LIBRARY__LOAD_SAMPLES": "false"}
    done = subprocess.run([sys.executable, "-m", "workbench.cli", "serve"], env=env, capture_output=True,
                          text=True, timeout=120, cwd=Path(__file__).parent.parent)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "WORKBENCH_AUTH__MODE=clerk" in done.stderr and "0.0.0.0" in done.stderr
    assert not (tmp_path / "workbench.duckdb").exists()  # refused before anything was opened


def test_clerk_mode_half_configured_refuses_to_start(tmp_path: Path) -> None:
    from server.main import ExposedWithoutSignIn, check_exposure

    settings = Settings(home=tmp_path, auth={"mode": "clerk", "clerk_jwt_key": "x", "clerk_issuer": "https://c"})
    with pytest.raises(ExposedWithoutSignIn, match="CLERK_AUTHORIZED_PARTIES.*CLERK_SECRET_KEY.*CLERK_SIGN_IN_URL"):
        check_exposure(settings)


def test_clerk_pages_allow_clerks_browser_script_in_the_policy(served: Served) -> None:
    # The script itself is checked in the browser (tests/browser/test_clerk_sign_in.py).
    status, headers, _ = _get(served, "/library", _cookie(served.token(ANA)))
    assert status == 200
    policy = dict(part.split(" ", 1) for part in headers["content-security-policy"].split("; "))
    assert "https://clerk.workbench.test" in policy["script-src"].split()
    assert "https://clerk.workbench.test" in policy["connect-src"].split()
    assert "https://clerk.workbench.test" not in policy["default-src"]


def test_local_pages_allow_nothing_from_elsewhere(tmp_path: Path) -> None:
    from server.hardening import CONTENT_SECURITY_POLICY
    from server.main import start

    port = _free_port()
    settings = Settings(home=tmp_path, server={"port": port}, library={"load_samples": False})
    running = start(settings, wb=Workbench(settings))
    try:
        local = Served(port, f"http://127.0.0.1:{port}", running.wb, FakeClerk(), "")
        status, headers, _ = _get(local, "/library")
        assert status == 200
        assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    finally:
        running.stop()


def test_board_pictures_travel_with_a_sealed_grant_not_the_share_token(served: Served) -> None:
    from server.media import open_grant, seal_grant

    ana = served.wb.accounts.find_by_external_id(ANA.user_id)
    assert ana is not None
    board = served.wb.boards.create(ana, "Grants")
    served.wb.boards.add_image(ana, board.id, served.ana_image, x=10, y=10)
    _, link_token = served.wb.boards.create_link(ana, board.id, "view")
    grant = seal_grant(served.wb, link_token)
    assert link_token not in grant and open_grant(served.wb, grant) == link_token
    path = f"/media/board/{board.id}/{served.ana_image}"
    status, headers, _ = _get(served, f"{path}?grant={grant}")
    assert status == 200 and headers["content-type"].startswith("image/")
    assert _get(served, f"{path}?token={link_token}")[0] in (403, 404)  # the bare token is not a picture key
    assert _get(served, f"{path}?grant={grant[:-6]}AAAAAA")[0] == 403
    assert _get(served, f"/media/board/{board.id}/img_other?grant={grant}")[0] in (403, 404)
    link = served.wb.boards.links(ana, board.id)[0]
    served.wb.boards.revoke_link(ana, board.id, link.id)
    assert _get(served, f"{path}?grant={grant}")[0] in (403, 404)  # the boards domain still decides
