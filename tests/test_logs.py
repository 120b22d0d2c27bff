"""Structured logs: request and user ids on every line, never a token, key or cookie."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from workbench.logs import bind, configure_logging, log_context, new_request_id, redact

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyXzEyMyJ9.c2lnbmF0dXJlLXBhcnQ"


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    """JSON logging into a buffer, restored to the test run's own handlers afterwards."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level, {n: logging.getLogger(n).level for n in ("server", "workbench",
                                                                                       "tornado.access")})
    buffer = io.StringIO()
    configure_logging("json", "INFO", stream=buffer)
    try:
        yield buffer
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
        for name, level in saved[2].items():
            logging.getLogger(name).setLevel(level)


def _records(buffer: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_request_and_user_ids_tag_the_lines_logged_inside_the_block(lines) -> None:
    log = logging.getLogger("workbench.test")
    log.info("before")
    with log_context(request="req-1", user="u_42"):
        log.info("board exported")
        with log_context(user="u_43"):
            log.info("nested")
    log.info("after")
    records = _records(lines)
    assert [r["message"] for r in records] == ["before", "board exported", "nested", "after"]
    assert "request_id" not in records[0] and "user_id" not in records[0]
    assert (records[1]["request_id"], records[1]["user_id"]) == ("req-1", "u_42")
    assert (records[2]["request_id"], records[2]["user_id"]) == ("req-1", "u_43")
    assert "request_id" not in records[3] and "user_id" not in records[3]
    assert {"time", "level", "logger"} <= set(records[1])


def test_concurrent_requests_keep_their_own_ids(lines) -> None:
    """Each request runs in its own task (as Tornado runs handlers): bind() in one never leaks into another."""
    log = logging.getLogger("server.test")

    async def request(n: int) -> None:
        bind(request=f"req-{n}", user=f"u_{n}")
        await asyncio.sleep(0.01 * (3 - n))  # interleave the three
        log.info("answered %d", n)

    async def main() -> None:
        await asyncio.gather(*(asyncio.create_task(request(n)) for n in range(3)))

    # On a thread of its own: a browser test in this process may own a running event loop (Playwright).
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, main()).result(timeout=60)
    seen = {r["message"]: (r["request_id"], r["user_id"]) for r in _records(lines)}
    assert seen == {f"answered {n}": (f"req-{n}", f"u_{n}") for n in range(3)}


def test_no_token_key_or_cookie_reaches_a_line(lines) -> None:
    log = logging.getLogger("server.test")
    log.warning("Authorization: Bearer %s", "abcdefgh12345678")
    log.warning("token %s rejected", JWT)
    log.warning("DefaultEndpointsProtocol=https;AccountName=wb;AccountKey=c2VjcmV0a2V5PT0=;EndpointSuffix=x")
    log.warning("openai key sk-proj-abcdefghijklmnop used")
    log.warning("Cookie: __session=%s; __client=abc123secret", JWT)
    log.warning("https://wb.blob.core.windows.net/c?sv=2024&sig=AbC%2Bsecret&se=2026")
    try:
        raise RuntimeError(f"Clerk said no to {JWT}")
    except RuntimeError:
        log.exception("sign-in failed")
    with log_context(request="req-9", user=JWT):  # even an id bound by mistake
        log.info("bound")
    text = lines.getvalue()
    for secret in ("abcdefgh12345678", JWT, "c2VjcmV0a2V5PT0=", "sk-proj-abcdefghijklmnop", "abc123secret",
                   "AbC%2Bsecret", "eyJ"):
        assert secret not in text
    assert text.count("[redacted") >= 8
    assert redact("AccountName=wb;AccountKey=abc;") == "AccountName=wb;AccountKey=[redacted];"


def test_a_request_id_from_outside_is_kept_only_when_it_is_a_plain_id() -> None:
    assert new_request_id("7f9e-11aa:3") == "7f9e-11aa:3"
    forged = new_request_id('x"}\n{"level": "INFO", "message": "forged')
    assert len(forged) == 32 and forged.isalnum()
    assert new_request_id(None) != new_request_id(None)


def test_plain_lines_for_a_person_still_get_the_ids_on_the_record(lines) -> None:
    configure_logging("text", "INFO", stream=lines)
    captured: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            captured.append(record)

    keep = Keep()
    for handler_filter in logging.getLogger().handlers[0].filters:
        keep.addFilter(handler_filter)
    logging.getLogger().addHandler(keep)
    with log_context(request="req-2", user="u_7"):
        logging.getLogger("workbench.test").info("plain")
    assert [(r.request_id, r.user_id) for r in captured] == [("req-2", "u_7")]  # type: ignore[attr-defined]
    assert "workbench.test: plain" in lines.getvalue()


def test_the_access_line_names_the_request_and_the_signed_in_person(lines) -> None:
    """server.probes.log_request on a real Tornado server: ids on the line, the query (share tokens) never."""
    import http.client
    import socket
    import threading
    from dataclasses import dataclass

    from tornado.httpserver import HTTPServer
    from tornado.ioloop import IOLoop
    from tornado.web import Application, RequestHandler

    from server.probes import log_request

    @dataclass
    class Person:
        id: str

    @dataclass
    class Resolved:  # the shape server.identity.Identity has: the person under .user
        user: Person | None

    class Page(RequestHandler):
        def get_current_user(self) -> Resolved:
            return Resolved(Person("u_555") if self.get_query_argument("who", "") else None)

        def get(self) -> None:
            self.write("signed in" if self.current_user.user else "guest")

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started, loops = threading.Event(), []

    def serve() -> None:
        asyncio.set_event_loop(asyncio.new_event_loop())
        server = HTTPServer(Application([(r"/page", Page)], log_function=log_request))
        server.listen(port, "127.0.0.1")
        loops.append((IOLoop.current(), server))
        IOLoop.current().add_callback(started.set)
        IOLoop.current().start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert started.wait(10)
    try:
        for path, headers in (("/page?who=1&token=" + JWT, {"X-Request-ID": "ing-77"}), ("/page", {})):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("GET", path, headers=headers)
            assert connection.getresponse().status == 200
            connection.close()
    finally:
        loop, server = loops[0]
        loop.add_callback(server.stop)
        loop.add_callback(loop.stop)
        thread.join(timeout=10)
    access = [r for r in _records(lines) if r["logger"] == "tornado.access"]
    assert len(access) == 2
    assert access[0]["request_id"] == "ing-77" and access[0]["user_id"] == "u_555"
    assert access[0]["message"].startswith("GET /page 200") and access[0]["route"] == "Page"
    assert "user_id" not in access[1] and len(str(access[1]["request_id"])) == 32  # a guest; an id made here
    assert JWT not in lines.getvalue() and "token=" not in lines.getvalue()
