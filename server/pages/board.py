"""The Board page: the canvas, its toolbar, suggestions and sharing.

Opened as ``/board?id=<board id>`` by someone with a role on the board, or as
``/board?token=<share token>`` by anyone holding a share link; what they may do
is the role the boards domain resolves (the canvas only mirrors it).
"""

from __future__ import annotations

import asyncio
import html
import logging
import time
from typing import Any
from urllib.parse import quote

import panel as pn
import param

from server.components.browser import Browser
from server.components.canvas import BoardCanvas
from server.components.presence import BoardPeople
from server.live_board import Applied
from server.media import GRANT_SECONDS, seal_grant
from server.pages.board_comments import CommentsPanel
from server.pages.board_live import LiveCanvas
from server.pages.board_script import ScriptPanel
from server.pages.board_side import (
    BoardDetails,
    BoardExports,
    FramePanel,
    SharePanel,
    SuggestionPanel,
    page_origin,
)
from server.pages.board_toolbar import BoardToolbar
from server.pages.common import PANEL_CSS, empty_state
from server.session import Session, launch, report_error
from workbench.boards import BoardView, ItemMove
from workbench.errors import NotFound, WorkbenchError
from workbench.magic import FrameMatch, frame_beat

__all__ = ["BoardPage", "opened_by_link", "query_arg"]

log = logging.getLogger(__name__)


def query_arg(name: str) -> str:
    """One value of the page URL's query string ('' when absent)."""
    values = (pn.state.session_args or {}).get(name) or []
    raw = values[0] if values else b""
    return (raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)).strip()


def opened_by_link() -> bool:
    """Whether this page was opened through a share link (``?token=``)."""
    return bool(query_arg("token"))


LINK_GONE = ("This link was revoked by its owner (or has expired), so the board is read-only now. "
             "Ask the board's owner for a new link.")
BANNER_CSS = """
.wb-banner { font-family: var(--wb-font); font-size: 14px; color: #fff; background: var(--wb-danger, #b3261e);
  padding: 10px 14px; border-radius: 3px; margin: 0 0 8px; }
"""


def title_for(view: BoardView) -> str:
    """The page header: the board's name once. An editor has it in the title field under the header."""
    return "Board" if view.can_edit else view.board.title


