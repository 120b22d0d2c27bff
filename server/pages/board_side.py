"""The board page's side panels: AI suggestions to drag in, and sharing."""

from __future__ import annotations

import functools
import html
import io
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import panel as pn
import param

from server.components.browser import Browser
from server.components.canvas import PromptTray
from server.components.download import Export
from server.components.grid import ImageGrid, hit_entries
from server.pages.common import PANEL_CSS, section
from server.session import Session, friendly, launch
from workbench.boards import Board, export_name

__all__ = ["SuggestionPanel", "SharePanel", "BoardDetails", "BoardExports", "FramePanel", "page_origin",
           "is_loopback", "LOCAL_ONLY", "SHARE_CLASS"]

# What a link lets its holder do: look, look and comment (signing with a name), or change the board.
LINK_ROLES = {"Can view": "view", "Can comment": "comment", "Can edit": "edit"}
ROLE_LABELS = {role: label for label, role in LINK_ROLES.items()}
SHARE_CLASS = "wb-share-panel"  # the toolbar's Share button scrolls to it
EXPIRY = {"Never expires": 0, "Expires in 1 day": 1, "Expires in 7 days": 7, "Expires in 30 days": 30}


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0", "::"})


def is_loopback(url: str) -> bool:
    """Whether ``url`` points at this machine only (127.0.0.1, localhost, ::1): no teammate can open it."""
    host = (urlsplit(url).hostname or "").lower()
    return host in LOOPBACK_HOSTS or host.startswith("127.") or host.endswith(".localhost")


def _browser_origin() -> str:
    location = pn.state.location
    if location is not None and location.hostname:
        port = f":{location.port}" if location.port else ""
        return f"{location.protocol or 'http:'}//{location.hostname}{port}"
    return ""


def page_origin(session: Session) -> str:
    """``scheme://host:port`` for links to this app that someone else may open.

    The public URL setting (``WORKBENCH_SERVER__PUBLIC_URL``) comes first: behind a
    proxy or a DNS name it is what teammates reach. When it is only the loopback
    default and the browser reached the app under another name, that name is used.
    """
    public = session.wb.settings.server.public_url.rstrip("/")
    browser = _browser_origin()
    if is_loopback(public) and browser and not is_loopback(browser):
        return browser
    return public or browser


LOCAL_ONLY = ("This workbench is only reachable from this computer ({host}), so a share link opens here and "
              "nowhere else. To share with teammates, serve it on an address they can reach, with sign-in "
              "(WORKBENCH_AUTH__MODE=clerk), and set WORKBENCH_SERVER__PUBLIC_URL to that address.")


class SuggestionPanel(pn.viewable.Viewer):
    """Related stills and story prompts for the open board, ready to drag onto the canvas."""

    board_id = param.String(default="", doc="The board the suggestions are for.")

    def __init__(self, session: Session, board_id: str, **params: Any) -> None:
        super().__init__(board_id=board_id, **params)
        self.session = session
        self.related = ImageGrid(compact=True, draggable=True, actions=False, multi=False, sizing_mode="stretch_width",
                                 empty_text="Add a still or a few words to the board to get related images.")
        self.prompts = PromptTray(empty_text="Ask for story prompts drawn from what is on the board.",
                                  sizing_mode="stretch_width")
        price = session.wb.accounts.price("story_prompts")
        self.ask = pn.widgets.Button(label=f"Suggest story prompts · {price} credit{'s' if price != 1 else ''}",
                                     color="default", sizing_mode="stretch_width", margin=(4, 0))
        self.ask.on_click(self._ask_prompts)
        self.refresh_button = pn.widgets.Button(label="Refresh related stills", color="default",
                                                sizing_mode="stretch_width", margin=(8, 0))
        self.refresh_button.on_click(lambda e: launch(self.refresh()))

    @friendly
    async def refresh(self) -> None:
        """Re-read related images (free; cached by the service per board revision)."""
        wb = self.session.wb
        hits = await self.session.run(wb.suggestions.related_images, self.session.me, self.board_id, limit=12)
        self.related.images = hit_entries(hits)

    @friendly
    async def _ask_prompts(self, event: Any = None) -> None:
        self.ask.loading = True
        try:
            texts = await self.session.run(self.session.wb.suggestions.story_prompts, self.session.me, self.board_id)
        finally:
            self.ask.loading = False
            self.session.refresh()
        self.prompts.texts = list(texts)

    def __panel__(self) -> pn.viewable.Viewable:
        hint = pn.pane.HTML('<p class="wb-hint">Drag a still or a prompt onto the board.</p>',
                            stylesheets=[PANEL_CSS], margin=0)
        return pn.Column(section("Suggestions"), hint, self.related, self.refresh_button,
                         section("Story prompts"), self.ask, self.prompts, sizing_mode="stretch_width", margin=0)


