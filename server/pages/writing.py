"""The Writing page: idea cards, outlines, and the screenplay desk."""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import quote

import panel as pn
import param

from server.pages.common import PANEL_CSS, board_options, empty_state, picker_options, section, set_options
from server.pages.screenplay import ScreenplayDesk
from server.session import Session, friendly, launch
from workbench.writing.documents import Document

__all__ = ["WritingPage", "IdeaStudio", "OutlineStudio"]

GENRES = ["", "drama", "thriller", "comedy", "horror", "science fiction", "romance", "crime", "fantasy",
          "documentary", "western", "mystery", "animation"]
TONES = ["", "bleak", "hopeful", "wry", "tense", "whimsical", "melancholic", "epic", "intimate", "absurd"]


def _credits(n: int) -> str:
    return f"{n} credit{'s' if n != 1 else ''}"


def _loglines_html(doc: Document | None) -> str:
    """An idea's latest loglines, escaped, or nothing."""
    if doc is None:
        return ""
    lines = doc.meta.get("loglines") or [part for part in doc.body.split("\n\n") if part.strip()]
    items = "".join(f"<li>{html.escape(str(line))}</li>" for line in lines)
    return f'<div class="wb-loglines"><span class="wb-label">Loglines</span><ol>{items}</ol></div>'


def _idea_html(doc: Document, loglines: Document | None = None) -> str:
    meta = doc.meta
    facts = "".join(
        f'<p><span class="wb-label">{label}</span><br>{html.escape(str(meta.get(key, "")))}</p>'
        for label, key in (("Protagonist", "protagonist"), ("Wants", "want"), ("Needs", "need"),
                           ("Conflict", "conflict"), ("Setting", "setting"), ("Twist", "twist"))
        if meta.get(key)
    )
    # Three columns, not six stacked rows: three ideas fit on a screen instead of one and a half.
    rows = f'<div class="wb-idea-facts">{facts}</div>' if facts else ""
    offline = '<span class="wb-badge offline" title="Drafted by the offline writer">offline</span>' if doc.offline else ""
    logline = html.escape(str(meta.get("logline") or doc.body.split("\n")[0]))
    return (f'<div class="wb-card wb-idea" data-doc="{html.escape(doc.id, quote=True)}">'
            f'<h3>{html.escape(doc.title)}{offline}</h3><p><em>{logline}</em></p>{rows}{_loglines_html(loglines)}</div>')


IDEA_CSS = """
.wb-idea-facts { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 2px 24px; }
.wb-idea-facts p { margin: 4px 0; }
.wb-card.wb-idea { border: 0; padding-bottom: 4px; }
.wb-loglines { margin-top: 10px; padding-top: 8px; border-top: 1px dashed #ddd; }
.wb-loglines ol { margin: 4px 0 0; padding-left: 20px; font-size: 13px; line-height: 1.45; }
.wb-loglines li { margin: 3px 0; }
.wb-treatment h3 { margin: 0 0 8px; }
.wb-treatment .wb-scene { margin: 0 0 12px; }
.wb-treatment .wb-scene b { font-family: "Courier Prime", "Courier New", monospace; font-size: 13px; }
.wb-treatment .wb-scene p { margin: 2px 0 0; font-size: 13px; line-height: 1.45; }
"""


def _by_source(docs: list[Document]) -> dict[str, Document]:
    """The newest document made from each source (``docs`` come newest first)."""
    found: dict[str, Document] = {}
    for doc in docs:
        source = str(doc.meta.get("source") or "")
        if source and source not in found:
            found[source] = doc
    return found


def _treatment_html(doc: Document) -> str:
    scenes = [s for s in doc.meta.get("scenes") or [] if isinstance(s, dict)]
    body = "".join(f'<div class="wb-scene"><b>{html.escape(str(s.get("number", "")))}. '
                   f'{html.escape(str(s.get("heading", "")))}</b><p>{html.escape(str(s.get("summary", "")))}</p></div>'
                   for s in scenes) or f"<pre>{html.escape(doc.body)}</pre>"
    offline = '<span class="wb-badge offline">offline</span>' if doc.offline else ""
    return f'<div class="wb-treatment"><h3>Treatment: {html.escape(doc.title)}{offline}</h3>{body}</div>'


