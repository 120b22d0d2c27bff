"""The screenplay desk: a Fountain editor beside its formatted page, AI scene work, versions, export."""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import panel as pn
import param

from server.components.download import Export
from server.components.editor import ScriptEditor
from server.components.screenplay import PREVIEW_CSS, screenplay_html
from server.pages.common import FILE_BUTTON_CSS, PANEL_CSS, board_options, picker_options, set_options
from server.pages.script_tools import FinalDraft, ScriptVersions, StoryboardThis, import_script
from server.session import Session, friendly, report_error
from workbench.writing.documents import Document, DocumentVersion
from workbench.writing.studio import REWRITE_MODES

__all__ = ["ScreenplayDesk"]

STARTER = "INT. SOMEWHERE - NIGHT\n\nWrite the first line of action here.\n"
# What sits above and below the editor (header, tabs, pickers, actions, the quote and export row): the
# editor and the page beside it take the rest of the window, so the row under them stays in sight.
CHROME_PX = 330
EDITOR_HEIGHT = f".wb-editor {{ height: calc(100vh - {CHROME_PX}px); }}"
_LINE = {"height": 32, "margin": (0, 10, 0, 0), "align": "center"}
_LINE_FIELD = ".bk-input { height: 32px; min-height: 0; box-sizing: border-box; }"


