"""The web server answers only under its own names, and every response carries the security headers.

A real server on a loopback port, real HTTP over sockets: a page asked for
under a foreign host name (DNS rebinding) gets 421 for every path, the
websocket upgrade included, and never reaches the application.
"""

from __future__ import annotations

import http.client
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from server.hardening import CONTENT_SECURITY_POLICY, allowed_hosts, host_name
from workbench import Settings, Workbench

PATHS = ["/", "/library", "/boards", "/healthz", "/media/thumb/i_0000", "/static/extensions/panel/panel.min.js",
         "/autoload.js?bokeh-autoload-element=x&bokeh-absolute-url=http://127.0.0.1"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    from server.main import start

    port = _free_port()
    settings = Settings(home=tmp_path_factory.mktemp("web"), server={"port": port, "allowed_hosts": ["studio.test"]},
                        library={"load_samples": False})
    running = start(settings, wb=Workbench(settings))
    try:
        yield port
    finally:
        running.stop()


def _get(port: int, path: str, host: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path, headers={"Host": host, **(headers or {})})
    answer = connection.getresponse()
    body = answer.read()
    connection.close()
    return answer.status, {k.lower(): v for k, v in answer.getheaders()}, body


@pytest.mark.parametrize("host", ["evil.example:{port}", "127.0.0.1.nip.io:{port}", "attacker", ""])
@pytest.mark.parametrize("path", PATHS)
def test_a_foreign_host_name_gets_nothing(served: int, path: str, host: str) -> None:
    status, headers, body = _get(served, path, host.format(port=served))
    assert status == 421
    assert b"does not answer as" in body and b"Bokeh" not in body and b"workbench-data" not in body
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_the_websocket_upgrade_under_a_foreign_host_is_refused(served: int) -> None:
    upgrade = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Origin": f"http://evil.example:{served}"}
    status, _, body = _get(served, "/ws", f"evil.example:{served}", upgrade)
    assert status == 421 and b"does not answer as" in body


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "studio.test", "STUDIO.test:443"])
def test_its_own_names_are_served_with_security_headers(served: int, host: str) -> None:
    for path in ("/healthz", "/", "/media/thumb/i_0000"):
        status, headers, _ = _get(served, path, host.format(port=served))
        assert status in (200, 404), (path, status)  # a missing picture is a plain 404
        assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert "frame-ancestors 'self'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"


def test_autoload_does_not_answer_every_origin(served: int) -> None:
    status, headers, _ = _get(served, PATHS[-1], f"127.0.0.1:{served}", {"Origin": "http://evil.example"})
    assert headers.get("access-control-allow-origin") != "*", (status, headers)


def test_allowed_names_come_from_the_settings(tmp_path: Path) -> None:
    local = Settings(home=tmp_path, server={"port": 5006})
    assert allowed_hosts(local) == {"127.0.0.1", "localhost", "::1"}
    hosted = Settings(home=tmp_path, server={"host": "10.0.0.5", "port": 8080,
                                             "public_url": "https://workbench.example.org",
                                             "allowed_hosts": ["Preview.Example.org"]})
    assert allowed_hosts(hosted) == {"10.0.0.5", "workbench.example.org", "preview.example.org"}
    assert [host_name(h) for h in ("[::1]:5006", "Studio.Example:443", "plain", "::1")] == \
        ["::1", "studio.example", "plain", "::1"]


def _page_token(body: bytes) -> str:
    import re

    found = re.search(rb'"token":\s*"([A-Za-z0-9_\-.]+)"', body)
    assert found, "the page carries its session token"
    return found.group(1).decode()


def test_a_client_chosen_session_id_is_refused(served: int) -> None:
    status, _, _ = _get(served, "/?bokeh-session-id=picked-by-the-client", f"127.0.0.1:{served}")
    assert status == 403


def test_the_session_token_carries_no_cookie_or_authorization(served: int) -> None:
    from bokeh.util.token import get_token_payload

    status, _, body = _get(served, "/", f"127.0.0.1:{served}",
                           {"Cookie": "__session=clerk.jwt.value; theme=dark", "Authorization": "Bearer secret-jwt"})
    assert status == 200
    payload = get_token_payload(_page_token(body))
    assert "__session" not in payload.get("cookies", {})
    headers = {k.lower() for k in payload.get("headers", {})}
    assert "authorization" not in headers and "cookie" not in headers
    assert b"clerk.jwt.value" not in body and b"secret-jwt" not in body


def test_a_websocket_with_a_token_signed_by_another_key_is_refused(served: int) -> None:
    import asyncio

    from bokeh.util.token import generate_jwt_token, generate_session_id
    from tornado.httpclient import HTTPClientError, HTTPRequest
    from tornado.websocket import websocket_connect

    forged_key = "not-the-servers-key-" * 2
    session_id = generate_session_id(secret_key=forged_key, signed=True)
    token = generate_jwt_token(session_id, secret_key=forged_key, signed=True)

    async def connect() -> int:
        request = HTTPRequest(f"ws://127.0.0.1:{served}/ws", headers={"Origin": f"http://127.0.0.1:{served}"})
        try:
            socket_ = await websocket_connect(request, subprotocols=["bokeh", token])
        except HTTPClientError as error:
            return error.code
        message = await socket_.read_message()  # a refused session is closed before any document is sent
        socket_.close()
        return 200 if message else 0

    # On a thread of its own: another test in this process may own a running event loop (Playwright).
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(asyncio.run, connect()).result(timeout=60) in (401, 403, 0)


@pytest.mark.parametrize("path", ["/admin", "/admin/", "/rest/session_info", "/liveness", "/debug", "/login",
                                  "/logout"])
def test_panels_admin_and_debug_endpoints_are_off(served: int, path: str) -> None:
    status, _, body = _get(served, path, f"127.0.0.1:{served}")
    assert status == 404, (path, status)
    assert b"session_info" not in body and b"bokeh" not in body.lower()


def test_plain_http_takes_no_large_bodies_and_sets_no_cookies(served: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", served, timeout=30)
    body = b"x" * (1024 * 1024)
    try:
        connection.request("POST", "/signout", body=body, headers={"Host": f"127.0.0.1:{served}",
                                                                   "Content-Length": str(len(body))})
        status = connection.getresponse().status
    except (ConnectionResetError, http.client.RemoteDisconnected, BrokenPipeError):
        status = 0  # Tornado may drop the connection as soon as the declared size is over the limit
    connection.close()
    assert status in (0, 400, 413)
    for path in ("/", "/library", "/healthz", "/media/thumb/i_0000"):
        _, headers, _ = _get(served, path, f"127.0.0.1:{served}")
        assert "set-cookie" not in headers, (path, headers.get("set-cookie"))
