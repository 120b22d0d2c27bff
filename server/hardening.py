"""What every response of the web workbench carries, and which host names it answers to.

- **Host allow-list.** A page served under a foreign host name that resolves to
  this machine (DNS rebinding) ran the whole workbench in the attacker's origin,
  and its script could read every image title: Tornado skips the websocket
  Origin check when Origin equals Host, and Bokeh serves any Host. The guard
  sits in front of the Tornado application, so pages, static files, media,
  probes and the websocket upgrade are all refused (421) under any other name.
- **Security headers** on every HTTP response (a Tornado output transform).
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from tornado import httputil

from workbench.settings import Settings

__all__ = ["allowed_hosts", "host_name", "HostGuard", "SecurityHeaders", "CONTENT_SECURITY_POLICY", "harden",
           "is_loopback", "content_security_policy", "clerk_origin", "security_headers"]

# As tight as BokehJS allows: it evaluates generated code ('unsafe-eval', also for
# JSComponents) and builds workers and component modules from blob: URLs; Bokeh's
# page bootstraps the document with inline scripts and styles ('unsafe-inline').
# Everything else comes from this server; no CDN, no framing by other sites.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline' 'unsafe-eval' blob:",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self' blob:",  # es-module-shims fetches the JSComponents' blob: modules
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'self'",
])
_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "SAMEORIGIN",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_hosts(settings: Settings) -> set[str]:
    """The host names this workbench answers to (any port): its public URL's, its bind address's,
    the loopback names when it listens on loopback (or every interface), and
    ``WORKBENCH_SERVER__ALLOWED_HOSTS``. A rebinding attack needs a name of its own, so names suffice."""
    names = {settings.server.host, urlsplit(settings.server.public_url).hostname or ""}
    if is_loopback(settings.server.host) or settings.server.host in ("0.0.0.0", "::"):
        names |= {"127.0.0.1", "localhost", "::1"}
    names |= set(settings.server.allowed_hosts)
    return {name.strip().strip("[]").lower() for name in names if name.strip()}


def host_name(value: str) -> str:
    """The name part of a ``Host`` header: ``[::1]:5006`` -> ``::1``, ``Studio.Example:443`` -> ``studio.example``."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class _Refused(httputil.HTTPMessageDelegate):
    """Answers 421 without handing the request to the application."""

    def __init__(self, connection: httputil.HTTPConnection, host: str) -> None:
        self._connection = connection
        self._host = host

    def headers_received(self, start_line: Any, headers: httputil.HTTPHeaders) -> None:
        body = (f"This workbench does not answer as '{self._host}'. Open it at its own address, or add the name "
                "to WORKBENCH_SERVER__ALLOWED_HOSTS.\n").encode()
        reply = httputil.HTTPHeaders({"Content-Type": "text/plain; charset=utf-8", "Content-Length": str(len(body)),
                                      "Connection": "close", **_HEADERS})
        self._connection.write_headers(httputil.ResponseStartLine("HTTP/1.1", 421, "Misdirected Request"),
                                       reply, body)
        self._connection.finish()

    def data_received(self, chunk: bytes) -> None:
        return None

    def finish(self) -> None:
        return None

    def on_connection_close(self) -> None:
        return None


class _Checked(httputil.HTTPMessageDelegate):
    def __init__(self, inner: httputil.HTTPMessageDelegate, connection: httputil.HTTPConnection,
                 allowed: set[str]) -> None:
        self._inner, self._connection, self._allowed = inner, connection, allowed
        self._refused: _Refused | None = None

    def headers_received(self, start_line: Any, headers: httputil.HTTPHeaders) -> Any:
        if host_name(headers.get("Host", "")) not in self._allowed:
            self._refused = _Refused(self._connection, headers.get("Host", ""))
            return self._refused.headers_received(start_line, headers)
        return self._inner.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Any:
        return None if self._refused else self._inner.data_received(chunk)

    def finish(self) -> None:
        if not self._refused:
            self._inner.finish()

    def on_connection_close(self) -> None:
        if not self._refused:
            self._inner.on_connection_close()


class HostGuard(httputil.HTTPServerConnectionDelegate):
    """Wraps the Tornado application: requests under any other ``Host`` get 421 and never reach it."""

    def __init__(self, application: Any, allowed: set[str]) -> None:
        self.application = application
        self.allowed = allowed

    def start_request(self, server_conn: object, request_conn: httputil.HTTPConnection) -> httputil.HTTPMessageDelegate:
        inner = self.application.start_request(server_conn, request_conn)
        return _Checked(inner, request_conn, self.allowed)

    def on_close(self, server_conn: object) -> None:
        self.application.on_close(server_conn)


def clerk_origin(settings: Settings) -> str:
    """The Clerk Frontend API origin (the issuer), whose browser script keeps the session fresh; '' in local mode."""
    if settings.auth.mode != "clerk" or not settings.auth.clerk_issuer:
        return ""
    parts = urlsplit(settings.auth.clerk_issuer)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("https", "http") and parts.netloc else ""


def content_security_policy(settings: Settings) -> str:
    """The policy for this mode: local mode loads nothing from elsewhere; Clerk mode also allows Clerk's
    browser script and its calls to the Frontend API (and Clerk's avatar images)."""
    clerk = clerk_origin(settings)
    if not clerk:
        return CONTENT_SECURITY_POLICY
    extra = {"script-src": clerk, "connect-src": clerk, "img-src": f"{clerk} https://img.clerk.com"}
    directives = []
    for directive in CONTENT_SECURITY_POLICY.split("; "):
        name = directive.split(" ", 1)[0]
        directives.append(f"{directive} {extra[name]}" if name in extra else directive)
    return "; ".join(directives)


class SecurityHeaders:
    """A Tornado output transform adding the security headers to every HTTP response."""

    headers = _HEADERS

    def __init__(self, request: httputil.HTTPServerRequest) -> None:
        self.request = request

    def transform_first_chunk(self, status_code: int, headers: httputil.HTTPHeaders, chunk: bytes,
                              finishing: bool) -> tuple[int, httputil.HTTPHeaders, bytes]:
        for name, value in self.headers.items():
            headers.setdefault(name, value)
        # Bokeh answers its autoload script to any origin; the workbench is embedded nowhere.
        if headers.get("Access-Control-Allow-Origin") == "*":
            del headers["Access-Control-Allow-Origin"]
        return status_code, headers, chunk

    def transform_chunk(self, chunk: bytes, finishing: bool) -> bytes:
        return chunk


def security_headers(settings: Settings) -> type[SecurityHeaders]:
    """The header transform for these settings (its CSP depends on the sign-in mode)."""
    policy = content_security_policy(settings)
    return type("WorkbenchSecurityHeaders", (SecurityHeaders,),
                {"headers": {**_HEADERS, "Content-Security-Policy": policy}})


def harden(bokeh_server: Any, settings: Settings) -> None:
    """Put the host guard in front of a Bokeh server's Tornado application (before or while it serves)."""
    http = bokeh_server._http  # Bokeh keeps its HTTPServer here; the guard wraps what it calls
    if not isinstance(http.request_callback, HostGuard):
        http.request_callback = HostGuard(http.request_callback, allowed_hosts(settings))