class SharePanel(pn.viewable.Viewer):
    """Share links for the board's owner: create (view or edit), copy, revoke."""

    board_id = param.String(default="", doc="The board being shared.")
    last_url = param.String(default="", doc="The URL of the link made last (its token is shown only once).")

    def __init__(self, session: Session, board_id: str, browser: Browser, **params: Any) -> None:
        super().__init__(board_id=board_id, **params)
        self.session = session
        self.browser = browser
        self.role = pn.widgets.RadioButtonGroup(options=LINK_ROLES, value="view",
                                                color="default", sizing_mode="stretch_width", margin=(4, 0))
        self.expiry = pn.widgets.Select(options=EXPIRY, value=0, sizing_mode="stretch_width", margin=(4, 0))
        self.create = pn.widgets.Button(label="Create share link", color="primary", sizing_mode="stretch_width",
                                        margin=(4, 0))
        self.create.on_click(self._create)
        self.url = pn.widgets.TextInput(label="New link (shown once: copy it now)", visible=False,
                                        sizing_mode="stretch_width", css_classes=["wb-share-url"], margin=(4, 0))
        self.copy = pn.widgets.Button(label="Copy link", visible=False, color="default", margin=(4, 0))
        self.copy.on_click(lambda e: self._copy(self.url.value or ""))
        self.links = pn.Column(sizing_mode="stretch_width", margin=0)
        origin = page_origin(session)
        host = urlsplit(origin).netloc or origin
        self.reach = pn.pane.HTML(
            f'<p class="wb-hint wb-local-only" role="note">{html.escape(LOCAL_ONLY.format(host=host))}</p>',
            stylesheets=[PANEL_CSS], margin=(4, 0), sizing_mode="stretch_width", visible=is_loopback(origin))
        self._list()

    @friendly
    async def _create(self, event: Any = None) -> None:
        days = int(self.expiry.value or 0)
        expires = timedelta(days=days) if days else None
        link, token = await self.session.run(self.session.wb.boards.create_link, self.session.me, self.board_id,
                                             self.role.value, expires_in=expires)
        self.last_url = f"{page_origin(self.session)}/board?token={quote(token)}"
        self.url.param.update(value=self.last_url, visible=True)
        self.copy.visible = True
        self._copy(self.last_url)
        await self._relist()

    def _copy(self, text: str) -> None:
        if text:
            self.browser.copy(text)
            self.session.info("Link copied to the clipboard.")

    @friendly
    def _list(self) -> None:
        self._show(self.session.wb.boards.links(self.session.me, self.board_id))

    async def _relist(self) -> None:
        self._show(await self.session.run(self.session.wb.boards.links, self.session.me, self.board_id))

    def _show(self, links: list[Any]) -> None:
        rows: list[Any] = []
        for link in links:
            when = link.created_at.strftime("%d %b %H:%M")
            state = "active" if link.active else ("revoked" if link.revoked_at else "expired")
            until = f" · until {link.expires_at:%d %b}" if link.expires_at and link.active else ""
            label = pn.pane.HTML(
                f'<div class="wb-link-row" data-link="{html.escape(link.id, quote=True)}">'
                f'<strong>{ROLE_LABELS.get(link.role, "Can view")}</strong> · {when}{until}'
                f' <span class="wb-badge{"" if link.active else " offline"}">{state}</span></div>',
                stylesheets=[PANEL_CSS], margin=0, sizing_mode="stretch_width")
            if link.active:
                revoke = pn.widgets.Button(label="Revoke", color="danger", width=80, margin=(0, 0, 0, 6))
                revoke.on_click(functools.partial(self._revoke, link.id))
                rows.append(pn.Row(label, revoke, sizing_mode="stretch_width", margin=(2, 0)))
            else:
                rows.append(label)
        if not rows:
            rows.append(pn.pane.HTML('<p class="wb-hint">No share links yet. A link lets anyone who has it '
                                     'open this board: to look, to comment, or to edit.</p>', stylesheets=[PANEL_CSS], margin=0))
        self.links.objects = rows

    @friendly
    async def _revoke(self, link_id: str, event: Any = None) -> None:
        await self.session.run(self.session.wb.boards.revoke_link, self.session.me, self.board_id, link_id)
        self.session.info("The link no longer opens this board.")
        await self._relist()

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(section("Share"), self.reach, self.role, self.expiry, self.create, self.url, self.copy,
                         self.links, sizing_mode="stretch_width", margin=0, css_classes=[SHARE_CLASS])


