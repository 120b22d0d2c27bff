"""Sign-in for the Panel server through Bokeh's own auth hooks.

:class:`WorkbenchAuth` is the Bokeh ``AuthProvider`` of the server: Bokeh and
Panel call it on every page request, the autoload script, static files and the
websocket upgrade. It asks the one identity seam (``server.identity.Gate``) who
the request is, and:

- pages need a signed-in person, except a board opened through a share link
  (``/board?token=...``), which a guest may open; a signed-out browser is sent
  to ``/signin?next=<where it was going>``, which sends it on to Clerk's sign-in
  page with a return URL that can only lead back here (an expired token is the
  same as none: re-sign-in, never an error page);
- the websocket (:class:`BoundWSHandler`) is refused, before the handshake and
  with no document sent, unless its signed session token names a session a page
  of this server opened for this same person; its sockets are registered so a
  sign-out or a Clerk revocation can close them;
- ``/signout`` (POST, same origin) revokes the Clerk session, closes that
  browser's open pages and clears the session cookies.
"""

from __future__ import annotations

import asyncio
import html
import logging
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import panel as pn
from bokeh.server.auth_provider import AuthProvider
from bokeh.server.views.autoload_js_handler import AutoloadJsHandler
from bokeh.server.views.doc_handler import DocHandler
from bokeh.util.token import check_token_signature, get_session_id
from panel.io import server as panel_server
from tornado.ioloop import IOLoop
from tornado.web import RequestHandler

from server.hardening import allowed_hosts, host_name
from server.identity import GUEST, Binding, Gate, Identity, safe_next
from workbench.accounts import User
from workbench.app import Workbench
from workbench.logs import bind, new_request_id

__all__ = ["WorkbenchAuth", "BoundWSHandler", "page_identity", "page_binding", "acting_user", "SIGN_IN", "SIGN_OUT"]

log = logging.getLogger(__name__)
SIGN_IN, SIGN_OUT = "/signin", "/signout"
CLERK_COOKIES = ("__session", "__client_uat", "__clerk_db_jwt")


def _is_page(handler: RequestHandler) -> bool:
    return isinstance(handler, (DocHandler, AutoloadJsHandler))


def _guest_page(handler: RequestHandler) -> bool:
    """A board opened through a share link: the link, not an account, decides what it shows."""
    return handler.request.path.rstrip("/") == "/board" and bool(handler.get_query_argument("token", ""))


class WorkbenchAuth(AuthProvider):
    """Bokeh's auth hooks, answered by the workbench's identity gate."""

    def __init__(self, wb: Workbench) -> None:
        self.gate = Gate.of(wb)
        super().__init__()

    @property
    def get_user_async(self) -> Any:
        return self._current

    @property
    def get_login_url(self) -> Any:
        return self._login_url

    @property
    def endpoints(self) -> list[tuple[str, type[RequestHandler]]]:
        return [(SIGN_IN, SignInHandler), (SIGN_OUT, SignOutHandler)]

    async def _current(self, handler: RequestHandler) -> Identity | None:
        identity = await asyncio.to_thread(self.gate.identify, handler.request)
        # Every log line of this request names it and its person (never a token: see workbench/logs.py).
        bind(request=new_request_id(handler.request.headers.get("X-Request-ID")),
             user=identity.user.id if identity.user else None)
        # Read back by the page factory through the session context's request (see page_identity).
        handler.request.workbench_identity = identity  # type: ignore[attr-defined]
        if identity.signed_in or not _is_page(handler) or _guest_page(handler):
            return identity  # static files and link pages need no account; the websocket checks its binding
        return None

    def _login_url(self, handler: RequestHandler) -> str:
        return f"{SIGN_IN}?next={quote(safe_next(handler.request.uri), safe='')}"


class BoundWSHandler(panel_server.WSHandler):
    """Panel's websocket handler, refused unless the session was opened by a page for this same person."""

    async def prepare(self) -> None:
        await super().prepare()
        app: Any = self.application  # Bokeh's Tornado application
        auth = app.auth_provider
        if self._finished or not isinstance(auth, WorkbenchAuth):
            return
        identity = self.current_user if isinstance(self.current_user, Identity) else GUEST
        token = self._offered_token()
        why = "no signed session token"
        if token and check_token_signature(token, signed=app.sign_sessions, secret_key=app.secret_key):
            self._bound_session = get_session_id(token)
            why = auth.gate.may_connect(self._bound_session, identity) or ""
        if why:
            log.warning("websocket refused: %s", why)
            self.set_status(403)
            self.finish()
            return
        self._gate = auth.gate
        loop = IOLoop.current()

        def close(reason: str) -> None:
            loop.add_callback(self.close, 4001, reason[:120])

        self._closer = close

    def _offered_token(self) -> str | None:
        offered = [p.strip() for p in self.request.headers.get("Sec-WebSocket-Protocol", "").split(",")]
        return offered[1] if len(offered) == 2 and offered[0] == "bokeh" and offered[1] else None

    def open(self, *args: Any, **kwargs: Any) -> Any:
        gate = getattr(self, "_gate", None)
        if gate is not None:
            gate.attach(self._bound_session, self, self._closer)
        return super().open(*args, **kwargs)

    def on_close(self) -> None:
        gate = getattr(self, "_gate", None)
        if gate is not None:
            gate.detach(self._bound_session, self)
        super().on_close()


