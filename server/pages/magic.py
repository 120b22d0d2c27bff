"""The Magic Board page: a pitch becomes a storyboard, with the cost shown before it runs."""

from __future__ import annotations

import asyncio
import html
import threading
from typing import Any
from urllib.parse import quote

import panel as pn
import param

from server.components.browser import Browser
from server.pages.common import PANEL_CSS, section
from server.session import Session, friendly
from workbench.errors import WorkbenchError

__all__ = ["MagicPage"]

EXAMPLE = ("A night ferry crosses a black harbour. A girl finds a camera under her seat. "
           "The photos on it were taken tomorrow. She searches the deck for the man in the last picture. "
           "Dawn breaks over the pier as he steps off.")


class MagicPage(pn.viewable.Viewer):
    """Pitch box, price, progress; opens the new board when it is done."""

    running = param.Boolean(default=False, doc="True while the board is being made.")

    def __init__(self, session: Session, **params: Any) -> None:
        super().__init__(**params)
        self.session = session
        self.browser = Browser()
        self.pitch = pn.widgets.TextAreaInput(label="Pitch", placeholder=EXAMPLE, rows=7, sizing_mode="stretch_width",
                                              max_length=4000, css_classes=["wb-pitch"])
        self.title = pn.widgets.TextInput(label="Board title (optional)", sizing_mode="stretch_width")
        # (Margins of 10 px at the sides, like the widgets', so the text lines up with the pitch box.)
        self.cost = pn.pane.HTML("", stylesheets=[PANEL_CSS], sizing_mode="stretch_width", margin=(6, 10))
        self.go = pn.widgets.Button(label="Make the board", color="primary", width=180, disabled=True)
        self.go.on_click(self._make)
        self.stop = pn.widgets.Button(label="Stop", color="danger", width=90, visible=False)
        self.stop.on_click(lambda e: self._cancel.set())
        self.bar = pn.indicators.Progress(value=0, max=1, visible=False, sizing_mode="stretch_width", height=8,
                                          bar_color="dark")
        self.message = pn.pane.HTML("", stylesheets=[PANEL_CSS], sizing_mode="stretch_width", margin=(4, 10))
        self._cancel = threading.Event()
        self.pitch.param.watch(lambda e: self._estimate(e.new), "value_input")
        self._estimate("")

    def _estimate(self, text: str) -> None:
        if not (text or "").strip():
            self.cost.object = ('<p class="wb-hint">Write a few sentences, one per scene beat. Each beat becomes a '
                                'frame with a caption card; the price appears here before anything runs.</p>')
            self.go.disabled = True
            return
        try:
            estimate = self.session.wb.magic.estimate(self.session.me, text)
        except WorkbenchError as error:
            self.cost.object = f'<p class="wb-hint" style="color:var(--wb-danger)">{html.escape(str(error))}</p>'
            self.go.disabled = True
            return
        short = "" if estimate.affordable else " — <strong>not enough credits</strong>"
        self.cost.object = (
            f'<p class="wb-cost" data-credits="{estimate.credits}"><strong>{estimate.frames} frame'
            f'{"s" if estimate.frames != 1 else ""}</strong> · costs <strong>{estimate.credits} credits</strong>'
            f' · you have {estimate.balance}{short}</p>')
        self.go.disabled = self.running or not estimate.affordable

    @friendly
    async def _make(self, event: Any = None) -> None:
        pitch = self.pitch.value_input or self.pitch.value or ""
        latest: dict[str, Any] = {}

        def progress(done: int, total: int, message: str) -> None:
            latest.update(done=done, total=total, message=message)  # from the worker thread; read below

        self._cancel = threading.Event()
        self.running = True
        self.go.disabled, self.stop.visible, self.bar.visible = True, True, True
        self.bar.value, self.message.object = 0, '<p class="wb-hint">Planning the beats…</p>'
        job = asyncio.ensure_future(self.session.run(
            self.session.wb.magic.create, self.session.me, pitch, title=(self.title.value or None),
            progress=progress, cancel=self._cancel))
        try:
            while not job.done():
                await asyncio.wait([job], timeout=0.25)
                if latest:
                    self.bar.max, self.bar.value = max(1, latest["total"]), latest["done"]
                    self.message.object = f'<p class="wb-hint">{html.escape(latest["message"])}</p>'
            result = job.result()
        finally:
            self.running = False
            self.stop.visible = False
            self.session.refresh()
            self._estimate(self.pitch.value_input or "")
        note = " (stopped early; unused credits were refunded)" if result.stopped_early else ""
        matches = await self.session.run(self.session.wb.magic.frame_matches, self.session.me, result.board.id)
        weak = sum(1 for m in matches.values() if m.weak)
        advice = (f" {weak} of its stills match their beat weakly (red score): select one and use "
                  "“Replace still” to pick another from your library.") if weak else ""
        self.session.info(f"“{result.board.title}” is ready: {result.frames} frames, "
                          f"{result.credits_spent} credits{note}.{advice}")
        self.message.object = '<p class="wb-hint">Opening the board…</p>'
        self.browser.navigate(f"/board?id={quote(result.board.id)}")

    def __panel__(self) -> pn.viewable.Viewable:
        intro = pn.pane.HTML('<p class="wb-hint">Magic Boards turn a pitch into a storyboard: the AI splits it into '
                             'beats, finds or makes a frame for each, and lays them out on a new board. Each frame shows how '
                             'well its still matches the beat, and any still can be replaced from your library.</p>',
                             stylesheets=[PANEL_CSS], sizing_mode="stretch_width", margin=(0, 10))
        form = pn.Column(intro, self.pitch, self.title, self.cost, pn.Row(self.go, self.stop, margin=0), self.bar,
                         self.message, self.browser, max_width=760, sizing_mode="stretch_width", margin=0)
        return pn.Column(section("Your pitch"), form, sizing_mode="stretch_width", margin=(8, 24))