_TITLE_CSS = ".bk-input { font-size: 20px; font-weight: 650; border-color: transparent; padding-left: 2px; }" \
    " .bk-input:hover, .bk-input:focus { border-color: #cfcfcf; }"


class BoardDetails(pn.viewable.Viewer):
    """The board's title and description over the canvas: editable in place for its editors."""

    board_id = param.String(default="", doc="The board shown.")

    def __init__(self, session: Session, board: Board, *, editable: bool, token: str | None,
                 on_change: Any, **params: Any) -> None:
        super().__init__(board_id=board.id, **params)
        self.session, self.token, self.on_change, self.editable = session, token, on_change, editable
        self.title = pn.widgets.TextInput(value=board.title, placeholder="Board title — Enter saves",
                                          sizing_mode="stretch_width",  # a long name is read whole
                                          css_classes=["wb-board-title-input"], margin=(0, 10, 0, 0),
                                          stylesheets=[_TITLE_CSS])
        self.about = pn.widgets.TextAreaInput(value=board.description, rows=1, auto_grow=True, max_rows=4,
                                              placeholder="Describe the board: what it is for, the look, the shoot…",
                                              sizing_mode="stretch_width", css_classes=["wb-board-description"],
                                              margin=(0, 0, 4, 0))
        self.plain = pn.pane.HTML("", stylesheets=[PANEL_CSS], sizing_mode="stretch_width", margin=(0, 0, 4, 0))
        # Values this page set from the store, not typed: their watchers (async, so they run after the
        # set) must not write them back, or a stale echo could put back a newer rename made elsewhere.
        self._mirrored: list[tuple[str, str]] = []
        if editable:
            self.title.param.watch(self._rename, "value")
            self.about.param.watch(self._describe, "value")
        self.mirror(board)

    def mirror(self, board: Board) -> None:
        """Mirror the board as stored (someone else may have renamed it)."""
        if self.title.value != board.title:
            self._mirrored.append(("title", board.title))
            self.title.value = board.title
        if self.about.value != board.description:
            self._mirrored.append(("about", board.description))
            self.about.value = board.description
        # The name is the page header's (title_for): here only the description, so it is said once.
        self.plain.object = (f'<div class="wb-board-heading"><p class="wb-hint">{html.escape(board.description)}</p>'
                             '</div>' if board.description else "")

    def _echo(self, field: str, value: str) -> bool:
        """True (once) when ``value`` is one this page mirrored from the store rather than one typed."""
        if (field, value) in self._mirrored:
            self._mirrored.remove((field, value))
            return True
        return False

    @friendly
    async def _rename(self, event: Any) -> None:
        if self._echo("title", event.new):
            return
        if (event.new or "").strip() and event.new != event.old:
            await self.on_change(self.session.wb.boards.rename, event.new)

    @friendly
    async def _describe(self, event: Any) -> None:
        if self._echo("about", event.new):
            return
        if event.new != event.old:
            await self.on_change(self.session.wb.boards.describe, event.new or "")

    def __panel__(self) -> pn.viewable.Viewable:
        if not self.editable:
            return self.plain
        return pn.Column(self.title, self.about, sizing_mode="stretch_width", margin=(0, 0, 4, 0))


