"""One browser session's view of the workbench: who is acting, their balance, and friendly errors.

Every page gets its own :class:`Session` (made when the browser opens the page),
so nothing one person does leaks into another's screen. Service-layer errors
become notifications with the error's own message; anything unexpected is
logged with its traceback and shown as a short apology, never as a traceback.
"""

from __future__ import annotations

import asyncio
import functools
import html
import inspect
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import panel as pn
import param
from bokeh.document import Document
from panel.io.notifications import NotificationAreaBase
from panel.io.state import set_curdoc

from server.identity import Binding
from server.probes import count_error
from workbench.accounts import User
from workbench.app import Workbench
from workbench.errors import WorkbenchError

__all__ = ["Session", "friendly", "report_error", "launch"]

log = logging.getLogger(__name__)
T = TypeVar("T")

class SignedOut(WorkbenchError):
    """The person who opened this page signed out (or was signed out) since."""


UNEXPECTED = "Something went wrong on our side; it has been logged. Try again, or reload the page."


def report_error(error: BaseException, session: Session | None = None) -> None:
    """Show an error to the person it belongs to (escaped: messages quote user input).

    With ``session``, the message goes to that browser session's notifications
    whatever thread or callback raised it; without one, to the session Panel
    is serving right now (only safe inside that session's own callback).
    """
    count_error(error)  # /metrics: errors by type
    if isinstance(error, WorkbenchError):
        message = str(error) or type(error).__name__
    else:
        log.error("unexpected error in a UI callback", exc_info=error)
        message = UNEXPECTED
    if session is not None:
        session.error(message)
        return
    notifications = pn.state.notifications
    if notifications is not None:
        notifications.error(html.escape(message), duration=8000)


def _session_of(args: tuple[Any, ...]) -> Session | None:
    """The Session a page or panel method belongs to (its ``self.session``), if any."""
    owner = args[0] if args else None
    session = owner if isinstance(owner, Session) else getattr(owner, "session", None)
    return session if isinstance(session, Session) else None


def friendly(method: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a UI callback (sync or async) so service errors become notifications in its own session."""
    if inspect.iscoroutinefunction(method):

        @functools.wraps(method)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            try:
                return await method(*args, **kwargs)
            except Exception as error:  # noqa: BLE001 - every failure becomes a notification
                report_error(error, _session_of(args))
                return None

        return run_async

    @functools.wraps(method)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except Exception as error:  # noqa: BLE001
            report_error(error, _session_of(args))
            return None

    return run


class Session(param.Parameterized):
    """State one browser session shares between the shell and its page."""

    user = param.Parameter(default=None, doc="The acting user; None for an anonymous share-link holder.")
    balance = param.Integer(default=0, doc="The acting user's credit balance, refreshed after each AI action.")
    plan = param.String(default="", doc="The acting user's plan (free or premium).")
    busy = param.Boolean(default=False, doc="True while a long action (AI, export, upload) runs.")

    def __init__(self, wb: Workbench, user: User | None, *, binding: Binding | None = None, **params: Any) -> None:
        super().__init__(user=user, **params)
        self.wb = wb
        # Who opened this page (server.auth.page_binding); it ends when their Clerk session does.
        self.binding = binding
        # Captured now, while Panel is building this session's page: a board listener or a
        # worker thread runs with whatever session happens to be current (often another
        # person's), so every message of this session goes through its own document.
        self.doc: Document | None = pn.state.curdoc
        self._notifications: NotificationAreaBase | None = pn.state.notifications
        if self._notifications is not None:
            # Two at a time: a burst of messages (three ideas saved, then their loglines) stacked five
            # toasts over the page's own buttons; the newest two say what just happened.
            self._notifications.max_notifications = 2
        self._running = 0
        self.refresh()

    def refresh(self) -> None:
        """Re-read the balance (cheap: one sum over the ledger)."""
        if self.user is None:
            return
        try:
            self.balance = self.wb.accounts.balance(self.user)
            self.plan = self.wb.accounts.get_user(self.user.id).plan
        except WorkbenchError as error:
            log.warning("could not refresh the balance: %s", error)

    @property
    def me(self) -> User:
        """The acting user, for pages that need one."""
        if self.binding is not None and self.binding.ended:
            raise SignedOut(f"Your session ended ({self.binding.ended}). Reload the page to sign in again.")
        if self.user is None:
            raise WorkbenchError("Sign in to use this page.")
        return self.user

    def has(self, domain: str) -> bool:
        """Whether the service layer offers a domain yet (boards, suggestions, magic)."""
        return hasattr(self.wb, domain)

    async def run(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a slow service call off the event loop, so other sessions stay responsive."""
        self._running += 1
        self.busy = True
        try:
            return await asyncio.to_thread(work, *args, **kwargs)
        finally:
            self._running -= 1
            self.busy = self._running > 0

    def info(self, message: str, *, escaped: bool = False) -> None:
        """A short confirmation."""
        self.notify("success", message if escaped else html.escape(message), duration=4000)

    def error(self, message: str) -> None:
        """A readable error."""
        self.notify("error", html.escape(message), duration=8000)

    def notify(self, kind: str, message: str, *, duration: int = 4000) -> None:
        """Show an (already escaped) notification in this session, from any thread or callback."""
        area, doc = self._notifications, self.doc
        if area is None:
            log.info("no notification area for a %s message: %s", kind, message)
            return

        def show() -> None:
            with set_curdoc(doc):
                getattr(area, kind)(message, duration=duration)

        if doc is None or doc.session_context is None:
            show()  # no server session (a notebook or a unit test): nothing to hand over to
            return
        try:
            # Thread-safe, and runs under this document's lock with this document current.
            doc.add_next_tick_callback(show)
        except Exception:  # noqa: BLE001 - the browser has gone; the message has no one to reach
            log.info("session gone; dropped a %s message: %s", kind, message)



def launch(result: Any) -> None:
    """Run a coroutine a message handler returned on the session's event loop (else do nothing)."""
    if inspect.isawaitable(result):

        async def wait() -> None:
            await result

        param.parameterized.async_executor(wait)