def _install_ws_handler() -> None:
    # Bokeh builds every app's routes from this shared list (Panel already swapped in its own handler).
    patterns = panel_server.per_app_patterns
    for index, (route, handler, *rest) in enumerate(patterns):
        if route == r"/ws" and handler is not BoundWSHandler:
            patterns[index] = (route, BoundWSHandler, *rest)  # type: ignore[assignment]


_install_ws_handler()


class SignInHandler(RequestHandler):
    """``/signin?next=/board?id=...``: on to Clerk's sign-in page, which returns to ``next`` on this app."""

    def get(self) -> None:
        app: Any = self.application
        settings = app.auth_provider.gate.settings
        target = safe_next(self.get_query_argument("next", ""), settings.server.public_url)
        if settings.auth.mode != "clerk" or not settings.auth.clerk_sign_in_url:
            self.redirect(target)
            return
        back = settings.server.public_url.rstrip("/") + target
        sign_in = settings.auth.clerk_sign_in_url
        self.redirect(sign_in + ("&" if "?" in sign_in else "?") + urlencode({"redirect_url": back}))


class SignOutHandler(RequestHandler):
    """``POST /signout`` (from this app's own pages only): end the Clerk session everywhere it is open here."""

    def get(self) -> None:
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.write('<!doctype html><meta charset="utf-8"><title>Sign out</title>'
                   '<form method="post" action="/signout" style="font-family:sans-serif;padding:48px">'
                   "<p>Sign out of FilmMaker Workbench on this browser?</p>"
                   '<button type="submit" autofocus>Sign out</button> <a href="/library">Stay signed in</a></form>')

    async def post(self) -> None:
        app: Any = self.application
        gate: Gate = app.auth_provider.gate
        origin = self.request.headers.get("Origin") or self.request.headers.get("Referer") or ""
        if host_name(urlsplit(origin).netloc) not in allowed_hosts(gate.settings):
            self.set_status(403)
            self.write("Sign-out must come from the workbench's own pages.")
            return
        identity = await asyncio.to_thread(gate.identify, self.request)
        if identity.clerk_session and gate.backend is not None:
            await asyncio.to_thread(gate.backend.revoke, identity.clerk_session)
            gate.end(identity.clerk_session, "signed out")
        secure = gate.settings.server.public_url.startswith("https://")
        for name in CLERK_COOKIES:
            self.set_cookie(name, "", path="/", expires_days=-1, httponly=name != "__session", secure=secure,
                            samesite="Lax")
        if gate.clerk:
            self.redirect(f"{SIGN_IN}?next=%2Flibrary", status=303)
        else:
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.write(f"<p>{html.escape('The workbench runs in local mode: there is no one to sign out.')}</p>")


def page_binding(wb: Workbench) -> Binding:
    """The binding of the page being built: who opened this Bokeh session (recorded on first call)."""
    gate = Gate.of(wb)
    doc = pn.state.curdoc
    context: Any = doc.session_context if doc is not None else None
    if context is None or getattr(context, "id", None) is None:
        # A page built outside a server (a notebook, a unit test): local mode is the local user.
        return Binding("", gate.identify_local() if not gate.clerk else GUEST)
    identity = getattr(context.request, "workbench_identity", None) if context.request is not None else None
    if not isinstance(identity, Identity):
        identity = GUEST if gate.clerk else gate.identify_local()
    binding = gate.bind(context.id, identity)
    pn.state.on_session_destroyed(lambda ended: gate.unbind(ended.id))
    return binding


def page_identity(wb: Workbench) -> Identity:
    """Who opened the page being built (see :func:`page_binding`)."""
    return page_binding(wb).identity


def acting_user(wb: Workbench, identity: Identity, *, via_link: bool) -> User | None:
    """The user a page acts as. In local mode a share link's holder is anonymous: everyone at this machine
    is the owner, so the link could never show what it grants; with sign-in the person keeps who they are."""
    if via_link and not Gate.of(wb).clerk:
        return None
    return identity.user
