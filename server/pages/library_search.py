"""The library's search bar: words, example stills, a words ↔ picture weight, a threshold, sort, board, saved searches.

Every rule (what a score means, who sees which board or saved search) is the service's
(``wb.search.run`` / ``save`` / ``saved``); this bar only builds a :class:`SearchQuery`
from its widgets and hands it to the page.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Awaitable, Callable
from typing import Any

import panel as pn
import param

from server.pages.common import PANEL_CSS, picker_options, set_options
from server.session import Session, friendly
from workbench.search_query import SearchQuery

__all__ = ["SearchBar", "SORT_OPTIONS", "EVERYWHERE", "NO_SAVED"]

SORT_OPTIONS = {"Relevance": "relevance", "Newest": "newest", "Oldest": "oldest"}
# Sentinels, not "": Panel's Select did not send a change to the empty value from the browser.
EVERYWHERE = "everywhere"
NO_SAVED = "none"

_CSS = """
.wb-chips { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; min-height: 30px; }
.wb-chip-label { font-size: 12px; color: #555; margin-right: 2px; }
.wb-threshold-count { font-size: 12px; color: #444; margin: 0; }
"""


class SearchBar(pn.viewable.Viewer):
    """The steering controls above the library grid; ``on_search`` receives the query to run."""

    examples = param.List(default=[], doc="Ids of the library stills the results should look like.")
    example_names = param.Dict(default={}, doc="Example id -> the name its chip shows.")
    selection = param.List(default=[], doc="The stills selected in the grid (what 'Add example' adds).")
    count_text = param.String(default="", doc="How many results the last search found above the threshold.")

    def __init__(self, session: Session, **params: Any) -> None:
        super().__init__(**params)
        self.session = session
        self._on_search: Callable[[], Awaitable[Any]] | None = None
        self._opening = False  # a saved search is filling the widgets: one search at the end, not one each
        self.words = pn.widgets.TextInput(placeholder="Search by words, e.g. “a cat by the window” — Enter",
                                          sizing_mode="stretch_width", margin=(0, 8, 0, 0),
                                          css_classes=["wb-search-words"])
        self.words.param.watch(self._search, "enter_pressed")
        self.go = pn.widgets.Button(label="Search", color="primary", width=90, css_classes=["wb-search-go"])
        self.go.on_click(self._search)
        self.add_example = pn.widgets.Button(label="+ Add selected as example", color="default", disabled=True,
                                             css_classes=["wb-add-example"], margin=(0, 6, 0, 0))
        self.add_example.on_click(self._add_selected)
        self.chips = pn.Row(sizing_mode="stretch_width", margin=0, css_classes=["wb-chips"])
        self.weight = pn.widgets.FloatSlider(label="Words ↔ picture", start=0.0, end=1.0, step=0.05, value=0.5,
                                             width=190, css_classes=["wb-weight"], visible=False,
                                             format="0.00", margin=(0, 12, 0, 0), tooltips=False)
        self.threshold = pn.widgets.FloatSlider(label="Relevance threshold", start=0.0, end=0.95, step=0.05,
                                                value=0.0, width=190, css_classes=["wb-threshold"],
                                                format="0.00", margin=(0, 12, 0, 0), tooltips=False)
        self.count = pn.pane.HTML(pn.bind(self._count_html, self.param.count_text), stylesheets=[PANEL_CSS, _CSS],
                                  margin=(22, 12, 0, 0), css_classes=["wb-threshold-count-pane"])
        self.sort = pn.widgets.Select(label="Sort", options=SORT_OPTIONS, value="relevance", width=120,
                                      css_classes=["wb-sort"], margin=(0, 12, 0, 0))
        self.board = pn.widgets.Select(label="Search in board…", options={"All stills": EVERYWHERE},
                                       value=EVERYWHERE, width=190, css_classes=["wb-search-board"],
                                       margin=(0, 12, 0, 0))
        for widget, name in ((self.weight, "value_throttled"), (self.threshold, "value_throttled"),
                             (self.sort, "value"), (self.board, "value")):
            widget.param.watch(self._refine, name)
        self.save_name = pn.widgets.TextInput(placeholder="Name this search", width=170,
                                              css_classes=["wb-save-name"], margin=(0, 6, 0, 0))
        self.save_name.param.watch(self._save, "enter_pressed")
        self.save = pn.widgets.Button(label="Save search", color="default", css_classes=["wb-save-search"],
                                      margin=(0, 12, 0, 0))
        self.save.on_click(self._save)
        self.saved = pn.widgets.Select(options={"Saved searches…": NO_SAVED}, value=NO_SAVED, width=190,
                                       css_classes=["wb-saved-searches"], margin=(0, 6, 0, 0))
        self.saved.param.watch(self._open_saved, "value")
        self.forget = pn.widgets.Button(label="Delete", color="default", css_classes=["wb-delete-saved"],
                                        disabled=True)
        self.forget.on_click(self._delete_saved)
        self.beside_search: list[Any] = []  # what the page puts on the first row after the Search button
        self.param.watch(self._draw_chips, ["examples", "example_names"])
        self.param.watch(self._selection_changed, "selection")

    # -- wiring ----------------------------------------------------------------------------
    def on_search(self, callback: Callable[[], Awaitable[Any]]) -> None:
        """Await ``callback()`` whenever the person searches or refines (it reads :meth:`query`)."""
        self._on_search = callback

    def load_choices(self) -> None:
        """Fill the board picker and the saved-searches menu (service reads; call off the event loop)."""
        wb, me = self.session.wb, self.session.me
        boards = picker_options((b.title, b.id, b.created_at) for b in wb.boards.list(me)) \
            if self.session.has("boards") else {}
        saved = {s.name: s.id for s in wb.search.saved(me)}
        set_options(self.board, {"All stills": EVERYWHERE, **boards})
        set_options(self.saved, {"Saved searches…": NO_SAVED, **saved})

    def query(self, *, scope: str, page_size: int) -> SearchQuery:
        """The search the widgets describe now (the words as typed, even before Enter)."""
        words = (self.words.value_input if self.words.value_input is not None else self.words.value) or ""
        board = self.board.value if self.board.value not in (None, EVERYWHERE) else None
        return SearchQuery(text=words.strip(), examples=tuple(self.examples), text_weight=float(self.weight.value or 0.0),
                           scope=scope, board_id=board, min_score=float(self.threshold.value or 0.0),
                           sort=self.sort.value or "relevance", page_size=page_size)

    @property
    def is_empty(self) -> bool:
        """No words and no examples: nothing to search for."""
        words = (self.words.value_input or self.words.value or "").strip()
        return not words and not self.examples

    def clear(self) -> None:
        """Back to an empty search (the page shows the library again)."""
        self.words.param.update(value="", value_input="")
        self.examples, self.example_names, self.count_text = [], {}, ""

    # -- reacting ----------------------------------------------------------------------------
    @staticmethod
    def _count_html(text: str) -> str:
        return f'<p class="wb-threshold-count">{html.escape(text)}</p>' if text else ""

    def _selection_changed(self, event: Any = None) -> None:
        fresh = [i for i in self.selection if i not in self.examples]
        self.add_example.disabled = not fresh
        self.add_example.label = f"+ Add {len(fresh)} selected as example{'s' if len(fresh) != 1 else ''}" \
            if fresh else "+ Add selected as example"

    def _draw_chips(self, event: Any = None) -> None:
        chips: list[Any] = []
        if self.examples:
            chips.append(pn.pane.HTML('<span class="wb-chip-label">Looks like:</span>',
                                      stylesheets=[PANEL_CSS, _CSS], margin=(8, 4, 0, 8)))
        for image_id in self.examples:
            name = self.example_names.get(image_id, image_id)
            chip = pn.widgets.Button(label=f"{name[:28]} ✕", color="light", css_classes=["wb-example-chip"],
                                     margin=(0, 4, 0, 0), description=f"Remove {name} from the examples")
            chip.on_click(functools.partial(self._chip_clicked, image_id))
            chips.append(chip)
        self.chips.objects = chips
        self.weight.visible = bool(self.examples)
        self._selection_changed()

    @friendly
    async def _add_selected(self, event: Any = None) -> None:
        fresh = [i for i in self.selection if i not in self.examples]
        if not fresh:
            return
        images = await self.session.run(self.session.wb.library.get_many, fresh)
        names = {i: images[i].filename for i in fresh if i in images}
        self.example_names = {**self.example_names, **names}
        self.examples = [*self.examples, *[i for i in fresh if i in names]]
        await self._search()

    async def _chip_clicked(self, image_id: str, event: Any = None) -> None:
        await self._remove_example(image_id)

    @friendly
    async def _remove_example(self, image_id: str) -> None:
        self.examples = [i for i in self.examples if i != image_id]
        await self._search()

    @friendly
    async def _search(self, event: Any = None) -> None:
        if self._on_search is not None:
            await self._on_search()  # the page builds the query: it knows the scope and the page size

    async def _refine(self, event: Any = None) -> None:
        if not self.is_empty and not self._opening:
            await self._search()

    # -- saved searches --------------------------------------------------------------------------
    @friendly
    async def _save(self, event: Any = None) -> None:
        name = (self.save_name.value_input or self.save_name.value or "").strip()
        query = self.query(scope="all", page_size=24)
        saved = await self.session.run(self.session.wb.search.save, self.session.me, name, query)
        await self.session.run(self.load_choices)
        self.saved.value = saved.id
        self.forget.disabled = False
        self.session.info(f"Saved “{saved.name}”: it is in the saved-searches menu.")

    @friendly
    async def _open_saved(self, event: Any = None) -> None:
        self.forget.disabled = self.saved.value in (None, NO_SAVED)
        if self.saved.value in (None, NO_SAVED):
            return
        wb, me = self.session.wb, self.session.me
        saved = await self.session.run(wb.search.get_saved, me, self.saved.value)
        images = await self.session.run(wb.library.get_many, list(saved.query.examples))
        q = saved.query
        self._opening = True
        try:
            # One update per widget, then one search (not one per widget change).
            self.words.param.update(value=q.text, value_input=q.text)
            self.example_names = {i: images[i].filename for i in q.examples if i in images}
            self.examples = [i for i in q.examples if i in images]
            self.weight.param.update(value=q.text_weight)
            self.threshold.param.update(value=min(q.min_score, self.threshold.end))
            self.sort.param.update(value=q.sort)
            self.board.param.update(value=q.board_id if q.board_id in self.board.options.values() else EVERYWHERE)
            self.save_name.param.update(value=saved.name, value_input=saved.name)
        finally:
            self._opening = False
        await self._search()

    @friendly
    async def _delete_saved(self, event: Any = None) -> None:
        saved_id = self.saved.value
        if saved_id in (None, NO_SAVED):
            return
        await self.session.run(self.session.wb.search.delete_saved, self.session.me, saved_id)
        await self.session.run(self.load_choices)
        self.saved.value = NO_SAVED
        self.session.info("Saved search deleted.")

    def __panel__(self) -> pn.viewable.Viewable:
        first = pn.Row(self.words, self.go, *self.beside_search, sizing_mode="stretch_width", margin=0)
        examples = pn.Row(self.add_example, self.chips, sizing_mode="stretch_width", margin=(6, 0, 0, 0),
                          align="center")
        # Wrapping rows: the controls flow onto a second line on a narrow window instead of
        # pushing the side panel off the screen.
        steer = pn.FlexBox(self.weight, self.threshold, self.count, self.sort, self.board, flex_wrap="wrap",
                           align_items="flex-end", sizing_mode="stretch_width", margin=(4, 0, 0, 0),
                           css_classes=["wb-steer"])
        keep = pn.FlexBox(self.save_name, self.save, self.saved, self.forget, flex_wrap="wrap", align_items="center",
                          sizing_mode="stretch_width", margin=(2, 0, 0, 0), css_classes=["wb-keep"])
        return pn.Column(first, examples, steer, keep, sizing_mode="stretch_width", margin=0)
