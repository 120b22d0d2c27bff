"""The Boards page: every board the filmmaker owns or was given, plus archived ones and the trash."""

from __future__ import annotations

import functools
import html
from typing import Any
from urllib.parse import quote

import panel as pn
import param

from server.components.browser import Browser
from server.pages.common import PANEL_CSS, empty_state, section
from server.session import Session, friendly, launch
from workbench.boards import Board
from workbench.boards.boards import BoardShelf

__all__ = ["BoardsPage", "PAGE_SIZE"]

PAGE_SIZE = 24  # one screen or two of cards: a list of 150 boards opens as fast as one of 20
SORTS = {"Last edited": "edited", "Title A–Z": "title", "Newest": "created"}

CARD_CSS = PANEL_CSS + """
.wb-board-card { display: block; text-decoration: none; color: #111; }
.wb-board-cover { aspect-ratio: 16 / 10; background: #f3f3f3; overflow: hidden; border: 1px solid #e4e4e4; }
.wb-board-cover img { width: 100%; height: 100%; object-fit: cover; display: block; }
.wb-board-cover .wb-blank { display: flex; height: 100%; align-items: center; justify-content: center;
  color: #999; font-size: 12px; }
.wb-board-card:hover .wb-board-cover, .wb-board-card:focus-visible .wb-board-cover { border-color: #111; }
.wb-board-card:focus-visible { outline: 2px solid var(--wb-accent); }
.wb-board-name { font-weight: 650; font-size: 15px; margin: 8px 0 2px; overflow: hidden; text-overflow: ellipsis;
  white-space: nowrap; }
"""

MENU = [("Rename", "rename"), ("Duplicate", "duplicate"), ("Archive", "archive"), None, ("Delete", "delete")]


def _card_html(board: Board) -> str:
    cover = (f'<img src="/media/board/{quote(board.id)}/{quote(board.cover_image_id)}" alt="" loading="lazy">'
             if board.cover_image_id else '<div class="wb-blank">no stills yet</div>')
    role = "" if board.role == "owner" else f'<span class="wb-badge">{html.escape(board.role)}</span>'
    return (f'<a class="wb-board-card" href="/board?id={quote(board.id)}" data-board="{html.escape(board.id, quote=True)}">'
            f'<div class="wb-board-cover">{cover}</div>'
            f'<div class="wb-board-name">{html.escape(board.title)}{role}</div>'
            f'<div class="wb-hint">{board.item_count} item{"s" if board.item_count != 1 else ""} · '
            f'changed {board.updated_at:%d %b %Y}</div></a>')


