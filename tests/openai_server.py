"""A real local HTTP server that speaks the OpenAI API, for tests.

It listens on 127.0.0.1 on a free port in a background thread and answers
``POST /v1/chat/completions`` (plain JSON, or Server-Sent Events when the
request says ``stream: true``) and ``POST /v1/images/generations``
(``b64_json``). What it answers is scripted per test, one behaviour per
request, falling back to a default once the script runs out::

    with OpenAIServer() as server:
        server.script(Fail(429, retry_after=0), Reply("Fade in."))
        backend = OpenAITextBackend(api_key="sk-test", base_url=server.base_url)
        backend.complete("system", "prompt")           # retried once, then "Fade in."
        assert len(server.requests) == 2

Every request is recorded (method, path, headers, JSON body) so a test can
check that retries happened and what a repair prompt said.
"""

from __future__ import annotations

import base64
import json
import struct
import threading
import time
import zlib
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["OpenAIServer", "Reply", "Fail", "Hang", "ImageReply", "RecordedRequest", "tiny_png"]


def tiny_png(rgb: tuple[int, int, int] = (20, 20, 20)) -> bytes:
    """A valid 1x1 PNG built with the standard library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + bytes(rgb))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


@dataclass
class Reply:
    """A normal chat answer. Streamed as ``chunks`` (default: word by word), ``chunk_delay`` apart."""

    text: str = "Hello from the local OpenAI test server."
    chunks: list[str] | None = None
    chunk_delay: float = 0.0
    model: str = "gpt-test"

    def stream_chunks(self) -> list[str]:
        if self.chunks is not None:
            return self.chunks
        words = self.text.split(" ")
        return [word + (" " if i < len(words) - 1 else "") for i, word in enumerate(words)]


@dataclass
class Fail:
    """An HTTP error answer in the OpenAI error format, optionally with a Retry-After header."""

    status: int = 500
    message: str = "The server had an error while processing your request."
    retry_after: float | None = None


@dataclass
class Hang:
    """Say nothing for ``seconds`` (longer than the client's timeout), then answer 504."""

    seconds: float = 10.0


@dataclass
class ImageReply:
    """An images answer: base64 image bytes (a tiny PNG by default)."""

    image: bytes = field(default_factory=tiny_png)


Behaviour = Reply | Fail | Hang | ImageReply


@dataclass
class RecordedRequest:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list((self.body or {}).get("messages", []))


class OpenAIServer:
    """The server; use as a context manager (or call ``start``/``stop``)."""

    def __init__(self, default: Behaviour | None = None) -> None:
        self.default = default
        self.requests: list[RecordedRequest] = []
        self.chunks_sent = 0
        self.stream_aborted = threading.Event()
        self._queue: deque[Behaviour] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """The OpenAI base URL to hand to the SDK, e.g. ``http://127.0.0.1:PORT/v1``."""
        assert self._httpd is not None, "start the server first"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def script(self, *behaviours: Behaviour) -> None:
        """Queue what the next requests get, in order."""
        with self._lock:
            self._queue.extend(behaviours)

    def chat_requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def start(self) -> OpenAIServer:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        # A short poll interval keeps shutdown (and so each test's teardown) fast.
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="openai-test-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes hanging handlers so shutdown is quick
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> OpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _next(self, request: RecordedRequest) -> Behaviour:
        with self._lock:
            self.requests.append(request)
            if self._queue:
                return self._queue.popleft()
        if self.default is not None:
            return self.default
        return ImageReply() if request.path.endswith("/images/generations") else Reply()


def _handler_for(server: OpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.0: every answer closes its connection, so a stream ends when the body does.
        protocol_version = "HTTP/1.0"

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            request = RecordedRequest("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            behaviour = server._next(request)
            try:
                self._answer(behaviour, body or {})
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client went away (a timeout): nothing to answer

        def _answer(self, behaviour: Behaviour, body: dict[str, Any]) -> None:
            if isinstance(behaviour, Hang):
                server._stopping.wait(behaviour.seconds)
                self._json(504, {"error": {"message": "hung", "type": "timeout"}})
            elif isinstance(behaviour, Fail):
                headers = {} if behaviour.retry_after is None else {"Retry-After": f"{behaviour.retry_after:g}"}
                error = {"message": behaviour.message, "type": "server_error" if behaviour.status >= 500 else
                         "invalid_request_error", "code": None}
                self._json(behaviour.status, {"error": error}, headers)
            elif isinstance(behaviour, ImageReply):
                encoded = base64.b64encode(behaviour.image).decode()
                self._json(200, {"created": int(time.time()), "data": [{"b64_json": encoded}]})
            elif body.get("stream"):
                self._stream(behaviour)
            else:
                tokens = len(behaviour.text.split())
                self._json(200, {
                    "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
                    "model": behaviour.model,
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": behaviour.text}}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": tokens, "total_tokens": 10 + tokens},
                })

        def _json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, reply: Reply) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            base = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": int(time.time()),
                    "model": reply.model}
            try:
                for piece in reply.stream_chunks():
                    delta = {"index": 0, "delta": {"role": "assistant", "content": piece}, "finish_reason": None}
                    self._event(json.dumps({**base, "choices": [delta]}))
                    with server._lock:
                        server.chunks_sent += 1
                    if reply.chunk_delay and server._stopping.wait(reply.chunk_delay):
                        return
                self._event(json.dumps({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}))
                self._event("[DONE]")
            except (BrokenPipeError, ConnectionResetError):
                server.stream_aborted.set()

        def _event(self, data: str) -> None:
            self.wfile.write(f"data: {data}\n\n".encode())
            self.wfile.flush()

    return Handler
