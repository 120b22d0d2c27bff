"""The Library page: upload stills, browse them, search by words or by picture, tag, send to a board."""

from __future__ import annotations

import functools
import html
from collections import Counter
from dataclasses import replace
from typing import Any

import panel as pn
import param

from server.components.grid import ImageGrid, display_title, grid_entry, hit_entries
from server.components.upload import BoundedFileDropper
from server.pages.common import PANEL_CSS, recent_board_options, section
from server.pages.library_search import SearchBar
from server.pages.library_uploads import UploadQueue
from server.probes import timed_search
from server.session import Session, friendly, launch
from workbench.search_query import SearchQuery

__all__ = ["LibraryPage", "UploadQueue"]

PAGE = 48
SCOPES = {"Everything I can see": "all", "My uploads": "mine", "Shared with me": "shared"}


NEW_BOARD = "new-board"


class LibraryPage(pn.viewable.Viewer):
    """Every still the filmmaker can see, with search, tags and 'add to board'."""

    mode = param.Selector(  # type: ignore[var-annotated]
        default="browse", objects=["browse", "text", "picture", "similar"],
        doc="What the grid shows: the library, or results of a search.")
    query = param.String(default="", doc="The words of a search (with the search bar's examples and filters).")
    similar_to = param.String(default="", doc="Image id of a 'find similar' search.")
    shown = param.Integer(default=PAGE, doc="How many images or results the grid holds (grows as it scrolls).")

    def __init__(self, session: Session, **params: Any) -> None:
        super().__init__(**params)
        self.session = session
        self._picture: bytes | None = None
        self.grid = ImageGrid(sizing_mode="stretch_width", min_height=300)
        self.grid.on_more(self._more)
        self.grid.on_similar(self._similar)
        self.grid.param.watch(self._on_select, "selected")
        self.bar = SearchBar(session)
        self.bar.on_search(self._on_enter)
        self.search_box = self.bar.words
        self._next_page: int | None = None
        self._last_query: SearchQuery | None = None
        self.scope = pn.widgets.Select(options=SCOPES, value="all", width=190)
        self.scope.param.watch(self._reload, "value")
        self.picture_drop = BoundedFileDropper(max_file_bytes=session.wb.settings.library.max_bytes,
                                               accepted_filetypes=["image/*"], multiple=False, layout="compact",
                                                   sizing_mode="stretch_width", css_classes=["wb-picture-search"],
                                                   margin=(0, 0, 4, 0))
        self.picture_drop.param.watch(self._on_picture, "value")
        self.summary = pn.pane.HTML("", stylesheets=[PANEL_CSS], sizing_mode="stretch_width", margin=(8, 0))
        self.clear = pn.widgets.Button(label="Back to the library", visible=False, color="default")
        self.clear.on_click(self._browse)
        self.uploads = UploadQueue(session)
        self.uploads.param.watch(self._upload_finished, "finished")
        self.uploads.param.watch(self._show_already, "already")
        self.detail = pn.Column(sizing_mode="stretch_width", margin=0)
        self._generation = 0  # the newest grid request; an older answer arriving late is dropped
        self._apply(self._fetch(self.mode, self.scope.value, self.shown))
        self.bar.load_choices()

    # -- loading the grid ----------------------------------------------------------------
    def _show_already(self, event: Any) -> None:
        """A dropped file that is already in the library: select that picture, so its details show."""
        if event.new:
            self.grid.selected = [event.new]
            self.uploads.already = ""

    async def _upload_finished(self, event: Any = None) -> None:
        if self.mode == "browse":
            await self._reload(keep=True)

    @friendly
    async def _reload(self, event: Any = None, keep: bool = False) -> None:
        if not keep:
            self.shown = PAGE
        self._generation += 1
        generation = self._generation
        wb = self.session.wb
        if self.mode != "browse" and not wb.search_ready:
            # The model is still loading (just after start-up): say so instead of a frozen grid,
            # and run the search the moment it is ready.
            self.summary.object = '<p class="wb-hint wb-preparing">Preparing search…</p>'
            await self.session.run(wb.wait_for_search)
            if generation != self._generation:
                return  # a newer request took over while we waited
        # A search embeds its words or picture (CPU work): in a thread, with the grid marked busy.
        self.grid.loading = True
        try:
            result = await self.session.run(self._fetch, self.mode, self.scope.value, self.shown)
        finally:
            if generation == self._generation:
                self.grid.loading = False
        if generation == self._generation:
            self._apply(result)

    def _fetch(self, mode: str, scope: str, shown: int) -> dict[str, Any]:
        """What the grid shows for a mode (service reads and searches only; safe in a thread)."""
        wb, me = self.session.wb, self.session.me
        if mode == "browse":
            total = wb.library.count(me, scope=scope)
            images = wb.library.list(me, scope=scope, limit=shown)
            return {"images": [grid_entry(i) for i in images], "has_more": len(images) < total,
                    "empty_text": "Your library is empty. Drop stills on the upload area to start."
                    if scope == "mine" else "Nothing here yet. Upload a few stills to start.",
                    "summary": f'{total} image{"s" if total != 1 else ""}', "clear": False}
        if mode == "text":
            return self._fetch_query(scope)
        limit = min(shown, 500)
        with timed_search("similar" if mode == "similar" else "image"):  # /metrics
            if mode == "similar":
                hits = wb.search.similar_to(me, self.similar_to, limit=limit, scope=scope)
                what = "images like the one you picked"
            else:
                hits = wb.search.by_image(me, self._picture or b"", limit=limit, scope=scope)
                what = "the picture you dropped"
        return {"images": hit_entries(hits), "has_more": len(hits) >= limit and limit < 500,
                "empty_text": "No match among the images you can see. Try other words or a picture.",
                "summary": f'{len(hits)} result{"s" if len(hits) != 1 else ""} for {what}', "clear": True}

    def _fetch_query(self, scope: str, page: int = 1) -> dict[str, Any]:
        """One page of the search bar's query: words and/or examples, threshold, sort, board (safe in a thread)."""
        wb, me = self.session.wb, self.session.me
        query = self.bar.query(scope=scope, page_size=PAGE)
        query = replace(query, text=self.query, page=page)
        with timed_search("image" if query.kind == "image" else "text"):  # /metrics
            found = wb.search.run(me, query)
        self._next_page, self._last_query = found.next_page, query
        total = f'{found.total:,}{"+" if found.total_capped else ""}'
        above = f" above {query.min_score:.2f}" if query.min_score else ""
        what = " + ".join(part for part in (f"“{html.escape(query.text)}”" if query.text else "",
                                            f"{len(query.examples)} example still{'s' if len(query.examples) != 1 else ''}"
                                            if query.examples else "") if part)
        where = " on the chosen board" if query.board_id else ""
        if query.min_score:
            empty = (f"No still scores above {query.min_score:.2f}{where}. Lower the relevance threshold, "
                     "or try other words or another example.")
        else:
            empty = f"No match among the images you can see{where}. Try other words, or add an example still."
        how = {"newest": ", newest first", "oldest": ", oldest first"}.get(query.sort, "")
        note = "" if found.calibrated else " (scores by rank: this model has no calibration yet)"
        return {"images": hit_entries(found.hits), "has_more": found.has_more, "empty_text": empty,
                "summary": f"{total} result{'s' if found.total != 1 else ''}{above} for {what}{where}{how}{note}",
                "clear": True, "count": f"{total} result{'s' if found.total != 1 else ''}{above}"}

    def _apply(self, result: dict[str, Any]) -> None:
        self.grid.param.update(images=result["images"], has_more=result["has_more"], empty_text=result["empty_text"])
        self.summary.object = f'<p class="wb-hint">{result["summary"]}</p>'
        self.clear.visible = result["clear"]
        self.bar.count_text = result.get("count", "")

    @friendly
    async def _more(self) -> None:
        if self.mode == "text":
            await self._more_results()
            return
        self.shown += PAGE
        await self._reload(keep=True)

    async def _more_results(self) -> None:
        """The next page of a search, added under the ones shown (the grid keeps its scroll)."""
        if self._next_page is None:
            self.grid.has_more = False
            return
        generation = self._generation
        result = await self.session.run(self._fetch_query, self.scope.value, self._next_page)
        if generation == self._generation:
            self.grid.param.update(images=[*self.grid.images, *result["images"]], has_more=result["has_more"])

    async def _browse(self, event: Any = None) -> None:
        self.mode = "browse"
        self.bar.clear()
        await self._reload()

    @friendly
    async def _on_enter(self, event: Any = None) -> None:
        if self.bar.is_empty:
            await self._browse()
            return
        self.query = (self.search_box.value_input or self.search_box.value or "").strip()
        self.mode = "text"
        await self._reload()

    @friendly
    async def _similar(self, image_id: str) -> None:
        self.similar_to, self.mode = image_id, "similar"
        await self._reload()

    @friendly
    async def _on_picture(self, event: param.parameterized.Event) -> None:
        files = event.new or {}
        if not files:
            return
        data = next(iter(files.values()))
        self._picture = data.encode() if isinstance(data, str) else bytes(data)
        self.mode = "picture"
        await self._reload()

    # -- the selection panel ---------------------------------------------------------------
    @friendly
    async def _on_select(self, event: param.parameterized.Event) -> None:
        ids = list(event.new)
        self.bar.selection = ids
        if not ids:
            self.detail.objects = self._detail(ids, None, {})
            return
        image, boards = await self.session.run(self._selection_facts, ids)
        if list(self.grid.selected) == ids:  # still the selection on screen
            self.detail.objects = self._detail(ids, image, boards)

    def _selection_facts(self, ids: list[str]) -> tuple[Any, dict[str, str]]:
        """(the image when one is selected, the boards it could go on): reads, in a thread."""
        image = self.session.wb.library.get(self.session.me, ids[0]) if len(ids) == 1 else None
        return image, recent_board_options(self.session) if self.session.has("boards") else {}

    def _detail(self, ids: list[str], image: Any, boards: dict[str, str]) -> list[Any]:
        if not ids:
            return [pn.pane.HTML('<p class="wb-hint">Click stills to select them: tag them, find similar ones, '
                                 'or put them on a board.</p>', stylesheets=[PANEL_CSS], margin=0)]
        me = self.session.me
        parts: list[Any] = []
        if image is not None:
            parts.append(pn.pane.HTML(
                f'<div class="wb-detail"><img src="/media/thumb/{html.escape(image.id)}" alt="">'
                f'<div class="wb-detail-name">{html.escape(display_title(image))}</div>'
                f'<div class="wb-hint">{html.escape(image.filename) + " · " if display_title(image) != image.filename else ""}'
                f'{image.width} × {image.height} · {html.escape(image.visibility)}</div>'
                f'<div class="wb-detail-caption">{html.escape(image.caption)}</div></div>',
                stylesheets=[PANEL_CSS], sizing_mode="stretch_width", margin=0))
            if image.owner == me.id:
                tags = pn.widgets.TextInput(label="Tags (comma separated, Enter saves)", value=", ".join(image.tags),
                                            sizing_mode="stretch_width", margin=(4, 0), css_classes=["wb-tags"])
                save_tags = functools.partial(self._save_tags_from, image.id, tags)
                tags.param.watch(save_tags, "enter_pressed")
                save = pn.widgets.Button(label="Save tags", color="default", margin=(4, 8, 4, 0))
                save.on_click(save_tags)
                parts.append(tags)
            else:
                save = None
                parts.append(pn.pane.HTML(f'<p class="wb-hint">Tags: {html.escape(", ".join(image.tags)) or "none"}'
                                          '</p>', stylesheets=[PANEL_CSS], margin=0))
            similar = pn.widgets.Button(label="Find similar", color="default", margin=(4, 0))
            similar.on_click(functools.partial(self._similar_clicked, image.id))
            # One row: the board picker below stays in view after a long caption (1440x900).
            parts.append(pn.Row(*([save] if save is not None else []), similar, margin=0))
        else:
            parts.append(pn.pane.HTML(f'<p class="wb-detail-name">{len(ids)} stills selected</p>',
                                      stylesheets=[PANEL_CSS], margin=0))
        parts += self._board_picker(ids, boards)
        return parts

    def _board_picker(self, ids: list[str], options: dict[str, str]) -> list[Any]:
        if not self.session.has("boards"):
            return []
        # The boards edited last come first (and the newest is chosen), a new board last.
        # (A sentinel, not "": Panel's Select did not send a change to the empty value from the browser.)
        target = pn.widgets.Select(label="Add to board", options={**options, "New board…": NEW_BOARD},
                                   sizing_mode="stretch_width", margin=(10, 0, 4, 0), css_classes=["wb-board-target"])
        name = pn.widgets.TextInput(label="Name, for a new board", value=self._suggested_title(ids),
                                    sizing_mode="stretch_width", margin=(0, 0, 4, 0), css_classes=["wb-new-board-name"])
        add = pn.widgets.Button(label=f"Add {len(ids)} to board", color="primary", margin=(4, 0),
                               css_classes=["wb-add-to-board"])
        add.on_click(lambda e: launch(self._add_to_board(target.value, list(ids), name.value_input or name.value)))
        return [target, name, add]

    def _suggested_title(self, ids: list[str]) -> str:
        """A name for a new board from what is selected: the tag most of them share, else the first file's name."""
        images = [i for i in self.session.wb.library.get_many(ids).values() if i.owner == self.session.me.id]
        tags = Counter(tag for image in images for tag in image.tags)
        if tags:
            tag, count = tags.most_common(1)[0]
            if count * 2 >= len(ids):
                return tag[:1].upper() + tag[1:]
        if images:
            stem = images[0].filename.rsplit(".", 1)[0].replace("_", " ").replace("-", " ").strip()
            return (stem[:1].upper() + stem[1:])[:80] or "New board"
        return "New board"

    async def _save_tags_from(self, image_id: str, field: pn.widgets.TextInput, event: Any = None) -> None:
        await self._save_tags(image_id, field.value_input or field.value or "")

    async def _similar_clicked(self, image_id: str, event: Any = None) -> None:
        await self._similar(image_id)

    @friendly
    async def _save_tags(self, image_id: str, text: str) -> None:
        tags = [t.strip() for t in (text or "").split(",") if t.strip()]
        image = await self.session.run(self.session.wb.library.set_tags, self.session.me, image_id, tags)
        self.session.info(f"Tags saved: {', '.join(image.tags) or 'none'}")
        await self._reload(keep=True)

    def _put_on_board(self, board_id: str, ids: list[str], title: str = "") -> tuple[str, str]:
        wb, me = self.session.wb, self.session.me
        if not board_id or board_id == NEW_BOARD:
            board_id = wb.boards.create(me, title.strip() or "Untitled board").id
        for image_id in ids:
            wb.boards.add_image(me, board_id, image_id)
        return board_id, wb.boards.get(me, board_id).board.title

    @friendly
    async def _add_to_board(self, board_id: str, ids: list[str], title: str = "") -> None:
        board_id, title = await self.session.run(self._put_on_board, board_id, ids, title)
        self.session.info(f'Added {len(ids)} to <a href="/board?id={html.escape(board_id, quote=True)}">'
                          f'{html.escape(title)}</a>', escaped=True)

    def __panel__(self) -> pn.viewable.Viewable:
        self.bar.beside_search = [self.scope]
        search = pn.Column(self.bar, sizing_mode="stretch_width", margin=(0, 0, 4, 0))
        main = pn.Column(search, pn.Row(self.summary, self.clear, margin=0, sizing_mode="stretch_width"),
                         self.grid, sizing_mode="stretch_width", margin=(16, 24))
        side = pn.Column(
            section("Upload"), self.uploads,
            section("Search by picture"), self.picture_drop,
            section("Selection"), self.detail,
            width=320, margin=(16, 24, 16, 0), styles={"border-left": "1px solid #eee", "padding-left": "20px"},
        )
        self.detail.objects = self._detail([], None, {})
        return pn.Row(main, side, sizing_mode="stretch_width", margin=0)
