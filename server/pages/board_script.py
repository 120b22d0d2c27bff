"""The board page's "Script" panel: a storyboard's screenplay beside the board (issue #22).

Shown only on a board the service layer links to a script the viewer may read
(``wb.storyboards.board_script``: the script's writer; people the board is
shared with see the board, not the screenplay). Selecting a frame marks the
lines it shows and scrolls them into view; selecting a scene-heading card
scrolls to that scene; a card of a cut scene says so. The panel says which
version it reads, and when that is newer than the one the board was drawn from,
with "Update from script": what would change, shown first, then applied.
"""

from __future__ import annotations

import html
from typing import Any

import panel as pn
import param
from panel.custom import JSComponent

from server.design import STATIC
from server.pages.common import PANEL_CSS, section
from server.session import Session, friendly, launch
from workbench.errors import NotFound, WorkbenchError
from workbench.storyboard_script import BoardScript, ScriptPlace
from workbench.storyboard_sync import ScriptChanges

__all__ = ["ScriptPanel", "ScriptReader", "EMPTY"]

EMPTY = "Select a frame to read its scene."
READER_CSS = """
.wb-script-text { position: relative; max-height: 440px; overflow-y: auto; border: 1px solid #e4e4e4;
  background: #fff; padding: 4px 0; font-family: "Courier Prime", "Courier New", Courier, monospace;
  font-size: 12px; line-height: 1.45; color: #222; }
.wb-script-text:focus-visible { outline: 2px solid var(--wb-accent, #2f5bff); }
.wb-script-scene { padding: 2px 0 8px; border-left: 3px solid transparent; }
.wb-script-scene + .wb-script-scene { border-top: 1px solid #f0f0f0; }
.wb-script-scene.wb-script-current { border-left-color: #111; }
.wb-script-line { display: flex; gap: 6px; padding: 0 8px 0 4px; }
.wb-script-no { flex: 0 0 22px; text-align: right; color: #b0b0b0; font-size: 10px; line-height: 17px;
  user-select: none; }
.wb-script-words { flex: 1 1 auto; white-space: pre-wrap; word-break: break-word; }
.wb-script-heading .wb-script-words { font-weight: 700; }
.wb-script-line.wb-script-hl { background: #fff1a8; }
.wb-script-line.wb-script-hl .wb-script-no { color: #111; }
"""
PANEL_EXTRA = """
.wb-script-where { font-size: 13px; margin: 2px 0 6px; line-height: 1.4; word-break: break-word; }
.wb-script-where.wb-script-cut strong { color: var(--wb-danger, #b3261e); }
.wb-script-changes { font-size: 13px; margin: 4px 0; padding-left: 18px; line-height: 1.4; word-break: break-word; }
.wb-script-empty { border: 1px dashed #d5d5d5; color: #6b6b6b; padding: 8px 10px; font-size: 13px; margin: 2px 0 6px; }
"""


class ScriptReader(JSComponent):
    """The script as text, one block per scene, the focused scene and lines marked and scrolled to."""

    scenes = param.List(default=[], doc="The scenes: index, label, heading, first (line number) and lines.")
    focus = param.Dict(default={}, doc="What to show: scene (index), kind (scene or frame), first and last line.")

    _esm = STATIC / "board_script.js"
    _stylesheets = [READER_CSS]


def _lines(place: ScriptPlace) -> str:
    if place.first_line == place.last_line:
        return f"line {place.first_line}"
    return f"lines {place.first_line}–{place.last_line}"


def place_html(place: ScriptPlace | None, script: BoardScript, chosen: bool) -> str:
    """What the panel says about the selected card (escaped: headings are the writer's text)."""
    if place is None:
        why = EMPTY if not chosen else f"This card is not part of the storyboard. {EMPTY}"
        return f'<div class="wb-script-empty" role="status">{html.escape(why)}</div>'
    name = f"Scene {place.label}" + (f" · shot {place.shot}" if place.shot else "")
    heading = html.escape(place.heading)
    if place.cut:
        return (f'<p class="wb-script-where wb-script-cut" role="status"><strong>Cut</strong> · '
                f'{html.escape(name)} ({heading}) was cut from the script; its frames stay on the board.</p>')
    if not place.in_script:
        return (f'<p class="wb-script-where" role="status"><strong>{html.escape(name)}</strong> · {heading} is '
                f'no longer in version {script.version} of the script; updating the board from the script '
                'marks its frames cut.</p>')
    return (f'<p class="wb-script-where" role="status"><strong>{html.escape(name)}</strong> · '
            f'{html.escape(_lines(place))}<br>{heading}</p>')


def changes_html(found: ScriptChanges) -> str:
    """The changes "Update from script" would apply, in words (escaped: headings are the writer's text)."""
    if not found.changes:
        return (f'<p class="wb-hint">Version {found.to_version} changes no scene the board shows; '
                'updating only notes the version.</p>')
    items = "".join(f"<li>{html.escape(c.description)}</li>" for c in found.changes)
    return (f'<p class="wb-hint">From version {found.from_version} to {found.to_version}:</p>'
            f'<ul class="wb-script-changes">{items}</ul>')


