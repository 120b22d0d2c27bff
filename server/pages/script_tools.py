"""Under the screenplay desk: compare versions, storyboard the script, Final Draft in and out.

Every text the writer wrote (headings, lines, titles) is passed through
``html.escape`` before it goes into an HTML pane: Panel HTML panes show raw HTML.
The rules (what a diff says, what a storyboard costs) live in ``workbench``.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import panel as pn

from server.components.download import Export
from server.pages.common import PANEL_CSS
from server.session import Session, friendly, report_error
from workbench.writing.diff import ScriptDiff
from workbench.writing.documents import Document, DocumentVersion

__all__ = ["ScriptVersions", "StoryboardThis", "FinalDraft", "diff_html"]

DIFF_CSS = """
.wb-diff { font-family: 'Courier Prime', Courier, monospace; font-size: 13px; }
.wb-diff h4 { font-family: inherit; margin: 12px 0 4px; font-size: 13px; }
.wb-diff table { border-collapse: collapse; width: 100%; table-layout: fixed; }
.wb-diff td { padding: 1px 6px; vertical-align: top; white-space: pre-wrap; word-break: break-word; }
.wb-diff td.n { width: 3em; color: #888; text-align: right; }
.wb-diff .removed { background: #f1f1f1; text-decoration: line-through; }
.wb-diff .added { background: #000; color: #fff; }
.wb-diff ul.wb-changes { margin: 4px 0 8px; padding-left: 18px; font-family: system-ui, sans-serif; }
"""


def _cell(number: int | None, text: str | None, kind: str) -> str:
    if text is None:
        return '<td class="n"></td><td></td>'
    return f'<td class="n">{number or ""}</td><td class="{kind}">{html.escape(text)}</td>'


def diff_html(diff: ScriptDiff) -> str:
    """The diff as HTML: the scene changes in words, then each changed scene side by side (all text escaped)."""
    if diff.same:
        return (f'<div class="wb-diff"><p class="wb-hint">Versions {diff.old_version} and {diff.new_version} '
                "read the same, line for line.</p></div>")
    parts = ['<div class="wb-diff">', f"<p><strong>From version {diff.old_version} to {diff.new_version}</strong></p>"]
    if diff.changes:
        items = "".join(f'<li class="wb-change-{c.kind}">{html.escape(c.description)}</li>' for c in diff.changes)
        parts.append(f'<ul class="wb-changes">{items}</ul>')
    for scene in diff.scenes:
        label = f"Scene {html.escape(scene.label)}: " if scene.label else ""
        parts.append(f"<h4>{label}{html.escape(scene.heading)}</h4><table>")
        for row in scene.rows:
            old_kind = "removed" if row.kind in ("changed", "removed") else ""
            new_kind = "added" if row.kind in ("changed", "added") else ""
            parts.append(f'<tr class="wb-row-{row.kind}">{_cell(row.old_number, row.old_text, old_kind)}'
                         f"{_cell(row.new_number, row.new_text, new_kind)}</tr>")
        parts.append("</table>")
    parts.append("</div>")
    return "".join(parts)


class ScriptVersions(pn.viewable.Viewer):
    """Pick two versions of the screenplay, see what changed scene by scene, restore one."""

    def __init__(self, session: Session, reopen: Callable[[str], Awaitable[None]]) -> None:
        super().__init__()
        self.session = session
        self._reopen = reopen
        self.document_id = ""
        self._alone = True
        self.old = pn.widgets.Select(label="Compare version", width=260, css_classes=["wb-diff-old"])
        self.new = pn.widgets.Select(label="with version", width=260, css_classes=["wb-diff-new"])
        self.compare = pn.widgets.Button(label="Compare", color="default", width=110, css_classes=["wb-compare"])
        self.compare.on_click(self._compare)
        self.restore = pn.widgets.Button(label="Restore this version", color="default", width=190,
                                         css_classes=["wb-restore-version"])
        self.restore.on_click(self._restore)
        self.result = pn.pane.HTML("", stylesheets=[PANEL_CSS, DIFF_CSS], sizing_mode="stretch_width",
                                   css_classes=["wb-diff-result"], margin=(4, 0))
        self.old.param.watch(self._name_restore, "value")

    def _name_restore(self, event: Any) -> None:
        self.restore.label = f"Restore version {event.new}" if event.new else "Restore this version"

    def load(self, doc: Document, versions: list[DocumentVersion]) -> None:
        """Offer the versions of the screenplay now open (newest first)."""
        changed = doc.id != self.document_id
        self.document_id = doc.id
        options = {f"v{v.version} · {v.created_at:%d %b %H:%M} · {v.note}": v.version for v in versions}
        older = versions[1].version if len(versions) > 1 else versions[0].version if versions else None
        keep_old = self.old.value if not changed and self.old.value in options.values() else older
        self.old.param.update(options=options, value=keep_old)
        self.new.param.update(options=options, value=versions[0].version if versions else None)
        self._alone = alone = len(versions) < 2
        for widget in (self.old, self.new, self.compare, self.restore):
            widget.disabled = alone
        if alone:
            self.result.object = ('<p class="wb-hint wb-diff-empty">Only one version so far: save a change '
                                  "to compare.</p>")
        elif changed:
            self.result.object = ('<p class="wb-hint">Pick two versions and press Compare to see what moved, '
                                  "what was added or cut, and every changed line.</p>")

    def hold(self, on: bool) -> None:
        """No restore while the AI writes into the script (``on``); back when it is done, if there is a choice."""
        self.restore.disabled = on or self._alone

    @friendly
    async def _compare(self, event: Any = None) -> None:
        if not (self.document_id and self.old.value and self.new.value):
            self.session.error("Open a screenplay with at least two versions first.")
            return
        diff = await self.session.run(self.session.wb.writing.compare, self.session.me, self.document_id,
                                      int(self.old.value), int(self.new.value))
        self.result.object = diff_html(diff)

    @friendly
    async def _restore(self, event: Any = None) -> None:
        if not (self.document_id and self.old.value):
            return
        version = int(self.old.value)
        doc = await self.session.run(self.session.wb.writing.restore, self.session.me, self.document_id, version)
        self.session.info(f"Restored version {version} as version {doc.version}; every other version is kept.")
        await self._reopen(doc.id)

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(pn.Row(self.old, self.new, self.compare, self.restore, align="end", margin=0),
                         self.result, sizing_mode="stretch_width", margin=0, css_classes=["wb-versions"])


class StoryboardThis(pn.viewable.Viewer):
    """"Storyboard this script": the whole script or a range of scenes, stills retrieved first, cost shown."""

    def __init__(self, session: Session, document_id: Callable[[], str]) -> None:
        super().__init__()
        self.session = session
        self._document_id = document_id
        self.scope = pn.widgets.RadioButtonGroup(options=["Whole script", "Scenes"], value="Whole script",
                                                 css_classes=["wb-sb-scope"])
        self.first = pn.widgets.IntInput(label="From scene", value=1, start=1, width=100, css_classes=["wb-sb-first"])
        self.last = pn.widgets.IntInput(label="to scene", value=1, start=1, width=100, css_classes=["wb-sb-last"])
        self.generate = pn.widgets.Checkbox(label="Generate stills for frames with no good match",
                                            css_classes=["wb-sb-generate"])
        self.estimate = pn.pane.HTML("", stylesheets=[PANEL_CSS], css_classes=["wb-sb-estimate"], margin=(4, 8))
        self.go = pn.widgets.Button(label="Storyboard this script", color="primary", width=200,
                                    css_classes=["wb-storyboard-this"])
        self.go.on_click(self._create)
        self.result = pn.pane.HTML("", stylesheets=[PANEL_CSS], css_classes=["wb-sb-result"], margin=(4, 8))
        for widget in (self.scope, self.first, self.last, self.generate):
            widget.param.watch(self._estimate, "value")

    def _scenes(self) -> tuple[int, int] | None:
        return None if self.scope.value == "Whole script" else (int(self.first.value or 1), int(self.last.value or 1))

    async def refresh(self) -> None:
        """Show the estimate for the screenplay now open (called when it opens)."""
        self.result.object = ""
        await self._estimate()

    @friendly
    async def _estimate(self, event: Any = None) -> None:
        document_id = self._document_id()
        visible = self.scope.value == "Scenes"
        self.first.visible = self.last.visible = visible
        if not document_id:
            self.estimate.object = '<span class="wb-hint">Open a screenplay to storyboard it.</span>'
            return
        try:
            est = await self.session.run(self.session.wb.storyboards.estimate, self.session.me, document_id,
                                         scenes=self._scenes(), generate=bool(self.generate.value))
        except Exception as error:  # noqa: BLE001 - an estimate that cannot be made is a hint, not a pop-up
            self.estimate.object = f'<span class="wb-hint">{html.escape(str(error))}</span>'
            self.go.disabled = True
            return
        self.go.disabled = False
        cost = (f"{est.to_generate} to generate · <strong>{est.credits} credits</strong> "
                f"(you have {est.balance})" if est.to_generate else "nothing to generate · <strong>free</strong>")
        self.estimate.object = (f'<span class="wb-hint">{est.scenes} scenes · {est.frames} frames · '
                                f"{est.matched} stills found in your library · {cost}</span>")

    @friendly
    async def _create(self, event: Any = None) -> None:
        document_id = self._document_id()
        if not document_id:
            self.session.error("Open a screenplay first.")
            return
        self.go.disabled, self.go.loading = True, True
        try:
            made = await self.session.run(self.session.wb.storyboards.create, self.session.me, document_id,
                                          scenes=self._scenes(), generate=bool(self.generate.value))
        finally:
            self.go.disabled, self.go.loading = False, False
        board_id = made.storyboard.board_id
        note = f" · {made.credits_spent} credits spent" if made.credits_spent else ""
        self.result.object = (f'<a class="wb-sb-link" href="/board?id={quote(board_id)}">Open the storyboard</a>'
                              f' <span class="wb-hint">{made.frames} frames, {made.matched} from your library, '
                              f"{made.placeholders} waiting for a still{note}</span>")
        self.session.refresh()
        self.session.info("Storyboard made.")

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(pn.Row(self.scope, self.first, self.last, self.generate, align="center", margin=0),
                         pn.Row(self.go, self.estimate, align="center", margin=0), self.result,
                         sizing_mode="stretch_width", margin=0, css_classes=["wb-storyboard-form"])


async def import_script(session: Session, importer: pn.widgets.FileInput, load: Callable[..., Document],
                        data: bytes) -> Document:
    """Read a dropped script file as a new screenplay (in a thread), the file input busy meanwhile."""
    importer.loading = True
    try:
        return await session.run(load, session.me, data)
    finally:
        importer.loading = False


class FinalDraft(pn.viewable.Viewer):
    """Import a ``.fdx`` as a new screenplay; export the open one as ``.fdx``."""

    def __init__(self, session: Session, document_id: Callable[[], str], save: Callable[[], Awaitable[bool]],
                 opened: Callable[[str], Awaitable[None]]) -> None:
        super().__init__()
        self.session = session
        self._document_id, self._save, self._opened = document_id, save, opened
        self.importer = pn.widgets.FileInput(accept=".fdx", width=220, css_classes=["wb-fdx-import"])
        self.importer.param.watch(self._import, "value")
        self.exporter = Export(self._export, busy_label="Preparing…", filename="screenplay.fdx",
                               label="Export .fdx", color="default", width=140, css_classes=["wb-fdx-export"])

    @friendly
    async def _import(self, event: Any) -> None:
        if not event.new:
            return
        doc = await import_script(self.session, self.importer, self.session.wb.writing.import_fdx, bytes(event.new))
        self.session.info(f"Imported “{doc.title}” from Final Draft.")
        await self._opened(doc.id)

    async def _export(self) -> bytes | None:
        if not await self._save():
            return None
        try:
            return await self.session.run(self.session.wb.writing.export_fdx, self.session.me, self._document_id())
        except Exception as error:  # noqa: BLE001 - the download button cannot show an error itself
            report_error(error, self.session)
            return None

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Row(pn.pane.HTML('<span class="wb-hint">Final Draft:</span>', stylesheets=[PANEL_CSS],
                                   margin=(8, 4)), self.importer, self.exporter, margin=0, align="end")
