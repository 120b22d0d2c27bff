"""The board page's comments: threads pinned to a card, a spot or the board, replies, resolve and reopen.

Everyone who can open the board reads the comments; who may write them is the
boards domain's rule (owner, members, comment and edit links), the panel only
hides the form from a view link. A guest signs with the name they type. Every
comment, name and card label is user text and is escaped here: Panel's HTML
pane passes markup through as it is.

Threads are numbered in the order they were started; the canvas shows each open
one as a marker with its number (one ``pins`` list, sent when the comments
change), takes a comment on a spot or a card (``comment_at``) and says which
marker was clicked (``pin``): its thread goes to the top of the list, outlined.
The panel's second tab is the board's history (:mod:`server.pages.board_history`).
"""

from __future__ import annotations

import functools
import html
from collections.abc import Callable
from typing import Any

import panel as pn
import param

from server.live_board import Applied
from server.pages.board_history import BoardHistory
from server.pages.common import PANEL_CSS, section
from server.session import Session, friendly, launch
from workbench.boards import BoardItem, Comment

__all__ = ["CommentsPanel", "thread_html", "pin_entries"]

PIN_READY = "Pin to the selected card"
PIN_IDLE = "Pin to a card (select one first)"

COMMENTS_CSS = """
.wb-thread { border: 1px solid #e2e2e2; border-left: 3px solid #111; padding: 8px 10px; margin: 6px 0 2px;
  font-size: 13px; line-height: 1.4; background: #fff; }
.wb-thread.resolved { border-left-color: #bbb; color: #6b6b6b; }
.wb-thread-pin { font-size: 11px; color: #6b6b6b; margin-bottom: 4px; }
.wb-comment + .wb-comment { border-top: 1px solid #f0f0f0; margin-top: 6px; padding-top: 6px; }
.wb-comment-by { font-weight: 650; }
.wb-comment-when { color: #8a8a8a; font-size: 11px; margin-left: 4px; }
.wb-comment-text { white-space: pre-wrap; word-break: break-word; margin: 2px 0 0; }
.wb-resolved-badge { font-size: 11px; color: #6b6b6b; margin-left: 6px; }
.wb-thread-no { display: inline-block; min-width: 20px; height: 20px; padding: 0 5px; box-sizing: border-box;
  border: 2px solid #111; border-radius: 10px 10px 10px 2px; background: #fff; color: #111;
  font: 700 11px/16px var(--wb-font, sans-serif); text-align: center; margin-right: 6px;
  font-variant-numeric: tabular-nums; }
.wb-thread.resolved .wb-thread-no { border-color: #bbb; border-style: dashed; color: #8a8a8a; }
.wb-thread.focused { border-color: var(--wb-accent, #2f5bff); border-left-color: var(--wb-accent, #2f5bff);
  box-shadow: 0 0 0 2px rgba(47, 91, 255, .25); }
.wb-thread.focused .wb-thread-no { background: var(--wb-accent, #2f5bff); border-color: var(--wb-accent, #2f5bff);
  color: #fff; }
"""


def card_label(item: BoardItem | None) -> str:
    """How a comment names the card it is pinned to (plain text, escaped by the caller)."""
    if item is None:
        return "a card that was removed"
    words = (item.text or item.caption or item.url or "").strip().splitlines()
    first = words[0] if words else ""
    if first:
        return f"“{first[:40]}{'…' if len(first) > 40 else ''}”"
    return {"image": "a picture", "note": "a note", "heading": "a heading", "link": "a link"}.get(item.kind, "a card")


def _one(comment: Comment) -> str:
    who = html.escape(comment.author_name) + (" · guest" if comment.guest else "")
    when = comment.created_at.strftime("%d %b %H:%M")
    return (f'<div class="wb-comment" data-comment="{html.escape(comment.id)}">'
            f'<span class="wb-comment-by">{who}</span><span class="wb-comment-when">{when}</span>'
            f'<p class="wb-comment-text">{html.escape(comment.text)}</p></div>')