class IdeaStudio(pn.viewable.Viewer):
    """Premise, genre and tone in; idea cards out, each one kept, outlined, sent to a board or discarded."""

    ideas = param.List(default=[], doc="The idea documents shown, newest first.")
    loglines = param.Dict(default={}, doc="The newest loglines document of each idea, by the idea's id.")

    def __init__(self, session: Session, desk: Any, **params: Any) -> None:
        super().__init__(**params)
        self.session = session
        self.desk = desk
        price = session.wb.accounts.price("idea")
        self.premise = pn.widgets.TextAreaInput(label="Premise", placeholder="A lighthouse keeper hears tomorrow's news…",
                                                rows=3, sizing_mode="stretch_width", css_classes=["wb-premise"])
        self.genre = pn.widgets.Select(label="Genre", options=GENRES, width=180)
        self.tone = pn.widgets.Select(label="Tone", options=TONES, width=180)
        self.keywords = pn.widgets.TextInput(label="Keywords (comma separated)", width=260)
        self.count = pn.widgets.IntInput(label="How many", value=3, start=1, end=6, width=100)
        self.go = pn.widgets.Button(label=f"Generate ideas · {price} credit{'s' if price != 1 else ''}",
                                    color="primary", width=210, css_classes=["wb-generate"])
        self.go.on_click(self._generate)
        self.logline_price = session.wb.accounts.price("logline")
        self.cards = pn.Column(sizing_mode="stretch_width", margin=0)
        self.param.watch(lambda e: self._draw(), ["ideas", "loglines"])
        self._load()
        self._draw()

    @friendly
    def _load(self) -> None:
        writing, me = self.session.wb.writing, self.session.me
        self.loglines = _by_source(writing.list(me, kind="logline", limit=200))
        self.ideas = writing.list(me, kind="idea", limit=30)

    @friendly
    async def _generate(self, event: Any = None) -> None:
        self.go.loading = True
        try:
            keys = [k.strip() for k in (self.keywords.value or "").split(",") if k.strip()]
            docs = await self.session.run(self.session.wb.writing.idea, self.session.me, self.premise.value or "",
                                          genre=self.genre.value or "", tone=self.tone.value or "", keywords=keys,
                                          count=int(self.count.value or 3))
        finally:
            self.go.loading = False
            self.session.refresh()
        self.ideas = [*docs, *[d for d in self.ideas if d.id not in {x.id for x in docs}]]
        self.session.info(f"{len(docs)} idea{'s' if len(docs) != 1 else ''} saved to your writing.")

    def _draw(self) -> None:
        if not self.ideas:
            self.cards.objects = [empty_state("No ideas yet", "Give a premise, a genre or a few keywords and press "
                                              "Generate. Ideas are saved as you make them.")]
            return
        options = board_options(self.session)
        self.cards.objects = [self._card(doc, options) for doc in self.ideas]

    def _card(self, doc: Document, boards: dict[str, str]) -> pn.viewable.Viewable:
        text = pn.pane.HTML(_idea_html(doc, self.loglines.get(doc.id)), stylesheets=[PANEL_CSS, IDEA_CSS],
                            sizing_mode="stretch_width", margin=0)
        target = pn.widgets.Select(options={"New board…": "", **boards}, width=200, margin=(5, 5),
                                   css_classes=["wb-idea-target"])
        send = pn.widgets.Button(label="Send to board", color="default", width=130, css_classes=["wb-send"])
        # Each returns a coroutine (a service call in a thread); launch runs it on this session's loop.
        send.on_click(lambda e: launch(self._send(doc, target.value)))
        loglines = pn.widgets.Button(label=f"Loglines · {_credits(self.logline_price)}", color="default", width=150,
                                     css_classes=["wb-loglines-button"])
        loglines.on_click(lambda e: launch(self._loglines(doc, loglines)))
        outline = pn.widgets.Button(label="Outline it", color="default", width=100)
        outline.on_click(lambda e: launch(self.desk.outline_from(doc.id)))
        drop = pn.widgets.Button(label="Discard", color="danger", width=90)
        drop.on_click(lambda e: launch(self._discard(doc)))
        # The buttons sit inside the card's frame: they act on this idea, not on the one below.
        return pn.Column(text, pn.Row(target, send, loglines, outline, drop, margin=(0, 8, 8, 8)),
                         sizing_mode="stretch_width", margin=(0, 0, 14, 0),
                         styles={"border": "1px solid #e4e4e4", "border-radius": "3px", "background": "#fff"})

    def _pin(self, doc: Document, board_id: str) -> tuple[str, str]:
        wb, me = self.session.wb, self.session.me
        if not board_id:
            board_id = wb.boards.create(me, doc.title).id
        wb.boards.add_note(me, board_id, f"{doc.title}\n\n{doc.body}", caption="Idea")
        return board_id, wb.boards.get(me, board_id).board.title

    @friendly
    async def _send(self, doc: Document, board_id: str) -> None:
        board_id, title = await self.session.run(self._pin, doc, board_id)
        self.session.info(f'Pinned to <a href="/board?id={quote(board_id)}">{html.escape(title)}</a>', escaped=True)

    @friendly
    async def _loglines(self, doc: Document, button: pn.widgets.Button) -> None:
        button.loading = True
        try:
            made = await self.session.run(self.session.wb.writing.logline, self.session.me, doc.id)
        finally:
            button.loading = False
            self.session.refresh()
        self.loglines = {**self.loglines, doc.id: made}
        self.session.info(f"Loglines for “{doc.title}” saved to your writing.")

    @friendly
    async def _discard(self, doc: Document) -> None:
        await self.session.run(self.session.wb.writing.delete, self.session.me, doc.id)
        self.ideas = [d for d in self.ideas if d.id != doc.id]

    def __panel__(self) -> pn.viewable.Viewable:
        form = pn.Column(self.premise, pn.Row(self.genre, self.tone, self.keywords, self.count, margin=0), self.go,
                         sizing_mode="stretch_width", margin=0)
        return pn.Column(form, section("Your ideas"), self.cards, sizing_mode="stretch_width", margin=(8, 0))


