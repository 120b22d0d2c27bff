"""The board page's History tab: the board's changes in words, and "Restore to here".

Everyone who can open the board reads its timeline (sharing changes are the
owner's: the boards domain filters them, ``wb.boards.timeline.events``). Its
editors may put the board back as it was right after any change; the restore is
one new change of its own (``wb.boards.timeline.restore_to``), so it reaches
every open view like any edit and one Undo takes it back. Names and board titles
in the sentences are user text and are escaped here.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Callable
from typing import Any

import panel as pn
import param

from server.pages.common import PANEL_CSS
from server.session import Session, friendly
from workbench.boards.timeline import TimelineEntry

__all__ = ["BoardHistory", "entry_html"]

PAGE = 30    # entries shown at first; "Show older" adds as many again
MOST = 300

HISTORY_CSS = """
.wb-event { font-size: 13px; line-height: 1.35; padding: 6px 0 6px 10px; border-left: 2px solid #111; }
.wb-event.undone { border-left-color: #ccc; color: #8a8a8a; }
.wb-event.latest { border-left-width: 4px; padding-left: 8px; }
.wb-event-who { font-weight: 650; }
.wb-event-when { display: block; color: #8a8a8a; font-size: 11px; }
.wb-confirm { border: 1px solid #111; padding: 8px 10px; font-size: 13px; line-height: 1.4; background: #fff; }
"""
# The restore button of each line: small, so the sentences stay the thing to read.
_SMALL = ".bk-btn { font-size: 12px; padding: 1px 8px; min-height: 0; height: 24px; }"


def entry_html(entry: TimelineEntry, *, latest: bool = False) -> str:
    """One change as a line: who (bold), what, and when; every user string escaped."""
    classes = "wb-event" + (" undone" if entry.undone else "") + (" latest" if latest else "")
    what = entry.summary + (" (undone)" if entry.undone else "")
    when = entry.created_at.strftime("%d %b %H:%M") + f" · change #{entry.seq}" + (" · now" if latest else "")
    return (f'<div class="{classes}" data-seq="{entry.seq}" data-kind="{html.escape(entry.kind)}">'
            f'<span class="wb-event-who">{html.escape(entry.actor_name)}</span> {html.escape(what)}'
            f'<span class="wb-event-when">{when}</span></div>')


class BoardHistory(pn.viewable.Viewer):
    """The timeline of one open board, newest first, with "Restore to here" for its editors."""

    board_id = param.String(default="", doc="The board whose history is shown.")
    shown = param.Integer(default=PAGE, bounds=(1, MOST), doc="How many changes are listed, newest first.")

    def __init__(self, session: Session, board_id: str, token: str | None, *,
                 may_restore: Callable[[], bool], **params: Any) -> None:
        super().__init__(board_id=board_id, **params)
        self.session, self.token, self._may_restore = session, token, may_restore
        self.entries: list[TimelineEntry] = []
        self.loaded = False
        self.pending: TimelineEntry | None = None   # the change a restore waits to be confirmed for
        self.rows = pn.Column(sizing_mode="stretch_width", margin=0, css_classes=["wb-history-rows"])
        self.older = pn.widgets.Button(label="Show older changes", color="default", sizing_mode="stretch_width",
                                       margin=(6, 0), visible=False, css_classes=["wb-history-older"])
        self.older.on_click(self._more)

    @friendly
    async def refresh(self) -> None:
        """Read the board's timeline again (the tab opened, or a change arrived while it is open)."""
        self.entries = await self.session.run(self.session.wb.boards.timeline.events, self.session.user,
                                              self.board_id, token=self.token, limit=min(MOST, self.shown + 1))
        self.loaded = True
        self._draw()

    def redraw(self) -> None:
        """Draw the entries read last again (who may restore changed)."""
        self._draw()

    def _draw(self) -> None:
        may_restore = self._may_restore()
        rows: list[Any] = []
        for n, entry in enumerate(self.entries[: self.shown]):
            line = pn.pane.HTML(entry_html(entry, latest=n == 0), stylesheets=[PANEL_CSS, HISTORY_CSS], margin=0,
                                sizing_mode="stretch_width")
            if may_restore and n > 0:  # the newest change is how the board is now
                back = pn.widgets.Button(label="Restore to here", color="default", width=112, margin=(0, 0, 4, 10),
                                         css_classes=["wb-restore"], stylesheets=[_SMALL])
                back.on_click(functools.partial(self._ask, entry))
                rows.append(pn.Column(line, back, sizing_mode="stretch_width", margin=(0, 0, 2, 0)))
            else:
                rows.append(line)
            if self.pending is not None and self.pending.seq == entry.seq:
                rows.append(self._question(entry))  # under the line it is about; one question at a time
        if not rows:
            rows.append(pn.pane.HTML('<p class="wb-hint">No changes yet.</p>', stylesheets=[PANEL_CSS], margin=0))
        self.rows.objects = rows
        self.older.visible = len(self.entries) > self.shown and self.shown < MOST

    async def _more(self, event: Any = None) -> None:
        self.shown = min(MOST, self.shown + PAGE)
        await self.refresh()

    def _ask(self, entry: TimelineEntry, event: Any = None) -> None:
        """Ask before restoring: it changes the board for everyone on it."""
        self.pending = entry
        self._draw()

    def _question(self, entry: TimelineEntry) -> pn.viewable.Viewable:
        when = entry.created_at.strftime("%d %b %H:%M")
        text = (f'<div class="wb-confirm" role="alertdialog">Put the board back as it was right after '
                f'<strong>{html.escape(entry.description)}</strong> ({when})? Cards added since are taken off, '
                'removed ones come back, for everyone on the board. Undo takes it back.</div>')
        yes = pn.widgets.Button(label="Restore", color="primary", width=90, margin=(6, 6, 0, 0),
                                css_classes=["wb-restore-yes"])
        yes.on_click(functools.partial(self._restore, entry))
        no = pn.widgets.Button(label="Cancel", color="default", width=80, margin=(6, 0, 0, 0),
                               css_classes=["wb-restore-no"])
        no.on_click(self._cancel)
        return pn.Column(pn.pane.HTML(text, stylesheets=[PANEL_CSS, HISTORY_CSS], margin=0,
                                      sizing_mode="stretch_width"), pn.Row(yes, no, margin=0),
                         sizing_mode="stretch_width", margin=(2, 0, 8, 10), css_classes=["wb-restore-confirm"])

    def _cancel(self, event: Any = None) -> None:
        self.pending = None
        self._draw()

    @friendly
    async def _restore(self, entry: TimelineEntry, event: Any = None) -> None:
        self._cancel()
        await self.session.run(self.session.wb.boards.timeline.restore_to, self.session.user, self.board_id,
                               entry.seq, token=self.token)
        self.session.info(f"The board is back as it was after change #{entry.seq}. Undo (Ctrl+Z) takes it back.")
        await self.refresh()

    def __panel__(self) -> pn.viewable.Viewable:
        hint = ("Every change to the board, newest first. Restore to here puts the board back as it was "
                "right after that change (Undo takes it back)." if self._may_restore()
                else "Every change to the board, newest first.")
        return pn.Column(pn.pane.HTML(f'<p class="wb-hint">{hint}</p>', stylesheets=[PANEL_CSS], margin=(4, 0)),
                         self.rows, self.older, sizing_mode="stretch_width", margin=0,
                         css_classes=["wb-history"])