def thread_html(thread: Comment, items: dict[str, BoardItem], *, number: int | None = None,
                focused: bool = False) -> str:
    """One thread (its first comment, then the replies), every user string escaped.

    ``number`` is the thread's marker number on the canvas; ``focused`` outlines it (its marker was clicked).
    """
    if thread.item_id:
        pin = f"On {card_label(items.get(thread.item_id))}"
    elif thread.x is not None:
        pin = "At a spot on the board"
    else:
        pin = "On the board"
    done = '<span class="wb-resolved-badge">resolved</span>' if thread.resolved else ""
    no = f'<span class="wb-thread-no">{number}</span>' if number is not None else ""
    body = "".join(_one(c) for c in (thread, *thread.replies))
    classes = "wb-thread" + (" resolved" if thread.resolved else "") + (" focused" if focused else "")
    numbered = f' data-n="{number}"' if number is not None else ""
    return (f'<div class="{classes}" data-thread="{html.escape(thread.id)}"{numbered}>'
            f'<div class="wb-thread-pin">{no}{html.escape(pin)}{done}</div>{body}</div>')


def pin_entries(threads: list[Comment], *, resolved: bool, focused: str = "") -> list[dict[str, Any]]:
    """The canvas's comment markers: one per thread pinned to a card or a spot, numbered like the panel
    (plain values; the canvas sets every string as text). Resolved threads only with ``resolved``;
    ``focused`` is the thread outlined in the panel (its marker is outlined too)."""
    pins = []
    for number, thread in enumerate(threads, start=1):
        if (thread.resolved and not resolved) or (thread.item_id is None and thread.x is None):
            continue
        first = thread.text.strip().splitlines()[0] if thread.text.strip() else ""
        pins.append({"id": thread.id, "n": number, "item_id": thread.item_id, "x": thread.x, "y": thread.y,
                     "resolved": thread.resolved, "count": 1 + len(thread.replies), "by": thread.author_name,
                     "text": first[:80] + ("…" if len(first) > 80 else ""), "focused": thread.id == focused})
    return pins