class OutlineStudio(pn.viewable.Viewer):
    """A beat-sheet outline from an idea or a premise, and a first draft from the outline."""

    outline_id = param.String(default="", doc="The outline on screen.")

    def __init__(self, session: Session, open_script: Any, **params: Any) -> None:
        super().__init__(**params)
        self.session = session
        self.open_script = open_script
        prices = session.wb.accounts.price
        self.source = pn.widgets.Select(label="From idea", sizing_mode="stretch_width")
        self.premise = pn.widgets.TextInput(label="…or from a premise", sizing_mode="stretch_width")
        self.structure = pn.widgets.RadioButtonGroup(options={"Three acts": "three-act", "Save the Cat": "save-the-cat"},
                                                     value="three-act", color="default")
        self.make = pn.widgets.Button(label=f"Make outline · {prices('outline')} credits", color="primary", width=200)
        self.make.on_click(self._make)
        self.outlines = pn.widgets.Select(label="Outlines", sizing_mode="stretch_width")
        self.outlines.param.watch(self._outline_picked, "value")
        self.draft = pn.widgets.Button(label=f"Draft screenplay pages · {prices('screenplay')} credits",
                                       color="default", width=260)
        self.draft.on_click(self._draft)
        self.beats = pn.pane.HTML("", stylesheets=[PANEL_CSS], sizing_mode="stretch_width")
        self.treat = pn.widgets.Button(label=f"Write treatment · {prices('treatment')} credits", color="default",
                                       width=220, css_classes=["wb-treat"])
        self.treat.on_click(self._treat)
        self.from_treatment = pn.widgets.Button(
            label=f"Draft pages from the treatment · {prices('screenplay')} credits", color="default", width=300,
            visible=False, css_classes=["wb-from-treatment"])
        self.from_treatment.on_click(self._draft_from_treatment)
        self.treatment = pn.pane.HTML("", stylesheets=[PANEL_CSS, IDEA_CSS], sizing_mode="stretch_width")
        self._treatments: dict[str, Document] = {}  # the newest treatment of each outline
        self._shown: Document | None = None
        self._apply(*self._listing())
        self._draw_beats()

    def _listing(self) -> tuple[list[Document], list[Document], Document | None, list[Document]]:
        """(ideas, outlines, the outline to show, treatments): the reads behind the tab, in one go."""
        writing, me = self.session.wb.writing, self.session.me
        ideas = writing.list(me, kind="idea", limit=50)
        outlines = writing.list(me, kind="outline", limit=50)
        wanted = self.outline_id or (outlines[0].id if outlines else "")
        treatments = writing.list(me, kind="treatment", limit=200)
        return ideas, outlines, writing.get(me, wanted) if wanted else None, treatments

    def _apply(self, ideas: list[Document], outlines: list[Document], shown: Document | None,
               treatments: list[Document]) -> None:
        self._treatments = _by_source(treatments)
        # Keyed by id with unique labels: two ideas or outlines may share a title.
        set_options(self.source, {"—": "", **picker_options((d.title, d.id, d.created_at) for d in ideas)})
        self.outlines.options = picker_options((d.title, d.id, d.created_at) for d in outlines)
        self._shown = shown
        if shown is not None:
            self.outline_id = shown.id
            self.outlines.value = shown.id

    @friendly
    async def refresh(self, select: str = "") -> None:
        """Re-read ideas and outlines (after new ones were made)."""
        if select:
            self.outline_id = select
        self._apply(*await self.session.run(self._listing))
        self._draw_beats()

    async def choose_idea(self, idea_id: str) -> None:
        """Preselect an idea as the outline's source."""
        await self.refresh()
        self.source.value = idea_id

    @friendly
    async def _outline_picked(self, event: Any) -> None:
        if not event.new or event.new == self.outline_id:
            return
        self.outline_id = event.new
        self._shown = await self.session.run(self.session.wb.writing.get, self.session.me, event.new)
        self._draw_beats()

    @friendly
    async def _make(self, event: Any = None) -> None:
        source = self.source.value or (self.premise.value or "").strip()
        self.make.loading = True
        try:
            doc = await self.session.run(self.session.wb.writing.outline, self.session.me, source,
                                         structure=self.structure.value)
        finally:
            self.make.loading = False
            self.session.refresh()
        await self.refresh(select=doc.id)

    def _draw_beats(self) -> None:
        doc = self._shown
        treatment = self._treatments.get(doc.id) if doc is not None else None
        self.treatment.object = (_treatment_html(treatment) if treatment is not None else
                                 '<span class="wb-hint">No treatment of this outline yet: it tells the story scene by '
                                 'scene, each with its heading, and the pages drafted from it keep those scenes.</span>'
                                 if doc is not None else "")
        self.from_treatment.visible = treatment is not None
        self.treat.disabled = doc is None
        if doc is None:
            self.beats.object = ('<div class="wb-empty"><strong>No outline yet</strong>Pick an idea (or write a premise) '
                                 'and make a beat sheet.</div>')
            return
        beats = doc.meta.get("beats") or []
        rows = "".join(
            f'<tr><td>{html.escape(str(b.get("name", "")))}</td><td>{html.escape(str(b.get("act", "")))}</td>'
            f'<td>{html.escape(str(b.get("page", "")))}</td><td>{html.escape(str(b.get("summary", "")))}</td></tr>'
            for b in beats if isinstance(b, dict))
        body = (f'<table class="wb-table"><tr><th>Beat</th><th>Act</th><th>Page</th><th>What happens</th></tr>{rows}</table>'
                if rows else f'<pre>{html.escape(doc.body)}</pre>')
        offline = '<span class="wb-badge offline">offline</span>' if doc.offline else ""
        self.beats.object = f'<h3>{html.escape(doc.title)}{offline}</h3>{body}'

    @friendly
    async def _draft(self, event: Any = None) -> None:
        if not self.outline_id:
            self.session.error("Make or pick an outline first.")
            return
        self.draft.loading = True
        try:
            doc = await self.session.run(self.session.wb.writing.screenplay, self.session.me, self.outline_id)
        finally:
            self.draft.loading = False
            self.session.refresh()
        await self.open_script(doc.id)

    @friendly
    async def _treat(self, event: Any = None) -> None:
        if not self.outline_id:
            self.session.error("Make or pick an outline first.")
            return
        self.treat.loading = True
        try:
            doc = await self.session.run(self.session.wb.writing.treatment, self.session.me, self.outline_id)
        finally:
            self.treat.loading = False
            self.session.refresh()
        self._treatments = {**self._treatments, self.outline_id: doc}
        self._draw_beats()
        self.session.info(f"Treatment saved: {len(doc.meta.get('scenes') or [])} scenes.")

    @friendly
    async def _draft_from_treatment(self, event: Any = None) -> None:
        treatment = self._treatments.get(self.outline_id)
        if treatment is None:
            self.session.error("Write a treatment of this outline first.")
            return
        self.from_treatment.loading = True
        try:
            doc = await self.session.run(self.session.wb.writing.screenplay, self.session.me, treatment.id)
        finally:
            self.from_treatment.loading = False
            self.session.refresh()
        await self.open_script(doc.id)

    def __panel__(self) -> pn.viewable.Viewable:
        form = pn.Column(pn.Row(self.source, self.premise, margin=0, sizing_mode="stretch_width"),
                         pn.Row(self.structure, self.make, margin=0), sizing_mode="stretch_width", margin=0)
        return pn.Column(form, section("Outline"), pn.Row(self.outlines, self.draft, self.treat, margin=0,
                                                          sizing_mode="stretch_width", align="end"),
                         self.beats, section("Treatment"), self.treatment, self.from_treatment,
                         sizing_mode="stretch_width", margin=(8, 0))


class WritingPage(pn.viewable.Viewer):
    """Ideas, outlines and screenplays in three tabs."""

    def __init__(self, session: Session, **params: Any) -> None:
        super().__init__(**params)
        self.session = session
        self.desk = ScreenplayDesk(session)
        self.outline = OutlineStudio(session, open_script=self._open_script)
        self.ideas = IdeaStudio(session, desk=self)
        self.tabs = pn.Tabs(("Ideas", self.ideas), ("Outline", self.outline), ("Screenplay", self.desk),
                            sizing_mode="stretch_width", margin=(8, 24), dynamic=False)

    async def outline_from(self, idea_id: str) -> None:
        """Switch to the Outline tab with this idea chosen."""
        self.tabs.active = 1
        await self.outline.choose_idea(idea_id)

    async def _open_script(self, document_id: str) -> None:
        self.tabs.active = 2
        await self.desk.open(document_id)

    def __panel__(self) -> pn.viewable.Viewable:
        return self.tabs
