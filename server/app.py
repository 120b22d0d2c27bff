"""The Panel application: the shell (navigation, credit balance, notifications) and its routes.

Each URL is its own page; a page is built fresh for every browser session, so
its state belongs to that session alone::

    /library   /boards   /board?id=...   /board?token=...   /writing   /magic   /account
"""

from __future__ import annotations

import gc
import html
import logging
import sys
from collections.abc import Callable
from typing import Any

import panel as pn

from server.auth import acting_user, page_binding
from server.components.clerk import ClerkSession
from server.design import configure
from server.hardening import clerk_origin
from server.session import Session
from workbench.app import Workbench

__all__ = ["routes", "shell", "keep_loop_responsive", "NAV"]

NAV: tuple[tuple[str, str, str], ...] = (
    ("library", "Library", "/library"),
    ("boards", "Boards", "/boards"),
    ("writing", "Writing", "/writing"),
    ("magic", "Magic Board", "/magic"),
    ("account", "Account", "/account"),
)

_EXTENSIONS = ("filedropper", "tabulator")
log = logging.getLogger(__name__)


SIGN_OUT_FORM = ('<form method="post" action="/signout" class="wb-signout">'
                 '<button type="submit" class="wb-nav-link">Sign out</button></form>')


VISITOR_NAV = ('<nav class="wb-nav" aria-label="Workbench">'
               '<span class="wb-brand"><span class="wb-brand-mark">▮▮</span>FilmMaker<br>Workbench</span>'
               '<p class="wb-visitor-note">A board shared with you through a link. Only this board is open to '
               "the link.</p></nav>")


def _nav_html(active: str, *, sign_out: bool = False, visitor: bool = False) -> str:
    if visitor:  # a link opens one board, never its owner's other pages (in every sign-in mode)
        return VISITOR_NAV
    links = "".join(
        f'<a href="{url}" class="wb-nav-link{" active" if key == active else ""}" data-page="{key}"'
        f'{" aria-current=page" if key == active else ""}>{label}</a>'
        for key, label, url in NAV
    )
    return (
        '<nav class="wb-nav" aria-label="Workbench">'
        '<a class="wb-brand" href="/library"><span class="wb-brand-mark">▮▮</span>FilmMaker<br>Workbench</a>'
        f"{links}{SIGN_OUT_FORM if sign_out else ''}</nav>"
    )


def _balance_html(balance: int, plan: str, signed_in: bool) -> str:
    if not signed_in:
        return '<div class="wb-balance wb-guest">Viewing a shared board</div>'
    return (
        f'<div class="wb-balance" title="AI credits left this period" data-balance="{balance}">'
        f'<span class="wb-credits">{balance}</span> credits'
        f'<span class="wb-plan">{html.escape(plan)}</span></div>'
    )


SHELL_CSS = """
:host { display: block; }
.wb-nav { display: flex; flex-direction: column; gap: 2px; padding: 20px 14px; font-family: var(--wb-font); }
.wb-brand { display: block; font-weight: 700; font-size: 15px; line-height: 1.15; letter-spacing: .01em;
  color: #111; text-decoration: none; margin: 0 0 26px 6px; }
.wb-brand-mark { display: block; font-size: 11px; letter-spacing: 2px; margin-bottom: 6px; }
.wb-nav-link { display: block; padding: 8px 10px; border-radius: 3px; color: #111; text-decoration: none;
  font-size: 14px; border-left: 3px solid transparent; }
.wb-nav-link:hover { background: #f3f3f3; }
.wb-signout { margin: 18px 0 0; }
.wb-visitor-note { font-size: 13px; line-height: 1.4; color: #6b6b6b; margin: 0 0 0 6px; }
.wb-signout .wb-nav-link { background: none; border: 0; border-left: 3px solid transparent; font: inherit;
  font-size: 14px; cursor: pointer; width: 100%; text-align: left; color: #6b6b6b; }
.wb-nav-link.active { font-weight: 650; border-left-color: var(--wb-accent); background: #f6f6f6; }
.wb-balance { font-family: var(--wb-font); font-size: 13px; color: #111; padding: 6px 12px;
  border: 1px solid #111; border-radius: 999px; white-space: nowrap; }
.wb-credits { font-weight: 700; font-variant-numeric: tabular-nums; }
.wb-plan { margin-left: 8px; padding-left: 8px; border-left: 1px solid #ccc; color: #6b6b6b;
  text-transform: uppercase; font-size: 11px; letter-spacing: .06em; }
.wb-guest { border-color: #ccc; color: #6b6b6b; }
.wb-title { font-family: var(--wb-font); font-size: 22px; font-weight: 650; margin: 0; letter-spacing: -.01em; }
"""


