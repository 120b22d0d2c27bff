"""The library's upload area: drag-and-drop of many stills, a status line per file (from server/pages/library.py)."""

from __future__ import annotations

import html
from collections import Counter
from typing import Any

import panel as pn
import param

from server.components.upload import BoundedFileDropper
from server.pages.common import PANEL_CSS
from server.session import Session

__all__ = ["UploadQueue"]


class UploadQueue(pn.viewable.Viewer):
    """Drag-and-drop upload of many stills, with a status line per file."""

    statuses = param.Dict(default={}, doc="File name -> (state, message): queued, adding, added, duplicate, error.")
    done = param.Integer(default=0, doc="Files finished in the current batch.")
    total = param.Integer(default=0, doc="Files in the current batch.")
    finished = param.Event(doc="Fires after each file, so the grid can show it.")
    already = param.String(default="", doc="Id of the library picture a dropped file turned out to be.")

    def __init__(self, session: Session, **params: Any) -> None:
        super().__init__(**params)
        self.session = session
        # The size limit holds on the server too: a file over it is dropped as its chunks arrive.
        self.dropper = BoundedFileDropper(
            max_file_bytes=session.wb.settings.library.max_bytes,
            multiple=True, accepted_filetypes=["image/*"], chunk_size=4_000_000,
            layout="compact", sizing_mode="stretch_width", css_classes=["wb-upload"], margin=(0, 0, 6, 0),
        )
        self.dropper.param.watch(self._on_refused, "refused")
        self._seen: set[tuple[str, int]] = set()
        self._pending: list[tuple[str, bytes]] = []
        self._working = False
        self.dropper.param.watch(self._on_files, "value")
        self.progress = pn.indicators.Progress(value=0, max=1, visible=False, sizing_mode="stretch_width",
                                               height=6, bar_color="dark", margin=(4, 0))
        self.report = pn.pane.HTML(pn.bind(self._report_html, self.param.statuses), sizing_mode="stretch_width",
                                   stylesheets=[PANEL_CSS], margin=0)

    @staticmethod
    def _report_html(statuses: dict[str, tuple[str, str]]) -> str:
        if not statuses:
            return '<p class="wb-hint">JPEG, PNG, WebP, GIF or TIFF.</p>'
        rows = []
        for name, (state, message) in statuses.items():
            label = {"queued": "waiting", "adding": "adding…", "added": "added", "duplicate": "already here",
                     "error": "not added"}[state]
            detail = f'<div class="wb-file-why">{html.escape(message)}</div>' if message else ""
            rows.append(f'<li class="wb-file wb-file-{state}" data-file="{html.escape(name, quote=True)}">'
                        f'<span class="wb-file-name">{html.escape(name)}</span>'
                        f'<span class="wb-file-state">{label}</span>{detail}</li>')
        # One line over the list: where a batch of forty stands at a glance (the grid stays usable meanwhile).
        counts = Counter(state for state, _ in statuses.values())
        parts = [f"{counts[key]} {label}" for key, label in (("added", "added"), ("duplicate", "already here"),
                                                               ("error", "not added")) if counts[key]]
        going = counts["queued"] + counts["adding"]
        if going:
            parts.append(f"{going} to go")
        summary = f'<p class="wb-upload-summary">{" · ".join(parts)}</p>'
        return f'{summary}<ul class="wb-files">{"".join(rows)}</ul>'

    def _on_refused(self, event: param.parameterized.Event) -> None:
        for name, why in (event.new or {}).items():
            self.statuses = {**self.statuses, name: ("error", why)}

    async def _on_files(self, event: param.parameterized.Event) -> None:
        for name, data in (event.new or {}).items():
            raw = data.encode() if isinstance(data, str) else bytes(data)
            key = (name, len(raw))
            if key in self._seen:
                continue
            self._seen.add(key)
            self._pending.append((name, raw))
            self.statuses = {**self.statuses, name: ("queued", "")}
            self.total += 1
        await self._drain()

    async def _drain(self) -> None:
        if self._working:
            return  # the running loop picks up what was just queued
        self._working = True
        self.progress.visible = True
        try:
            while self._pending:
                name, raw = self._pending.pop(0)
                await self._add_one(name, raw)
                self.done += 1
                self.progress.max, self.progress.value = max(1, self.total), self.done
                self.finished = True
        finally:
            self._working = False
            if self.done >= self.total:
                self.progress.visible = False
                self.done = self.total = 0

    async def _add_one(self, name: str, raw: bytes) -> None:
        from workbench.errors import WorkbenchError

        self.statuses = {**self.statuses, name: ("adding", "")}
        wb, me = self.session.wb, self.session.me
        try:
            image, new = await self.session.run(wb.library.ingest_new, me, raw, filename=name)
            state = ("added", "") if new else (
                "duplicate", f"Already in your library as {image.filename}: it is selected on the right.")
            if not new:
                self.already = image.id
        except WorkbenchError as error:
            state = ("error", str(error))
        self.statuses = {**self.statuses, name: state}

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(self.dropper, self.progress, self.report, sizing_mode="stretch_width", margin=0)
