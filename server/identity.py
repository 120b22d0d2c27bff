"""Who is acting: the one place the web app resolves a person, for pages, websockets and HTTP handlers.

- **Local mode** (the embedded default): every request is the one local user.
- **Clerk mode**: a request is the person whose Clerk session token (the
  ``__session`` cookie or ``Authorization: Bearer``) verifies (``server.clerk``);
  they are created or updated in the accounts domain on first sight
  (``Accounts.sign_in``). Anyone else is a guest, who may only open a board
  through a share link.

Every Bokeh session is **bound** to the identity that opened its page. The
websocket of that session is refused to anyone else (a session token replayed
by another person gets nothing), and a binding ends when its Clerk session is
signed out, revoked, banned or deleted: :class:`Gate` re-checks the open ones
with Clerk's Backend API every ``clerk_revalidate_seconds`` and closes their
websockets. Identity never comes from ``pn.state.cookies``/``headers``: those
travel in the session token and describe the page request, not the person.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from tornado.httputil import HTTPServerRequest

from server.clerk import ClerkBackend, ClerkIdentity, ClerkVerifier, NotSignedIn
from workbench.accounts import User
from workbench.app import Workbench
from workbench.errors import WorkbenchError

__all__ = ["Identity", "Binding", "Gate", "safe_next", "GUEST"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Identity:
    """A resolved requester: a person, or a guest (``user`` None) with the reason they are not signed in."""

    user: User | None
    clerk_session: str | None = None
    external_id: str | None = None
    reason: str = ""

    @property
    def signed_in(self) -> bool:
        return self.user is not None


GUEST = Identity(None, reason="signed-out")


@dataclass
class Binding:
    """The identity one Bokeh session was opened by, and the websockets it has open."""

    session_id: str
    identity: Identity
    ended: str | None = None  # why it may no longer act ("signed out", "banned"...)
    sockets: set[Any] = field(default_factory=set)
    closers: dict[int, Callable[[str], None]] = field(default_factory=dict)


def safe_next(value: str | None, public_url: str = "") -> str:
    """A return path that can only lead back into this app; anything else becomes ``/library``.

    Refused: other hosts (``https://evil``, ``//evil``, ``/\\evil``, which browsers read as
    ``//evil``), schemes such as ``javascript:``, control characters, and the sign-in and
    sign-out endpoints themselves (no redirect loops). An absolute URL on this app's own
    public origin is reduced to its path.
    """
    fallback = "/library"
    if not value or len(value) > 2000:
        return fallback
    text = value.strip()
    if any(ord(c) < 32 or c == "\x7f" for c in text) or "\\" in text:
        return fallback
    decoded = unquote(text)
    if "\\" in decoded or any(ord(c) < 32 for c in decoded):
        return fallback
    parts = urlsplit(text)
    if parts.scheme or parts.netloc:
        own = urlsplit(public_url)
        if not own.netloc or (parts.scheme, parts.netloc.lower()) != (own.scheme, own.netloc.lower()):
            return fallback
        text = parts.path or "/"
        if parts.query:
            text += "?" + parts.query
        parts = urlsplit(text)
    if not text.startswith("/") or text.startswith("//") or decoded.startswith("//"):
        return fallback
    if parts.path.rstrip("/") in ("/signin", "/signout"):
        return fallback
    return text


_GATES: weakref.WeakKeyDictionary[Workbench, Gate] = weakref.WeakKeyDictionary()


class Gate:
    """Resolves identities, binds Bokeh sessions to them, and ends them when Clerk says so."""

    def __init__(self, wb: Workbench) -> None:
        self.wb = wb
        self.settings = wb.settings
        auth = wb.settings.auth
        self.clerk = auth.mode == "clerk"
        self.verifier = ClerkVerifier(auth) if self.clerk else None
        self.backend = ClerkBackend(auth) if self.clerk else None
        self._lock = threading.Lock()
        self._bindings: dict[str, Binding] = {}
        self._ended: dict[str, tuple[float, str]] = {}  # Clerk session id -> (when, why)
        self._people: dict[str, tuple[float, tuple[str, str, str | None], User]] = {}
        self._local: tuple[float, User] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def of(cls, wb: Workbench) -> Gate:
        """The gate of a workbench (one per workbench, made on first use)."""
        gate = _GATES.get(wb)
        if gate is None:
            gate = _GATES[wb] = cls(wb)
        return gate

    # -- who is this ---------------------------------------------------------------
    def identify(self, request: HTTPServerRequest) -> Identity:
        """The identity behind an HTTP request or websocket upgrade (may touch the database: not on the loop)."""
        if not self.clerk:
            return self.identify_local()
        assert self.verifier is not None
        try:
            verified = self.verifier.verify(request.headers)
        except NotSignedIn as error:
            return Identity(None, reason=error.reason)
        ended = self._ended.get(verified.session_id)
        if ended:
            return Identity(None, reason=ended[1])
        try:
            user = self._person(verified)
        except WorkbenchError as error:
            log.warning("sign-in of %s refused: %s", verified.external_id, error)
            return Identity(None, reason=str(error))
        if user is None:
            return Identity(None, reason="account blocked")
        return Identity(user, verified.session_id, verified.external_id)

    def identify_local(self) -> Identity:
        """The local user (local mode)."""
        return Identity(self._local_user())

    def _local_user(self) -> User:
        now = time.monotonic()
        cached = self._local
        if cached is None or now - cached[0] > 5:
            cached = self._local = (now, self.wb.accounts.local_user())
        return cached[1]

    def _person(self, verified: ClerkIdentity) -> User | None:
        """The accounts-domain user of a verified Clerk identity (signed in on first sight, then cached)."""
        claims = (verified.email, verified.name, verified.plan)
        now = time.monotonic()
        cached = self._people.get(verified.external_id)
        if cached and cached[1] == claims and now - cached[0] < 300:
            return cached[2]
        email, name = verified.email, verified.name
        if not email:  # the default session token carries no email: ask Clerk once
            assert self.backend is not None
            profile = self.backend.profile(verified.external_id)
            if profile is None or profile.blocked:
                return None
            email, name = profile.email, name or profile.name
        user = self.wb.accounts.sign_in(verified.external_id, email, name, plan=verified.plan)
        self._people[verified.external_id] = (now, claims, user)
        return user

    # -- Bokeh sessions ------------------------------------------------------------------
    def bind(self, session_id: str, identity: Identity) -> Binding:
        """Record who opened a Bokeh session (the first binding wins: a session never changes hands)."""
        with self._lock:
            binding = self._bindings.get(session_id)
            if binding is None:
                binding = self._bindings[session_id] = Binding(session_id, identity)
            return binding

    def binding(self, session_id: str) -> Binding | None:
        with self._lock:
            return self._bindings.get(session_id)

    def unbind(self, session_id: str) -> None:
        with self._lock:
            self._bindings.pop(session_id, None)

    def may_connect(self, session_id: str, identity: Identity) -> str | None:
        """Why a websocket for ``session_id`` must be refused to ``identity``, or None to let it in."""
        binding = self.binding(session_id)
        if binding is None:
            return "no page of this server opened that session"
        if binding.ended:
            return f"that session ended ({binding.ended})"
        opener = binding.identity
        if opener.user is None:
            return None  # a share-link guest's page: it shows only what the link grants
        if identity.user is None or identity.user.id != opener.user.id:
            return "that session belongs to someone else"
        return None

    def attach(self, session_id: str, socket: Any, close: Callable[[str], None]) -> None:
        """A websocket of a bound session opened; ``close(reason)`` ends it from any thread."""
        binding = self.binding(session_id)
        if binding is not None:
            with self._lock:
                binding.sockets.add(socket)
                binding.closers[id(socket)] = close

    def detach(self, session_id: str, socket: Any) -> None:
        binding = self.binding(session_id)
        if binding is not None:
            with self._lock:
                binding.sockets.discard(socket)
                binding.closers.pop(id(socket), None)

    def open_sockets(self, external_id: str) -> int:
        """How many websockets a person (by Clerk user id) has open on this server."""
        with self._lock:
            return sum(len(b.sockets) for b in self._bindings.values() if b.identity.external_id == external_id)

    # -- ending sessions ------------------------------------------------------------------
    def end(self, clerk_session: str, reason: str) -> int:
        """Stop a Clerk session acting here: later requests are guests, open websockets close. Returns how many."""
        with self._lock:
            self._ended[clerk_session] = (time.monotonic(), reason)
            if len(self._ended) > 10_000:  # tokens live a minute; old entries protect nothing
                oldest = sorted(self._ended.items(), key=lambda item: item[1][0])[:5_000]
                for key, _ in oldest:
                    self._ended.pop(key, None)
            hit = [b for b in self._bindings.values() if b.identity.clerk_session == clerk_session]
            closers: list[Callable[[str], None]] = []
            for binding in hit:
                binding.ended = reason
                closers.extend(binding.closers.values())
        for close in closers:
            close(reason)
        if hit:
            log.info("Clerk session %s ended (%s): %d page(s) closed", clerk_session, reason, len(hit))
        return len(hit)

    def revalidate(self) -> int:
        """Ask Clerk about every open page's session now; end those that may no longer act. Returns how many."""
        if self.backend is None:
            return 0
        with self._lock:
            open_sessions = {(b.identity.clerk_session, b.identity.external_id) for b in self._bindings.values()
                             if b.sockets and not b.ended and b.identity.clerk_session and b.identity.external_id}
        ended = 0
        for clerk_session, external_id in open_sessions:
            assert clerk_session and external_id
            problem = self.backend.session_problem(clerk_session, external_id, fresh=True)
            if problem:
                ended += self.end(clerk_session, problem)
        return ended

    def start(self) -> None:
        """Re-check open sessions every ``clerk_revalidate_seconds`` in a background thread (Clerk mode)."""
        if self.backend is None or self._thread is not None:
            return
        window = self.backend.window

        def loop() -> None:
            while not self._stop.wait(window):
                try:
                    self.revalidate()
                except Exception:  # noqa: BLE001 - the next round tries again
                    log.exception("re-checking open Clerk sessions failed")

        self._thread = threading.Thread(target=loop, name="clerk-revalidate", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