class ScreenplayDesk(pn.viewable.Viewer):
    """Write Fountain on the left, read the page on the right; save, continue, rewrite, export."""

    document_id = param.String(default="", doc="The screenplay being edited.")
    version = param.Integer(default=0, doc="The saved version the editor started from.")
    saved_body = param.String(default="", doc="The text as last saved, to tell unsaved changes apart.")

    def __init__(self, session: Session, **params: Any) -> None:
        super().__init__(**params)
        self.session = session
        price = session.wb.accounts.price
        self.picker = pn.widgets.Select(label="Screenplay", width=320, css_classes=["wb-script-picker"])
        self.picker.param.watch(self._picked, "value")
        self._opening = False  # True while open() sets the picker itself: that is not a pick
        self.new_title = pn.widgets.TextInput(label="New screenplay", placeholder="Title — Enter creates it", width=240)
        self.new_title.param.watch(self._create, "enter_pressed")
        self.importer = pn.widgets.FileInput(accept=".fountain,.txt", label="Import .fountain", width=132,
                                             stylesheets=[FILE_BUTTON_CSS], css_classes=["wb-fountain-import"],
                                             align="end")
        self.importer.param.watch(self._import, "value")
        self.editor = ScriptEditor(placeholder="Write in Fountain: scene headings like INT. KITCHEN - DAY, "
                                               "CHARACTER names in capitals, dialogue under them.",
                                   sizing_mode="stretch_width", stylesheets=[EDITOR_HEIGHT])
        self.editor.on_save(self._save)
        self.preview = pn.pane.HTML(screenplay_html(""), stylesheets=[PREVIEW_CSS], sizing_mode="stretch_width",
                                    css_classes=["wb-preview"], margin=0)
        # Formatting a long script is CPU work: it runs in a thread, one at a time, latest text wins.
        self._wanted, self._rendering = "", False
        self.editor.param.watch(self._render_preview, "value")
        self.status = pn.pane.HTML("", stylesheets=[PANEL_CSS], margin=(10, 8))
        self.editor.param.watch(lambda e: self._status(), "value")
        self.save_button = pn.widgets.Button(label="Save (Ctrl+S)", color="primary", width=120)
        self.save_button.on_click(self._save_clicked)
        self.direction = pn.widgets.TextInput(placeholder="Direction for the AI (optional)", width=240)
        self.continue_button = pn.widgets.Button(label=f"Continue scene · {price('continue_scene')} credit",
                                                 color="default", width=190)
        self.continue_button.on_click(self._continue)
        self.stop = pn.widgets.Button(label="■ Stop", color="danger", width=80, visible=False,
                                      css_classes=["wb-stop"])
        self.stop.on_click(lambda e: self._cancel.set())
        self.mode = pn.widgets.Select(options=list(REWRITE_MODES), value="tighten", width=120)
        self.rewrite = pn.widgets.Button(label=f"Rewrite selection · {price('rewrite')} credit", color="default",
                                         width=190)
        self.rewrite.on_click(self._rewrite)
        self.board = pn.widgets.Select(width=220, css_classes=["wb-quote-board"], stylesheets=[_LINE_FIELD], **_LINE)
        self.quote = pn.widgets.Button(label="Quote on board", color="default", width=140, **_LINE)
        self.quote.on_click(self._quote)
        self.pdf = Export(self._export_pdf, busy_label="Preparing PDF…", filename="screenplay.pdf",
                          label="Export PDF", color="default", width=120, css_classes=["wb-script-pdf"], **_LINE)
        self.fountain = Export(self._export_fountain, busy_label="Preparing…", filename="screenplay.fountain",
                               label="Export .fountain", color="default", width=140, **_LINE)
        self._cancel = threading.Event()
        # Compare versions, storyboard the script, Final Draft in and out (server/pages/script_tools.py).
        self.compare = ScriptVersions(session, self.open)
        self.storyboard = StoryboardThis(session, lambda: self.document_id)
        self.final_draft = FinalDraft(session, lambda: self.document_id, self._save,
                                      lambda doc_id: self._scripts(select=doc_id))
        # Its import sits with the other import, its export with the other exports (one row each).
        self.final_draft.importer.param.update(label="Import .fdx", width=100, stylesheets=[FILE_BUTTON_CSS],
                                               align="end")
        self.final_draft.exporter.param.update(width=110, **_LINE)
        self._first_scripts()

    # -- documents ----------------------------------------------------------------------
    def _listing(self) -> tuple[list[Document], dict[str, str]]:
        """(screenplays, board options): read in one go, in a thread when the page is open."""
        docs = self.session.wb.writing.list(self.session.me, kind="screenplay", limit=100)
        return docs, board_options(self.session)

    def _fetch(self, document_id: str) -> tuple[Document, list[DocumentVersion]]:
        writing, me = self.session.wb.writing, self.session.me
        doc = writing.get(me, document_id)
        return doc, writing.versions(me, doc.id)

    def _set_scripts(self, docs: list[Document], boards: dict[str, str]) -> None:
        # Keyed by id with unique labels: two drafts of one idea share a title.
        self._opening = True
        try:
            self.picker.options = picker_options((d.title, d.id, d.created_at) for d in docs)
        finally:
            self._opening = False
        set_options(self.board, boards)

    @friendly
    def _first_scripts(self) -> None:
        """The page's first listing, made while the page is built (a few small reads)."""
        docs, boards = self._listing()
        self._set_scripts(docs, boards)
        if docs:
            self._show(*self._fetch(docs[0].id))
        self._status()

    async def _scripts(self, select: str = "") -> None:
        docs, boards = await self.session.run(self._listing)
        self._set_scripts(docs, boards)
        target = select or self.document_id or (docs[0].id if docs else "")
        if target:
            await self.open(target)
        self._status()

    @friendly
    async def _picked(self, event: Any) -> None:
        if not self._opening and event.new and event.new != self.document_id:
            await self.open(event.new)

    @friendly
    async def open(self, document_id: str) -> None:
        """Load a screenplay into the editor."""
        doc, versions = await self.session.run(self._fetch, document_id)
        if doc.id not in self.picker.options.values():
            docs, boards = await self.session.run(self._listing)
            self._set_scripts(docs, boards)
        self._show(doc, versions)

    def _show(self, doc: Document, versions: list[DocumentVersion]) -> None:
        self.param.update(document_id=doc.id, version=doc.version, saved_body=doc.body)
        self._opening = True  # the document is set first, so the picker's echo is no new pick
        try:
            self.picker.value = doc.id
        finally:
            self._opening = False
        self.editor.value = doc.body
        name = quote(doc.title.replace(" ", "-")[:60] or "screenplay", safe="-_")
        self.pdf.filename, self.fountain.filename = f"{name}.pdf", f"{name}.fountain"
        self.compare.load(doc, versions)
        pn.state.execute(self.storyboard.refresh)
        self._status()

    async def _render_preview(self, event: Any) -> None:
        self._wanted = event.new or ""
        if self._rendering:
            return  # the running render picks up the newest text when it is done
        self._rendering = True
        try:
            while True:
                text = self._wanted
                self.preview.object = await asyncio.to_thread(screenplay_html, text)
                if self._wanted is text:
                    break
        except Exception as error:  # noqa: BLE001 - a preview that cannot be drawn must not stop the editor
            report_error(error, self.session)
        finally:
            self._rendering = False

    @friendly
    async def _create(self, event: Any = None) -> None:
        title = (self.new_title.value_input or "").strip()
        self.new_title.value = self.new_title.value_input = ""
        doc = await self.session.run(self.session.wb.writing.create, self.session.me, "screenplay",
                                     title or "Untitled screenplay", STARTER)
        await self._scripts(select=doc.id)

    @friendly
    async def _import(self, event: Any) -> None:
        if not event.new:
            return
        doc = await import_script(self.session, self.importer, self.session.wb.writing.import_fountain,
                                  bytes(event.new))
        self.session.info(f"Imported “{doc.title}”.")
        await self._scripts(select=doc.id)

    def _status(self) -> None:
        if not self.document_id:
            self.status.object = '<span class="wb-hint">Create or import a screenplay to start.</span>'
        elif self.editor.value != self.saved_body:
            self.status.object = '<span class="wb-hint"><strong>Unsaved changes</strong></span>'
        else:
            self.status.object = f'<span class="wb-hint">Saved · version {self.version}</span>'

    async def _save_clicked(self, event: Any = None) -> None:
        await self._save()

    @friendly
    async def _save(self) -> bool:
        if not self.document_id:
            self.session.error("Create or import a screenplay first.")
            return False
        text = self.editor.value
        if text == self.saved_body:
            return True
        doc = await self.session.run(self.session.wb.writing.save, self.session.me, self.document_id, text,
                                     expected_version=self.version)
        await self.open(doc.id)
        return True

    # -- AI scene work ----------------------------------------------------------------------
    @friendly
    async def _continue(self, event: Any = None) -> None:
        if not await self._save():
            return
        wb, me = self.session.wb, self.session.me
        self._cancel = threading.Event()
        chunks = await self.session.run(wb.writing.stream_continue, me, self.document_id,
                                        direction=self.direction.value or "", cancel=self._cancel)
        text = self.editor.value
        kept = len(text.rstrip("\n"))
        written, failed = await self._stream_into(chunks, kept, len(text), "\n\n", follow=True)
        if failed:
            return
        words = len(written.split())
        if self._cancel.is_set():
            self.session.info(f"Stopped after {words} word{'s' if words != 1 else ''}; kept them as version "
                              f"{self.version} (the Version history can roll it back).")
        else:
            self.session.info(f"Continued the scene: {words} words, saved as version {self.version}.")

    @friendly
    async def _rewrite(self, event: Any = None) -> None:
        start, end = (int(x) for x in (list(self.editor.selection) + [0, 0])[:2])
        if end <= start:
            self.session.error("Select the lines to rewrite in the editor first.")
            return
        if not await self._save():
            return
        wb, me = self.session.wb, self.session.me
        self._cancel = threading.Event()
        before, mode = self.version, self.mode.value
        chunks = await self.session.run(wb.writing.stream_rewrite, me, self.document_id, start, end,
                                        mode=mode, cancel=self._cancel)
        _, failed = await self._stream_into(chunks, start, end, "", follow=False)
        if failed:
            return
        if self.version == before:
            self.session.info(f"Nothing changed: the “{mode}” rewrite gave your selection back as it was. "
                              "No credit was spent.")
        else:
            self.session.info(f"Rewrote the selection ({mode}); saved as version {self.version}.")

    async def _stream_into(self, chunks: Iterator[str], start: int, end: int, prefix: str, *,
                           follow: bool) -> tuple[str, bool]:
        """Show a stream in place of ``start:end`` as it arrives, then the saved script: (written, failed)."""
        written, failed = "", False
        self._busy(True, follow=follow)
        self.editor.begin_stream(start, end, prefix)
        try:
            # Each next() is a wait for the AI: in a thread, so the page (and Stop) stay live.
            while (chunk := await asyncio.to_thread(next, chunks, None)) is not None:
                written += chunk
                self.editor.stream(chunk)
        except Exception as error:  # noqa: BLE001 - shown as a notification; the stream saved nothing
            report_error(error, self.session)
            failed = True
        finally:
            self._busy(False)
            self.session.refresh()
            await self.open(self.document_id)
            self.editor.end_stream()
        return written, failed

    def _busy(self, on: bool, *, follow: bool = False) -> None:
        self.editor.param.update(readonly=on, follow=on and follow)
        self.stop.visible = on
        self.compare.hold(on)
        for button in (self.continue_button, self.rewrite, self.save_button):
            button.disabled = on

    @friendly
    async def _quote(self, event: Any = None) -> None:
        start, end = (list(self.editor.selection) + [0, 0])[:2]
        board_id = self.board.value
        if end <= start or not board_id:
            self.session.error("Select some lines and pick a board first.")
            return
        if await self._save():
            await self.session.run(self.session.wb.boards.add_script_excerpt, self.session.me, board_id,
                                   self.document_id, int(start), int(end))
            self.session.info(f'Quoted on <a href="/board?id={quote(board_id)}">the board</a>.', escaped=True)

    # -- export -----------------------------------------------------------------------------
    def _pdf_bytes(self, document_id: str) -> bytes:
        out = io.BytesIO()
        self.session.wb.writing.export_pdf(self.session.me, document_id, out)
        return out.getvalue()

    async def _export_pdf(self) -> bytes | None:
        # Saved first, so the PDF is the text on screen; both in threads (a long script takes a while).
        if not await self._save():
            return None
        try:
            return await self.session.run(self._pdf_bytes, self.document_id)
        except Exception as error:  # noqa: BLE001 - the download button cannot show an error itself
            report_error(error, self.session)
            return None

    async def _export_fountain(self) -> bytes | None:
        if not await self._save():
            return None
        try:
            text = await self.session.run(self.session.wb.writing.export_fountain, self.session.me, self.document_id)
        except Exception as error:  # noqa: BLE001
            report_error(error, self.session)
            return None
        return text.encode("utf-8")

    def __panel__(self) -> pn.viewable.Viewable:
        top = pn.Row(self.picker, self.new_title, self.importer, self.final_draft.importer, sizing_mode="stretch_width",
                     margin=0)
        actions = pn.FlexBox(pn.Row(self.save_button, self.status, margin=0),
                             pn.Row(self.direction, self.continue_button, self.stop, self.mode, self.rewrite, margin=0),
                             justify_content="space-between", flex_wrap="wrap", sizing_mode="stretch_width",
                             margin=(6, 0))
        sheet = pn.Row(pn.Column(self.editor, sizing_mode="stretch_width", margin=(0, 8, 0, 0)),
                       pn.Column(self.preview, sizing_mode="stretch_width", margin=0,
                                 styles={"max-height": f"calc(100vh - {CHROME_PX}px)", "overflow": "auto"}),
                       sizing_mode="stretch_width", margin=0)
        # One line, every control on one centre line, in sight under the editor at 1440x900.
        said = pn.pane.HTML('<span class="wb-hint">Quote the selection on</span>', stylesheets=[PANEL_CSS],
                            margin=(0, 8, 0, 10), align="center")
        bottom = pn.FlexBox(pn.Row(said, self.board, self.quote, margin=0, align="center"),
                            pn.Row(self.fountain, self.final_draft.exporter, self.pdf, margin=0, align="center"),
                            justify_content="space-between", align_items="center", flex_wrap="wrap",
                            sizing_mode="stretch_width", margin=(8, 0), css_classes=["wb-script-bottom"])
        tools = pn.Tabs(("Versions", self.compare), ("Storyboard this script", self.storyboard),
                        sizing_mode="stretch_width", margin=(8, 0), css_classes=["wb-script-tools"])
        return pn.Column(top, actions, sheet, bottom, tools, sizing_mode="stretch_width", margin=(8, 0))