class BoardsPage(pn.viewable.Viewer):
    """Create, open, rename, duplicate, archive, delete and restore boards."""

    show_archived = param.Boolean(default=False, doc="Also list archived boards.")
    search = param.String(default="", doc="Only boards whose title contains these words.")
    sort: Any = param.Selector(default="edited", objects=list(SORTS.values()), doc="The order of the list.")
    offset = param.Integer(default=0, bounds=(0, None), doc="Where the shown page starts in the list.")

    def __init__(self, session: Session, **params: Any) -> None:
        super().__init__(**params)
        self.session = session
        self.browser = Browser()
        self.title = pn.widgets.TextInput(placeholder="Name a new board, e.g. “Night shoot” — Enter",
                                          width=380, css_classes=["wb-new-board"], margin=(0, 10, 0, 0))
        self.title.param.watch(self._create, "enter_pressed")
        self.create = pn.widgets.Button(label="New board", color="primary", width=110)
        self.create.on_click(self._create)
        # A board exported as ZIP (from here or another workbench) comes back as a new board.
        self.importer = pn.widgets.FileInput(accept=".zip", width=230, css_classes=["wb-import-board"],
                                             margin=(8, 10, 0, 10))
        self.importer.param.watch(self._import, "value")
        self.import_status = pn.pane.HTML("", stylesheets=[PANEL_CSS], margin=(14, 0))
        self.archived = pn.widgets.Checkbox(label="Show archived boards", margin=(8, 10))
        self.archived.link(self, value="show_archived")
        self.finder = pn.widgets.TextInput(placeholder="Search boards by title", width=260,
                                           css_classes=["wb-board-search"], margin=(0, 10, 0, 0))
        self.finder.param.watch(lambda e: setattr(self, "search", e.new or ""), "value_input")
        self.order = pn.widgets.Select(options=SORTS, value="edited", width=150, css_classes=["wb-board-sort"],
                                       margin=(0, 10, 0, 0))
        self.order.link(self, value="sort")
        self.count = pn.pane.HTML("", stylesheets=[PANEL_CSS], margin=(8, 0, 0, 4), css_classes=["wb-board-count"])
        self.previous = pn.widgets.Button(label="← Previous", color="default", width=110,
                                          css_classes=["wb-board-prev"])
        self.previous.on_click(lambda e: self._turn_page(-1))
        self.next = pn.widgets.Button(label="Next →", color="default", width=110, css_classes=["wb-board-next"])
        self.next.on_click(lambda e: self._turn_page(1))
        self.pager = pn.Row(self.previous, self.next, margin=(0, 0, 12, 0))
        self.cards = pn.FlexBox(sizing_mode="stretch_width", gap="22px", margin=(12, 0))
        self.trash = pn.Column(sizing_mode="stretch_width", margin=0)
        self._ticket = 0
        self.param.watch(self._from_start, ["show_archived", "search", "sort"])
        self.param.watch(self._redraw, "offset")
        self._show(*self._listing())

    def _listing(self) -> tuple[BoardShelf, list[Board]]:
        """(one page of boards, trash) as the acting user sees them."""
        wb, me = self.session.wb, self.session.me
        shelf = wb.boards.browse(me, search=self.search, sort=self.sort, include_archived=self.show_archived,
                                 offset=self.offset, limit=PAGE_SIZE)
        return shelf, wb.boards.trash(me)

    def _from_start(self, event: Any = None) -> None:
        if self.offset:
            self.offset = 0  # redraws through its own watcher
        else:
            launch(self._redraw())

    def _turn_page(self, step: int) -> None:
        self.offset = max(0, self.offset + step * PAGE_SIZE)

    @friendly
    async def _redraw(self, event: Any = None) -> None:
        # Typing in the search box starts one listing per key; only the latest one is shown.
        self._ticket += 1
        ticket = self._ticket
        listing = await self.session.run(self._listing)
        if ticket == self._ticket:
            self._show(*listing)

    def _show(self, shelf: BoardShelf, deleted: list[Board]) -> None:
        wb = self.session.wb
        boards = shelf.boards
        if not boards and self.search.strip():
            self.cards.objects = [empty_state(
                "No board matches", f"No board title contains “{self.search.strip()}”. Clear the search to see "
                "them all.")]
        elif not boards:
            self.cards.objects = [empty_state(
                "No boards yet", "Name one above, send stills to a board from the Library, "
                "or let the Magic Board page build one from a pitch.")]
        else:
            self.cards.objects = [self._tile(b) for b in boards]
        first, last = shelf.offset + 1, shelf.offset + len(boards)
        self.count.object = (f'<span class="wb-hint wb-board-total" data-total="{shelf.total}">'
                             + (f"{first}–{last} of {shelf.total} boards" if boards else f"{shelf.total} boards")
                             + "</span>")
        self.previous.disabled, self.next.disabled = shelf.offset == 0, not shelf.has_more
        self.pager.visible = shelf.total > PAGE_SIZE
        rows: list[Any] = []
        if deleted:
            rows.append(section(f"Trash · kept {wb.boards.grace_days} days"))
            for board in deleted:
                restore = pn.widgets.Button(label="Restore", color="default", width=90)
                restore.on_click(functools.partial(self._on_act, "restore", board.id))
                rows.append(pn.Row(pn.pane.HTML(f'<div class="wb-hint"><strong>{html.escape(board.title)}</strong> · '
                                                f'deleted {board.deleted_at:%d %b %Y}</div>', stylesheets=[CARD_CSS],
                                                margin=(10, 0)), restore, margin=0))
        self.trash.objects = rows

    def _tile(self, board: Board) -> pn.viewable.Viewable:
        card = pn.pane.HTML(_card_html(board), stylesheets=[CARD_CSS], width=250, margin=0)
        parts: list[Any] = [card]
        if board.status == "archived":
            back = pn.widgets.Button(label="Unarchive", color="default", width=100)
            back.on_click(lambda e: launch(self._act("unarchive", board.id)))
            parts.append(back)
        tile = pn.Column(*parts, width=250, margin=0)
        if board.status != "archived" and board.role == "owner":
            menu = pn.widgets.MenuButton(label="Board actions", items=MENU, color="default", width=140,
                                         margin=(6, 0, 0, 0))
            menu.on_click(lambda e: launch(self._menu(e.new, board, tile)))
            tile.append(menu)
        return tile

    async def _menu(self, action: str, board: Board, tile: pn.Column) -> None:
        if action == "rename":
            # Made on demand: a page of boards does not carry a hidden text box per card.
            rename = pn.widgets.TextInput(value=board.title, width=250, placeholder="New title — Enter saves")
            rename.param.watch(lambda e: launch(self._rename(board.id, rename.value_input)), "enter_pressed")
            tile.append(rename)
            return
        await self._act(action, board.id)

    async def _on_act(self, action: str, board_id: str, event: Any = None) -> None:
        await self._act(action, board_id)

    @friendly
    async def _rename(self, board_id: str, title: str) -> None:
        await self.session.run(self.session.wb.boards.rename, self.session.me, board_id, title)
        await self._redraw()

    def _apply(self, action: str, board_id: str) -> str:
        """Do one board action (in a thread: duplicating a big board takes a while); what to tell the person."""
        boards, me = self.session.wb.boards, self.session.me
        if action == "duplicate":
            return f"Made “{boards.duplicate(me, board_id).title}”."
        if action == "archive":
            boards.archive(me, board_id)
            return "Archived. Tick “Show archived boards” to see it again."
        if action == "unarchive":
            boards.unarchive(me, board_id)
        elif action == "delete":
            boards.delete(me, board_id)
            return f"Moved to the trash; it can be restored for {boards.grace_days} days."
        elif action == "restore":
            boards.restore(me, board_id)
        return ""

    @friendly
    async def _act(self, action: str, board_id: str) -> None:
        message = await self.session.run(self._apply, action, board_id)
        if message:
            self.session.info(message)
        await self._redraw()

    @friendly
    async def _create(self, event: Any = None) -> None:
        title = (self.title.value_input or self.title.value or "").strip() or "Untitled board"
        board = await self.session.run(self.session.wb.boards.create, self.session.me, title)
        self.browser.navigate(f"/board?id={quote(board.id)}")

    @friendly
    async def _import(self, event: Any) -> None:
        if not event.new:
            return
        data = bytes(event.new)
        self.importer.loading = True
        self.import_status.object = '<span class="wb-hint wb-importing">Importing the board…</span>'
        try:
            board = await self.session.run(self.session.wb.boards.import_zip, self.session.me, data)
        finally:
            self.importer.loading = False
            self.import_status.object = ""
        self.session.info(f"Imported “{board.title}”. Opening it…")
        self.browser.navigate(f"/board?id={quote(board.id)}")

    def __panel__(self) -> pn.viewable.Viewable:
        # Making a board is the first thing on the page; finding one is the second; importing a ZIP is rare,
        # so it sits under the list instead of beside "New board" (a bare "Choose File" there read as clutter).
        importer = pn.Row(pn.pane.HTML('<span class="wb-hint">A board exported as ZIP, from here or another '
                                       'workbench, comes back as a new board.</span>', stylesheets=[PANEL_CSS],
                                       margin=(12, 0, 0, 0)), self.importer, self.import_status, margin=0)
        top = pn.Row(self.title, self.create, margin=0)
        find = pn.Row(self.finder, self.order, self.archived, self.count, margin=(14, 0, 0, 0))
        return pn.Column(top, find, self.cards, self.pager, self.trash, section("Import a board"), importer,
                         self.browser, sizing_mode="stretch_width", margin=(16, 24))