class BoardPage(pn.viewable.Viewer):
    """One board on a free canvas."""

    heading = param.String(default="Board", doc="The page title the shell shows (see title_for).")
    board_id = param.String(default="", doc="The open board.")
    role = param.String(default="", doc="The viewer's role on it: owner, edit or view.")
    revision = param.Integer(default=-1, doc="The board revision the canvas shows.")

    def __init__(self, session: Session, **params: Any) -> None:
        super().__init__(**params)
        self.session = session
        self.token = query_arg("token") or None
        self._sealed: tuple[float, str] | None = None
        self.browser = Browser()
        self.canvas = BoardCanvas(sizing_mode="stretch_width", min_height=480, css_classes=["wb-canvas"])
        for kind, handler in (("move", self._move), ("remove", self._remove), ("front", self._front),
                              ("undo", self._undo), ("redo", self._redo), ("edit", self._edit),
                              ("drop", self._drop), ("add_note", self._add_note_at), ("color", self._color),
                              ("caption", self._caption), ("replace", self._replace),
                              ("selection", self._selected), ("pointer", self._pointed)):
            self.canvas.on(kind, handler)
        self.view: BoardView | None = None
        self.details: BoardDetails | None = None
        self.frames: FramePanel | None = None
        self.exports = BoardExports(session, self.token, self._failed)
        self.toolbar = BoardToolbar(self)
        # Match scores of storyboard frames, kept while the frames (picture, caption) stay the same:
        # scoring embeds the beats' words, which is not worth redoing on every drag.
        self._matches: tuple[tuple[tuple[str, str, str], ...], dict[str, FrameMatch]] = ((), {})
        self.problem = ""
        self.feed = LiveCanvas(self)
        self.comments: CommentsPanel | None = None
        self.script: ScriptPanel | None = None
        # One gesture at a time, in the order they were made: a move then an undo must
        # reach the service layer in that order even though each runs in a thread.
        self._turn = asyncio.Lock()
        self.banner = pn.pane.HTML("", visible=False, stylesheets=[BANNER_CSS], sizing_mode="stretch_width",
                                   margin=0, css_classes=["wb-banner-pane"])
        self.link_gone = False
        try:
            self._open()
        except WorkbenchError as error:
            self.problem = str(error)
        self.people = BoardPeople(session, self.board_id, self.token, self.canvas)
        if self.view is not None:
            self.feed.follow()
            self.people.start()

    # -- loading -----------------------------------------------------------------------
    def _open(self) -> None:
        boards = self.session.wb.boards
        board_id = query_arg("id")
        if self.token:
            board_id, _ = boards.resolve_token(self.token)
        if not board_id:
            raise NotFound("No board is open. Pick one on the Boards page, or create a new one.")
        self.board_id = board_id
        self._load()

    def _load(self) -> None:
        self._show(self._read())

    def _read(self) -> BoardView:
        view = self.session.wb.boards.get(self.session.user, self.board_id, token=self.token)
        frames = tuple((i.id, i.image_id or "", i.caption) for i in view.items
                       if i.kind == "image" and frame_beat(i.caption))
        if frames != self._matches[0]:
            scores = self.session.wb.magic.frame_matches(self.session.user, self.board_id, token=self.token) \
                if frames else {}
            self._matches = (frames, scores)
        return view

    def grant(self) -> str | None:
        """The sealed share token for this page's picture URLs (re-sealed well before it expires)."""
        if not self.token:
            return None
        now = time.monotonic()
        if self._sealed is None or now - self._sealed[0] > GRANT_SECONDS / 2:
            self._sealed = (now, seal_grant(self.session.wb, self.token))
        return self._sealed[1]

    def matches(self) -> dict[str, FrameMatch]:
        """How close each storyboard frame's still is to its beat (scored when the frames last changed)."""
        return self._matches[1]

    async def rescore(self, frames: tuple[tuple[str, str, str], ...]) -> None:
        """Score the storyboard frames again (their stills or beats changed since the last score)."""
        scores = await self.session.run(self.session.wb.magic.frame_matches, self.session.user, self.board_id,
                                        token=self.token) if frames else {}
        self._matches = (frames, scores)

    def _show(self, view: BoardView) -> None:
        self.view = view
        self.param.update(heading=title_for(view), role=view.role, revision=view.board.revision)
        # The revision goes along: the canvas takes a full list only with a new revision, and
        # then applies the patches it received for later revisions on top of it.
        items = self.feed.reset(view)
        self.canvas.param.update(items=items, editable=view.can_edit, revision=view.board.revision,
                                 replaceable=view.can_edit and self.session.user is not None)
        self._named(view)

    def _named(self, view: BoardView) -> None:
        if self.details is not None:
            self.details.mirror(view.board)
        self.exports.rename(view.board)

    def followed(self, applied: Applied) -> None:
        """The live copy took in other changes (see ``board_live``): mirror them outside the canvas."""
        if self.feed.live is None:
            return
        self.view = self.feed.live.view()
        self.param.update(heading=title_for(self.view), revision=self.view.board.revision)
        if applied.board:
            self._named(self.view)
        if applied.comments and self.comments is not None:
            launch(self.comments.refresh())
        if self.comments is not None:
            self.comments.followed(applied)  # the History tab follows every change

    async def reload(self) -> None:
        """Draw the board as the service layer has it now (after the changes being applied)."""
        await self.feed.reload()

    async def redraw(self) -> None:
        """Read the whole board (in a thread: a board may hold many items) and draw it."""
        try:
            view = await self.session.run(self._read)
        except Exception as error:  # noqa: BLE001 - shown in this session, with a banner for a dead link
            await self._failed(error)
            return
        self._show(view)

    async def _failed(self, error: BaseException) -> None:
        """Tell this page's viewer why an action failed; a revoked or expired link also gets a banner."""
        if self.token and isinstance(error, NotFound) and not self.link_gone:
            try:
                await self.session.run(self.session.wb.boards.resolve_token, self.token)
            except NotFound:
                self._link_gone()
        report_error(error, self.session)

    def access_ended(self, reason: str) -> None:
        """The viewer may no longer open this board (link revoked, board deleted...): say so, stop editing."""
        self.people.stop()
        if self.token:
            if not self.link_gone:
                self._link_gone()
                self.session.error(reason)  # the banner stays; the notification says it as it happens
            return
        self.link_gone = True
        self.canvas.editable = False
        self.banner.param.update(object=f'<div class="wb-banner" role="alert">{html.escape(reason)}</div>',
                                 visible=True)

    def _link_gone(self) -> None:
        self.link_gone = True
        self.canvas.editable = False
        # The editing tools go too; what is left (export) says why when it fails.
        self.toolbar.lock()
        self.banner.param.update(object=f'<div class="wb-banner" role="alert">{html.escape(LINK_GONE)}</div>',
                                 visible=True)

    # -- canvas gestures (one service call each) -------------------------------------------
    async def change(self, work: Any, *args: Any, ids: list[str] | None = None, **kwargs: Any) -> Any:
        """Make one change as the viewer (in a thread: a write may wait or retry).

        Its event comes back like anyone else's and the canvas gets the changed cards
        (see ``board_live``). A refused change snaps back: the board is read again and
        the cards of the gesture (``ids``) are sent as stored.
        """
        async with self._turn:
            try:
                return await self.session.run(work, self.session.user, self.board_id, *args, token=self.token,
                                              **kwargs)
            except Exception as error:  # noqa: BLE001 - shown as a notification in this session
                await self._failed(error)
                if not self.link_gone:
                    await self.reload()
                    self.feed.restore(ids or [])
                return None

    # Each handler returns the coroutine; the canvas runs it on this session's event loop.
    async def _move(self, msg: dict[str, Any]) -> None:
        # Numbers are checked by the boards domain (check_point / check_size), not here.
        raw = [m for m in msg.get("moves") or [] if isinstance(m, dict)]
        # A resize sends no x/y (None keeps the place), so it cannot put back a move that crossed it.
        moves = [ItemMove(str(m.get("id")), m.get("x"), m.get("y"), m.get("w"), m.get("h")) for m in raw]
        if moves:
            # The event comes back as a patch like anyone else's: skipping it because "the canvas shows
            # it already" loses a change that crossed this one on the wire (the stress test caught that).
            await self.change(self.session.wb.boards.move_items, moves, ids=[m.id for m in moves])

    async def _remove(self, msg: dict[str, Any]) -> None:
        ids = [str(i) for i in msg.get("ids") or []]
        await self.change(self.session.wb.boards.remove_items, ids, ids=ids)

    async def _front(self, msg: dict[str, Any]) -> None:
        ids = [str(i) for i in msg.get("ids") or []]
        await self.change(self.session.wb.boards.bring_to_front, ids, ids=ids)

    async def _undo(self, msg: dict[str, Any]) -> None:
        await self.change(self.session.wb.boards.undo)

    async def _redo(self, msg: dict[str, Any]) -> None:
        await self.change(self.session.wb.boards.redo)

    async def _edit(self, msg: dict[str, Any]) -> None:
        await self.change(self.session.wb.boards.update_item, str(msg.get("id")), text=str(msg.get("text", "")),
                           ids=[str(msg.get("id"))])

    async def _drop(self, msg: dict[str, Any]) -> None:
        payload: dict[str, Any] = msg["payload"] if isinstance(msg.get("payload"), dict) else {}
        x, y = msg.get("x"), msg.get("y")
        boards = self.session.wb.boards
        if payload.get("kind") == "image":
            await self.change(boards.add_image, str(payload.get("image_id")), x=x, y=y)
        elif payload.get("kind") == "note":
            await self.change(boards.add_note, str(payload.get("text", "")), x=x, y=y)

    async def _add_note_at(self, msg: dict[str, Any]) -> None:
        await self.change(self.session.wb.boards.add_note, "New note", x=msg.get("x"), y=msg.get("y"))

    async def _color(self, msg: dict[str, Any]) -> None:
        ids = [str(i) for i in msg.get("ids") or []]
        await self.change(self.session.wb.boards.color_items, ids, str(msg.get("color", "")), ids=ids)

    async def _caption(self, msg: dict[str, Any]) -> None:
        await self.change(self.session.wb.boards.update_item, str(msg.get("id")),
                           caption=str(msg.get("caption", "")), ids=[str(msg.get("id"))])

    async def _replace(self, msg: dict[str, Any]) -> None:
        item = next((i for i in self.view.items if i.id == msg.get("id")), None) if self.view else None
        if item is not None and self.frames is not None:
            await self.frames.open(item.id, frame_beat(item.caption) or item.caption)

    def _selected(self, msg: dict[str, Any]) -> None:
        ids = [str(i) for i in msg.get("ids") or []]
        self.people.selected(ids)
        if self.comments is not None:
            self.comments.selected(ids)
        if self.script is not None:
            self.script.selected(ids)

    def _pointed(self, msg: dict[str, Any]) -> None:
        self.people.pointed(msg.get("x"), msg.get("y"))

    async def _put_still(self, item_id: str, image_id: str) -> None:
        await self.change(self.session.wb.boards.replace_image, item_id, image_id, ids=[item_id])

    # -- toolbar (board_toolbar) and links ---------------------------------------------------
    def _copy_here(self, event: Any = None) -> None:
        self.browser.copy(f"{page_origin(self.session)}/board?id={quote(self.board_id)}")
        self.session.info("Link copied (it opens for people the board is shared with).")

    # -- layout ------------------------------------------------------------------------------
    def __panel__(self) -> pn.viewable.Viewable:
        if self.view is None:
            return pn.Column(empty_state("This board cannot be opened", self.problem),
                             pn.pane.HTML('<p class="wb-hint"><a href="/boards">Go to your boards</a></p>',
                                          stylesheets=[PANEL_CSS]), margin=(24, 24), sizing_mode="stretch_width")
        # Who may comment is the boards domain's rule (members whatever their role, comment and edit links).
        self.comments = CommentsPanel(self.session, self.board_id, self.token, may_comment=self.view.can_comment,
                                      items=lambda: self.view.items if self.view else [], select=self.canvas.select_cards,
                                      canvas=self.canvas)
        pn.state.onload(self.comments.refresh)
        self.script = ScriptPanel(self.session, self.board_id, self.token)  # shows itself on a storyboard
        pn.state.onload(self.script.refresh)
        side: list[Any] = [self.script, self.comments]
        if self.session.user is not None and self.view.can_edit:
            self.frames = FramePanel(self.session, self.board_id, self.token, self._put_still)
            side.append(self.frames)
            suggestions = SuggestionPanel(self.session, self.board_id)
            side.append(suggestions)
            pn.state.onload(suggestions.refresh)
        if self.role == "owner":
            side.append(SharePanel(self.session, self.board_id, self.browser))
        if self.token is None:
            here = pn.widgets.Button(label="Copy link to this board", color="default",
                                     sizing_mode="stretch_width", margin=(12, 0, 0, 0))
            here.on_click(self._copy_here)
            side.append(here)
        self.details = BoardDetails(self.session, self.view.board, editable=self.view.can_edit, token=self.token,
                                    on_change=self.change)
        main = pn.Column(self.banner, self.details, self.toolbar.build(), self.people.strip, self.canvas, self.browser,
                         sizing_mode="stretch_width", margin=(12, 16, 12, 24))
        panel = pn.Column(*side, width=300, margin=(12, 24, 12, 0),
                          styles={"border-left": "1px solid #eee", "padding-left": "16px"})
        return pn.Row(main, panel, sizing_mode="stretch_width", margin=0)