class FramePanel(pn.viewable.Viewer):
    """"Replace this still": library stills for one storyboard frame's beat; a click swaps the picture in."""

    item_id = param.String(default="", doc="The frame whose still is being replaced ('' when closed).")

    def __init__(self, session: Session, board_id: str, token: str | None, on_pick: Any, **params: Any) -> None:
        super().__init__(**params)
        self.session, self.board_id, self.token, self.on_pick = session, board_id, token, on_pick
        self.about = pn.pane.HTML("", stylesheets=[PANEL_CSS], sizing_mode="stretch_width", margin=0)
        self.grid = ImageGrid(compact=True, multi=False, actions=False, sizing_mode="stretch_width",
                              css_classes=["wb-replace-grid"], empty_text="Nothing in the library for this beat.")
        self.grid.param.watch(self._picked, "selected")
        self.close = pn.widgets.Button(label="Keep this still", color="default", sizing_mode="stretch_width",
                                       margin=(4, 0))
        self.close.on_click(lambda e: self.hide())
        self.body = pn.Column(section("Replace this still"), self.about, self.grid, self.close, visible=False,
                              sizing_mode="stretch_width", margin=(0, 0, 12, 0), css_classes=["wb-frame-panel"])

    @friendly
    async def open(self, item_id: str, caption: str) -> None:
        """Show the library's best stills for this frame's beat (free: a search)."""
        self.item_id = item_id
        beat = caption.strip() or "this picture"
        self.about.object = (f'<p class="wb-hint">Stills for “{html.escape(beat[:200])}”, best match first. '
                             'Click one to put it in this frame (Undo takes it back).</p>')
        self.grid.param.update(images=[], selected=[])
        self.body.visible = True
        hits = await self.session.run(self.session.wb.magic.replacements, self.session.me, self.board_id, item_id,
                                      limit=12, token=self.token)
        if self.item_id == item_id:
            # Compact thumbnails show only a title: the match goes in front of it, to compare with the frame's.
            self.grid.images = [{**entry, "title": f"{round(hit.score * 100)}% · {entry['title']}"}
                                for hit, entry in zip(hits, hit_entries(hits), strict=True)]

    def hide(self) -> None:
        self.item_id = ""
        self.body.visible = False

    async def _picked(self, event: Any) -> None:
        if event.new and self.item_id:
            item_id, image_id = self.item_id, str(event.new[0])
            self.hide()
            await self.on_pick(item_id, image_id)

    def __panel__(self) -> pn.viewable.Viewable:
        return self.body


class BoardExports:
    """The board page's Export PDF and Export ZIP buttons: files named after the board, failures told."""

    def __init__(self, session: Session, token: str | None, failed: Any) -> None:
        self.session, self.token, self.failed = session, token, failed
        self.board_id = ""
        self._buttons: list[Export] = []

    def buttons(self, board: Board | None) -> list[Export]:
        """The two buttons, for this board (made once per toolbar)."""
        self.board_id = board.id if board else ""
        name = (lambda ext: export_name(board, ext)) if board else (lambda ext: f"board.{ext}")
        self._buttons = [
            Export(self._pdf, busy_label="Preparing PDF…", filename=name("pdf"), label="Export PDF",
                   color="default", width=130, css_classes=["wb-export-pdf"]),
            Export(self._zip, busy_label="Preparing ZIP…", filename=name("zip"), label="Export ZIP",
                   color="default", width=130, css_classes=["wb-export-zip"]),
        ]
        return self._buttons

    def rename(self, board: Board) -> None:
        """Follow a rename: the next download is named after the new title."""
        for export in self._buttons:
            extension = export.filename.rpartition(".")[2] if export.filename else "pdf"
            export.filename = export_name(board, extension)

    def _write(self, write: Any) -> bytes:
        out = io.BytesIO()
        write(self.session.user, self.board_id, out, token=self.token)
        return out.getvalue()

    async def _export(self, write: Any) -> bytes | None:
        try:
            return await self.session.run(self._write, write)
        except Exception as error:  # noqa: BLE001 - the download button cannot show an error itself
            await self.failed(error)
            return None

    async def _pdf(self) -> bytes | None:
        return await self._export(self.session.wb.boards.export_pdf)

    async def _zip(self) -> bytes | None:
        return await self._export(self.session.wb.boards.export_zip)
