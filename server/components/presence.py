"""Who is on a board now: the presence strip over the canvas, and the page's beats.

Every open board page joins the board's presence (``wb.boards.presence``) with a
session id of its own, beats about once a second with its selection and the
pointer's place on the canvas, lists who else is there, and leaves when its
session ends. The canvas outlines others' selections in their colour and shows
their cursors (see ``static/canvas.js``, message ``presence``). Names are user
text: escaped here, set as text in the canvas.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import secrets
from collections.abc import Sequence
from typing import Any

import panel as pn

from server.session import Session
from workbench.errors import WorkbenchError

__all__ = ["BoardPeople", "presence_html", "viewer_connected", "BEAT_MS"]

log = logging.getLogger(__name__)

BEAT_MS = 1000  # the service lists a view for 10 s after its last beat; one a second keeps cursors fresh
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
PRESENCE_CSS = """
:host { font-family: var(--wb-font, sans-serif); }
.wb-presence { display: flex; align-items: center; gap: 6px; min-height: 30px; flex-wrap: wrap; }
.wb-presence-label { font-size: 12px; color: #6b6b6b; margin-right: 2px; }
.wb-person { display: inline-flex; align-items: center; gap: 5px; height: 26px; padding: 0 9px 0 3px;
  border-radius: 13px; border: 1px solid #e2e2e2; font-size: 12px; color: #111; background: #fff; }
.wb-avatar { width: 20px; height: 20px; border-radius: 10px; background: var(--wb-peer, #777); color: var(--wb-ink, #fff);
  font: 700 10px/20px var(--wb-font, sans-serif); text-align: center; }
.wb-person.me { border-color: #111; }
"""


def viewer_connected(doc: Any) -> bool:
    """Whether a browser is still connected to this page's session (a closed tab's session lingers
    for a while before Bokeh discards it)."""
    session = getattr(getattr(doc, "session_context", None), "_session", None)
    return session is None or getattr(session, "connection_count", 1) > 0


def _colour(value: str) -> str:
    return value if _COLOUR.fullmatch(value or "") else "#777777"


def _ink(colour: str) -> str:
    """White initials on a dark colour, black on a light one (the palette has a light cyan)."""
    r, g, b = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return "#111" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.55 else "#fff"


def presence_html(people: Sequence[Any], me: str) -> str:
    """The strip: one chip per open view (initials in the person's colour, then the name; "(you)" for this one)."""
    chips = []
    for person in people:
        mine = person.session_id == me
        name = person.name + (" (you)" if mine else "")
        chips.append(
            f'<span class="wb-person{" me" if mine else ""}" data-session="{html.escape(person.session_id)}"'
            f' data-guest="{"1" if person.guest else "0"}" title="{html.escape(name)}"'
            f' style="--wb-peer: {_colour(person.colour)}; --wb-ink: {_ink(_colour(person.colour))}">'
            f'<span class="wb-avatar">{html.escape(person.initials)}</span>{html.escape(name)}</span>')
    count = len(people)
    label = "On this board now:" if count else "Connecting…"
    return (f'<div class="wb-presence" aria-label="Who is on this board" data-count="{count}">'
            f'<span class="wb-presence-label">{label}</span>{"".join(chips)}</div>')


class BoardPeople:
    """One page's presence: it joins, beats with the selection and cursor, lists the others, leaves."""

    def __init__(self, session: Session, board_id: str, token: str | None, canvas: Any) -> None:
        self.session, self.board_id, self.token, self.canvas = session, board_id, token, canvas
        self.session_id = "wb_" + secrets.token_urlsafe(18)
        self.selection: list[str] = []
        self.cursor: tuple[float, float] | None = None
        self.joined = False
        self._ended = False
        self._callback: Any = None
        self._doc: Any = None
        self._joining = False
        self._refusals = 0
        self.strip = pn.pane.HTML(presence_html([], self.session_id), stylesheets=[PRESENCE_CSS], margin=(0, 0, 4, 0),
                                  sizing_mode="stretch_width", css_classes=["wb-presence-pane"])

    def start(self) -> None:
        """Join when the page has loaded, beat every second, leave when the session ends."""
        doc = pn.state.curdoc
        if doc is None or doc.session_context is None:
            return
        self._doc = doc
        pn.state.onload(self._join)
        self._callback = pn.state.add_periodic_callback(self.beat, period=BEAT_MS, start=True)  # type: ignore[arg-type]
        pn.state.on_session_destroyed(lambda context: self._leave())

    # -- what the canvas tells ------------------------------------------------------------
    def selected(self, ids: list[str]) -> None:
        """The viewer's selection changed (sent with the next beat)."""
        self.selection = [str(i) for i in ids][:2000]

    def pointed(self, x: Any, y: Any) -> None:
        """The pointer is at (x, y) on the board (None: it left the canvas)."""
        try:
            self.cursor = (float(x), float(y)) if x is not None and y is not None else None
        except (TypeError, ValueError):
            self.cursor = None

    # -- the service calls ------------------------------------------------------------------
    async def _join(self) -> None:
        if self._joining or self._ended:
            return
        self._joining = True
        try:
            await self.session.run(self.session.wb.boards.presence.join, self.session.user, self.board_id,
                                   token=self.token, session_id=self.session_id)
        except WorkbenchError as error:  # e.g. a revoked link: the board page says so itself
            log.info("board %s: presence join refused: %s", self.board_id, error)
            self._refusals += 1
            if self._refusals >= 5:
                self.stop()  # asking every second would not change the answer
            return
        finally:
            self._joining = False
        self.joined = True
        await self._list()

    async def beat(self) -> None:
        """Tell the service this view is still open (with selection and cursor), then redraw who is here."""
        try:
            await self._beat()
        except asyncio.CancelledError:
            # The server is stopping and cancels the periodic callback mid-beat: the row expires 10 s
            # after its last beat anyway, so there is nothing to finish and nothing worth a traceback.
            log.debug("board %s: presence beat cancelled at stop", self.board_id)

    async def _beat(self) -> None:
        if self._ended:
            return
        if not viewer_connected(self._doc):
            # The tab closed (its session lingers a while): leave now rather than 10 s after the last beat.
            if self.joined:
                self.joined = False
                await self.session.run(self._forget)
            return
        if not self.joined:
            await self._join()  # the browser came back (a reconnect), or the first join failed
            return
        try:
            alive = await self.session.run(self.session.wb.boards.presence.beat, self.session_id,
                                           selection=self.selection, cursor=self.cursor)
        except WorkbenchError as error:
            log.info("board %s: presence beat refused: %s", self.board_id, error)
            return
        if not alive:  # forgotten after a long silence (a sleeping laptop): join again
            self.joined = False
            await self._join()
            return
        await self._list()

    async def _list(self) -> None:
        try:
            people = await self.session.run(self.session.wb.boards.presence.present, self.session.user,
                                            self.board_id, token=self.token)
        except WorkbenchError as error:
            log.info("board %s: presence list refused: %s", self.board_id, error)
            return
        self.strip.object = presence_html(people, self.session_id)
        others = [{"session": p.session_id, "name": p.name, "initials": p.initials, "colour": _colour(p.colour),
                   "selection": list(p.selection), "cursor": list(p.cursor) if p.cursor else None, "guest": p.guest}
                  for p in people if p.session_id != self.session_id]
        self.canvas.show_presence(others)

    def stop(self) -> None:
        """Stop beating (the viewer lost access)."""
        self._ended = True
        if self._callback is not None:
            self._callback.stop()

    def _leave(self) -> None:
        self.stop()
        if self.joined:
            self.joined = False
            self._forget()

    def _forget(self) -> None:
        try:
            self.session.wb.boards.presence.leave(self.session_id)
        except Exception as error:  # noqa: BLE001 - the row expires 10 s after its last beat anyway
            log.info("board %s: presence leave failed: %s", self.board_id, error)