class CommentsPanel(pn.viewable.Viewer):
    """The comments side panel of one open board."""

    board_id = param.String(default="", doc="The board whose comments are shown.")
    show_resolved = param.Boolean(default=False, doc="Whether resolved threads are listed (and marked) too.")
    focused = param.String(default="", doc="The thread whose canvas marker was clicked last ('' for none).")

    def __init__(self, session: Session, board_id: str, token: str | None, *, may_comment: bool,
                 items: Callable[[], list[BoardItem]], select: Callable[[list[str]], None], canvas: Any = None,
                 **params: Any) -> None:
        super().__init__(board_id=board_id, **params)
        self.session, self.token, self.may_comment = session, token, may_comment
        self._items, self._select, self.canvas = items, select, canvas
        self.selection: list[str] = []
        self._threads: list[Comment] = []
        # Kept across redraws: a reply being typed survives someone else's comment arriving.
        self._replies: dict[str, pn.widgets.TextInput] = {}
        self.guest = session.user is None
        self.threads = pn.Column(sizing_mode="stretch_width", margin=0, css_classes=["wb-threads"])
        self.text = pn.widgets.TextAreaInput(placeholder="Write a comment… (@name tells a board member)", rows=2,
                                             max_length=5000, auto_grow=True, max_rows=8, sizing_mode="stretch_width",
                                             css_classes=["wb-comment-input"], margin=(4, 0))
        self.signer = pn.widgets.TextInput(placeholder="Your name (shown with your comments)", max_length=60,
                                         visible=self.guest and may_comment, sizing_mode="stretch_width",
                                         css_classes=["wb-comment-name"], margin=(4, 0))
        # Unchecked while it cannot apply (a checked but greyed box read as "this comment will be pinned").
        self.pin = pn.widgets.Checkbox(label=PIN_IDLE, value=False, disabled=True, margin=(4, 0),
                                       css_classes=["wb-comment-pin"])
        self.post = pn.widgets.Button(label="Comment", color="primary", sizing_mode="stretch_width", margin=(4, 0),
                                      css_classes=["wb-comment-post"])
        self.post.on_click(self._post)
        self.resolved_toggle = pn.widgets.Checkbox(label="Show resolved threads", value=False, margin=(8, 0, 0, 0))
        self.resolved_toggle.link(self, value="show_resolved")
        # Restoring is for the board's editors: the canvas's editable flag is the page's copy of that rule.
        self.history = BoardHistory(session, board_id, token,
                                    may_restore=lambda: canvas is not None and bool(canvas.editable))
        self.tabs: pn.Tabs | None = None
        if canvas is not None:
            canvas.commentable = may_comment
            canvas.on("comment_at", self._post_at)
            canvas.on("pin", self._open_thread)
            # A link revoked while the page is open makes the canvas read-only: the restore buttons go too.
            canvas.param.watch(self._editable, "editable")

    def selected(self, ids: list[str]) -> None:
        """The canvas selection changed: a new comment can be pinned to a single selected card."""
        self.selection = list(ids)
        one = len(self.selection) == 1
        # Pinning is the default once it can apply; the writer's own untick stays while one card is selected.
        value = (self.pin.value or self.pin.disabled) if one else False
        self.pin.param.update(disabled=not one, value=value, label=PIN_READY if one else PIN_IDLE)

    @friendly
    async def refresh(self) -> None:
        """Read the board's comments again (a comment event arrived, or the page opened)."""
        self._threads = await self.session.run(self.session.wb.boards.comments.list, self.session.user,
                                               self.board_id, token=self.token)
        self._draw()

    def followed(self, applied: Applied) -> None:
        """Changes arrived on the board (anyone's, this viewer's too): the open history follows.

        (The page refreshes the comments themselves on comment events.)"""
        if self.tabs is not None and self.tabs.active == 1:
            launch(self.history.refresh())
        else:
            self.history.loaded = False  # read when the tab is next opened

    @param.depends("show_resolved", "focused", watch=True)
    def _draw(self) -> None:
        items = {i.id: i for i in self._items()}
        numbers = {t.id: n for n, t in enumerate(self._threads, start=1)}
        shown = [t for t in self._threads if self.show_resolved or not t.resolved or t.id == self.focused]
        shown.sort(key=lambda t: t.id == self.focused)  # stable: newest first, the clicked marker's thread on top
        rows: list[Any] = []
        for thread in reversed(shown):  # newest thread first
            rows.append(pn.pane.HTML(thread_html(thread, items, number=numbers[thread.id],
                                                 focused=thread.id == self.focused),
                                     stylesheets=[PANEL_CSS, COMMENTS_CSS], margin=0, sizing_mode="stretch_width"))
            rows.append(self._actions(thread, on_board=thread.item_id in items))
        if not rows:
            open_count = sum(1 for t in self._threads if not t.resolved)
            hint = "No open comments." if self._threads and not open_count else "No comments yet."
            rows.append(pn.pane.HTML(f'<p class="wb-hint">{hint}</p>', stylesheets=[PANEL_CSS], margin=0))
        self.threads.objects = rows
        if self.canvas is not None:
            pins = pin_entries(self._threads, resolved=self.show_resolved, focused=self.focused)
            if pins != self.canvas.pins:  # one message with every marker, only when they changed
                self.canvas.pins = pins

    def _open_thread(self, msg: dict[str, Any]) -> None:
        """A marker on the canvas was clicked: its thread goes on top of the list, outlined."""
        thread_id = str(msg.get("id") or "")
        if any(t.id == thread_id for t in self._threads):
            if self.tabs is not None:
                self.tabs.active = 0
            if self.focused == thread_id:
                self._draw()  # clicked again: drawn on top again (a thread may have been started since)
            else:
                self.focused = thread_id

    def _actions(self, thread: Comment, *, on_board: bool) -> pn.viewable.Viewable:
        tools: list[Any] = []
        if thread.item_id and on_board:
            show = pn.widgets.Button(label="Show card", color="default", width=90, margin=(2, 4, 2, 0))
            show.on_click(functools.partial(self._show_card, thread.item_id))
            tools.append(show)
        elif thread.item_id is None and thread.x is not None and self.canvas is not None:
            spot = pn.widgets.Button(label="Show spot", color="default", width=90, margin=(2, 4, 2, 0),
                                     css_classes=["wb-show-spot"])
            spot.on_click(functools.partial(self._show_spot, thread.id))
            tools.append(spot)
        if self.may_comment:
            reply = self._replies.get(thread.id)
            if reply is None:
                reply = pn.widgets.TextInput(placeholder="Reply — Enter sends", sizing_mode="stretch_width",
                                             css_classes=["wb-reply-input"], margin=(2, 0), max_length=5000)
                reply.param.watch(functools.partial(self._reply, thread.id, reply), "enter_pressed")
                self._replies[thread.id] = reply
            flip = pn.widgets.Button(label="Reopen" if thread.resolved else "Resolve", color="default", width=80,
                                     margin=(2, 0), css_classes=["wb-resolve"])
            flip.on_click(functools.partial(self._flip, thread))
            tools.append(flip)
            return pn.Column(pn.Row(*tools, margin=0), reply, sizing_mode="stretch_width", margin=(0, 0, 6, 0))
        return pn.Row(*tools, sizing_mode="stretch_width", margin=(0, 0, 6, 0))

    def _show_card(self, item_id: str, event: Any = None) -> None:
        self._select([item_id])

    def _show_spot(self, thread_id: str, event: Any = None) -> None:
        self.focused = thread_id
        if self.canvas is not None:
            self.canvas.show_pin(thread_id)

    @friendly
    async def _post(self, event: Any = None) -> None:
        text = (self.text.value_input or self.text.value or "").strip()
        if not text:
            self.session.error("Write something first: a comment cannot be empty.")
            return
        pinned = self.selection[0] if self.pin.value and len(self.selection) == 1 else None
        await self.session.run(self.session.wb.boards.comments.add, self.session.user, self.board_id, text,
                               token=self.token, item_id=pinned, display_name=self.signer.value or "")
        self.text.value = self.text.value_input = ""
        await self.refresh()

    @friendly
    async def _post_at(self, msg: dict[str, Any]) -> None:
        """A comment written on the canvas, pinned to the card or the spot it was written on."""
        text = str(msg.get("text") or "")
        item_id = msg.get("item_id")
        where: dict[str, Any] = {"item_id": str(item_id)} if item_id else {"x": msg.get("x"), "y": msg.get("y")}
        # Numbers and ids are the boards domain's to check (check_point, the card being there).
        comment = await self.session.run(self.session.wb.boards.comments.add, self.session.user, self.board_id, text,
                                         token=self.token, display_name=self.signer.value or "", **where)
        self.focused = comment.id
        await self.refresh()

    @friendly
    async def _reply(self, thread_id: str, field: pn.widgets.TextInput, event: Any = None) -> None:
        text = (field.value_input or "").strip()
        if not text:
            return
        await self.session.run(self.session.wb.boards.comments.add, self.session.user, self.board_id, text,
                               token=self.token, parent_id=thread_id, display_name=self.signer.value or "")
        field.value = field.value_input = ""
        await self.refresh()

    @friendly
    async def _flip(self, thread: Comment, event: Any = None) -> None:
        comments = self.session.wb.boards.comments
        act = comments.reopen if thread.resolved else comments.resolve
        await self.session.run(act, self.session.user, self.board_id, thread.id, token=self.token)
        await self.refresh()

    def _editable(self, event: Any) -> None:
        if self.history.loaded:
            self.history.redraw()

    def _tab(self, event: Any) -> None:
        if event.new == 1 and not self.history.loaded:
            launch(self.history.refresh())

    def __panel__(self) -> pn.viewable.Viewable:
        parts: list[Any] = []
        if self.may_comment:
            hint = ("Or comment right on the board: the Comment tool over the canvas, Alt+click, or C."
                    if self.canvas is not None else "")
            parts += [self.signer, self.text, self.pin, self.post]
            if hint:
                parts.append(pn.pane.HTML(f'<p class="wb-hint">{hint}</p>', stylesheets=[PANEL_CSS], margin=0))
        else:
            parts.append(pn.pane.HTML('<p class="wb-hint">This link lets you read comments; ask the board\'s owner '
                                      'for a link that can comment.</p>', stylesheets=[PANEL_CSS], margin=0))
        parts += [self.resolved_toggle, self.threads]
        comments = pn.Column(*parts, sizing_mode="stretch_width", margin=(6, 0, 0, 0), css_classes=["wb-comments"])
        if self.canvas is None:  # no canvas to restore onto: the comments alone, as before
            return pn.Column(section("Comments"), comments, sizing_mode="stretch_width", margin=(0, 0, 12, 0))
        self.tabs = pn.Tabs(("Comments", comments), ("History", self.history), dynamic=False,
                            sizing_mode="stretch_width", margin=(0, 0, 12, 0), css_classes=["wb-side-tabs"])
        self.tabs.param.watch(self._tab, "active")
        return self.tabs