def shell(session: Session, page: Any, *, active: str, title: str, visitor: bool = False) -> pn.viewable.Viewable:
    """Navigation on the left, the page title and credit balance on top, the page below."""
    clerk = session.wb.settings.auth.mode == "clerk"
    nav = pn.pane.HTML(_nav_html(active, sign_out=clerk and session.user is not None, visitor=visitor),
                       stylesheets=[SHELL_CSS],
                       width=190, margin=0,
                       styles={"border-right": "1px solid #e4e4e4", "min-height": "100vh"})
    balance = pn.pane.HTML(
        pn.bind(_balance_html, session.param.balance, session.param.plan, session.user is not None),
        stylesheets=[SHELL_CSS], margin=(18, 24, 0, 0), name="balance",
    )
    def title_html(text: str) -> str:
        return f'<h1 class="wb-title">{html.escape(text)}</h1>'

    # A page with a ``heading`` parameter (the board page: the board's title) names itself.
    named = "heading" in getattr(page, "param", {})
    heading = pn.pane.HTML(pn.bind(title_html, page.param.heading) if named else title_html(title),
                           stylesheets=[SHELL_CSS], margin=(18, 24, 0, 24))
    header = pn.Row(heading, pn.HSpacer(), balance, sizing_mode="stretch_width",
                    styles={"border-bottom": "1px solid #e4e4e4"}, height=64)
    main = pn.Column(header, page, sizing_mode="stretch_width", margin=0)
    if clerk and session.wb.settings.auth.clerk_publishable_key:
        main.append(ClerkSession(frontend_api=clerk_origin(session.wb.settings),
                                 publishable_key=session.wb.settings.auth.clerk_publishable_key))
    if session.user is not None:
        # Credits can also change in another tab or by an admin: re-read them now and then.
        pn.state.add_periodic_callback(session.refresh, period=20_000)
    return pn.Row(nav, main, sizing_mode="stretch_width", margin=0)


def _page(wb: Workbench, build: Callable[[Session], Any], *, active: str, title: str, visitor: bool = False
          ) -> pn.viewable.Viewable:
    pn.extension(*_EXTENSIONS, notifications=True)
    try:
        binding = page_binding(wb)
        session = Session(wb, acting_user(wb, binding.identity, via_link=visitor), binding=binding)
        return shell(session, build(session), active=active, title=title, visitor=visitor)
    except Exception:  # noqa: BLE001 - the browser gets an apology, the log gets the traceback
        log.exception("could not build the %s page", active or title)
        return pn.pane.HTML(
            f'<div style="font-family:sans-serif;padding:48px"><h1>{html.escape(title)}</h1>'
            "<p>This page could not be opened; the problem has been logged. "
            '<a href="/library">Back to the library</a></p></div>', sizing_mode="stretch_width")


def keep_loop_responsive() -> None:
    """Tune the interpreter so a busy worker thread cannot stall the event loop that serves everyone.

    - Everything loaded so far (models, Panel, Bokeh, the pages' modules) is frozen out
      of the garbage collector's sight: a full collection holds the GIL while it walks
      every tracked object, millions with torch and Panel loaded, and the loop stalled
      150-400 ms whenever a long PDF export in a thread triggered one.
    - The GIL changes hands every 1 ms instead of 5: the loop needs it a few times per
      request, and each hand-over from a CPU-bound thread waits one interval.
    Measured by ``bench/responsiveness.py``.
    """
    gc.collect()
    gc.freeze()
    sys.setswitchinterval(0.001)


def routes(wb: Workbench) -> dict[str, Callable[[], pn.viewable.Viewable]]:
    """URL path -> page factory (called once per browser session); tunes the interpreter first."""
    configure()
    from server.pages.account import AccountPage
    from server.pages.board import BoardPage, opened_by_link
    from server.pages.boards import BoardsPage
    from server.pages.library import LibraryPage
    from server.pages.magic import MagicPage
    from server.pages.writing import WritingPage

    keep_loop_responsive()

    def board() -> pn.viewable.Viewable:
        by_link = opened_by_link()
        return _page(wb, BoardPage, active="" if by_link else "boards", title="Board", visitor=by_link)

    return {
        "/": lambda: _page(wb, LibraryPage, active="library", title="Library"),
        "/library": lambda: _page(wb, LibraryPage, active="library", title="Library"),
        "/boards": lambda: _page(wb, BoardsPage, active="boards", title="Boards"),
        "/board": board,
        "/writing": lambda: _page(wb, WritingPage, active="writing", title="Writing"),
        "/magic": lambda: _page(wb, MagicPage, active="magic", title="Magic Board"),
        "/account": lambda: _page(wb, AccountPage, active="account", title="Account"),
    }