def about_html(script: BoardScript) -> str:
    """Which version the panel reads, and whether the board was drawn from an older one."""
    said = f'<p class="wb-hint wb-script-version">Reading {html.escape(script.version_label)}.</p>'
    if script.behind:
        said += (f'<p class="wb-hint wb-script-behind">This board was drawn from version {script.synced_version}; '
                 'the script has changed since. Cards point at their scenes as the script reads now; '
                 'Update from script brings the board up to it.</p>')
    return said


class ScriptPanel(pn.viewable.Viewer):
    """The linked script beside a storyboard board, following the canvas selection."""

    board_id = param.String(default="", doc="The open board.")
    selection = param.List(default=[], doc="The ids of the cards selected on the canvas.")

    def __init__(self, session: Session, board_id: str, token: str | None, **params: Any) -> None:
        super().__init__(board_id=board_id, **params)
        self.session, self.token = session, token
        self.script: BoardScript | None = None
        self._shown: tuple[str, int] | None = None  # (script, version) the reader holds
        self._reads = 0
        self.about = pn.pane.HTML("", stylesheets=[PANEL_CSS], sizing_mode="stretch_width", margin=0)
        self.where = pn.pane.HTML("", stylesheets=[PANEL_CSS, PANEL_EXTRA], sizing_mode="stretch_width", margin=0,
                                  css_classes=["wb-script-status"])
        self.reader = ScriptReader(sizing_mode="stretch_width", margin=(0, 0, 8, 0), css_classes=["wb-script-reader"])
        self.update = pn.widgets.Button(label="Update from script…", color="default", visible=False,
                                        sizing_mode="stretch_width", margin=(2, 0, 6, 0),
                                        css_classes=["wb-script-update"])
        self.update.on_click(self._preview)
        self.changes = pn.pane.HTML("", stylesheets=[PANEL_CSS, PANEL_EXTRA], sizing_mode="stretch_width", margin=0)
        self.apply = pn.widgets.Button(label="Apply to the board", color="primary", width=150, margin=(2, 6, 6, 0),
                                       css_classes=["wb-script-apply"])
        self.apply.on_click(self._apply)
        self.later = pn.widgets.Button(label="Not now", color="default", width=90, margin=(2, 0, 6, 0))
        self.later.on_click(lambda e: self._close_preview())
        self.preview = pn.Column(self.changes, pn.Row(self.apply, self.later, margin=0), visible=False,
                                 sizing_mode="stretch_width", margin=0, css_classes=["wb-script-preview"])
        self.body = pn.Column(section("Script"), self.about, self.update, self.preview, self.where, self.reader,
                              visible=False,
                              sizing_mode="stretch_width", margin=0, css_classes=["wb-script-panel"])

    async def refresh(self) -> None:
        """Read the script as it is now (off the event loop) and show it, if this board has one to read."""
        self._reads += 1
        turn = self._reads
        try:
            script = await self.session.run(self.session.wb.storyboards.board_script, self.session.user,
                                            self.board_id, token=self.token)
        except NotFound:  # the board went away (or the link did): the board page says so
            script = None
        except WorkbenchError as error:  # e.g. headings the line scan cannot place: said here, not on every click
            self.script = None
            self.where.object = f'<p class="wb-hint" role="status">{html.escape(str(error))}</p>'
            self.body.visible = True
            return
        if turn != self._reads:  # a later read (a later click) has the say
            return
        self.script = script
        self.body.visible = script is not None
        if script is None:
            return
        self.about.object = about_html(script)
        self.update.visible = script.behind and not self.preview.visible
        if not script.behind:
            self._close_preview()
        if self._shown != (script.document_id, script.version):
            self._shown = (script.document_id, script.version)
            self.reader.scenes = [{"index": s.index, "label": s.label, "heading": s.heading, "first": s.first_line,
                                   "lines": list(s.lines)} for s in script.scenes]
        self._point()

    @friendly
    async def _preview(self, event: Any = None) -> None:
        """What "Update from script" would do, before it does it (a read: nothing changes yet)."""
        found: ScriptChanges = await self.session.run(self.session.wb.storyboards.script_changes, self.session.me,
                                                      self.board_id)
        self.changes.object = changes_html(found)
        self.update.visible = False
        self.preview.visible = True

    @friendly
    async def _apply(self, event: Any = None) -> None:
        self.apply.loading = True
        try:
            done = await self.session.run(self.session.wb.storyboards.update_from_script, self.session.me,
                                          self.board_id)
        finally:
            self.apply.loading = False
        self._close_preview()
        self.session.info(f"The board follows version {done.to_version} of the script now.")
        await self.refresh()

    def _close_preview(self) -> None:
        self.preview.visible = False
        self.changes.object = ""
        self.update.visible = self.script is not None and self.script.behind

    def selected(self, ids: list[str]) -> None:
        """The canvas selection changed: point at it now, then read again (the script or board may have moved on)."""
        self.selection = list(ids)
        if self.script is not None:
            self._point()
            launch(self.refresh())

    def _point(self) -> None:
        script = self.script
        if script is None:
            return
        place = script.choose(self.selection)
        self.where.object = place_html(place, script, bool(self.selection))
        if place is None or not place.in_script:
            self.reader.focus = {}
            return
        self.reader.focus = {"scene": place.scene_index, "kind": place.kind, "first": place.first_line,
                             "last": place.last_line, "item": place.item_id}

    def __panel__(self) -> pn.viewable.Viewable:
        return self.body
