"""The board canvas and the story-prompt tray: plain-JavaScript components (no CDN, no build step).

The canvas sends one message per finished gesture (see ``static/canvas.js``);
the board page turns each into one service call and sends the items back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import param
from panel.custom import JSComponent

from server.design import STATIC
from server.session import launch
from workbench.boards import BoardItem, BoardView
from workbench.magic import FrameMatch

__all__ = ["BoardCanvas", "PromptTray", "canvas_entry", "MESSAGE_TYPES"]

MESSAGE_TYPES = ("move", "remove", "front", "undo", "redo", "edit", "drop", "add_note", "color", "caption",
                 "replace", "selection", "pointer", "comment_at", "pin")


def canvas_entry(item: BoardItem, view: BoardView, grant: str | None = None, *, frame: int | None = None,
                 match: FrameMatch | None = None) -> dict[str, Any]:
    """One card as the canvas draws it (plain values; the browser sets every string as text).

    ``grant`` is a link holder's sealed share token (``server.media.seal_grant``), never the token itself.
    ``frame`` is a picture's storyboard number, ``match`` how close a frame's still is to its beat.
    """
    entry: dict[str, Any] = {
        "id": item.id, "kind": item.kind, "x": item.x, "y": item.y, "w": item.w, "h": item.h, "z": item.z,
        "text": item.text, "caption": item.caption, "color": item.color, "url": item.url,
        "placeholder": item.placeholder,  # a frame waiting for its still: "Replace still" fills it
    }
    if item.kind == "image":
        image = view.images.get(item.image_id or "")
        entry["missing"] = image is None
        entry["title"] = image.filename if image else ""
        query = f"?grant={grant}" if grant else ""
        entry["src"] = f"/media/board/{view.board.id}/{item.image_id}{query}"
        entry["frame"] = frame
        entry["match"], entry["weak"] = (match.score, match.weak) if match else (None, False)
    return entry


# Colours, captions, frame numbers and match scores (canvas.css holds the rest of the canvas's look).
EXTRA_CSS = """
.wb-color-wrap { position: relative; display: inline-flex; }
.wb-palette { display: none; position: absolute; top: 30px; left: 0; z-index: 30; background: #fff;
  border: 1px solid #cfcfcf; border-radius: 3px; padding: 6px; gap: 4px; box-shadow: 0 4px 14px rgba(0,0,0,.12); }
.wb-palette.open { display: flex; }
.wb-tool.wb-swatch { min-width: 22px; width: 22px; height: 22px; padding: 0; background: var(--wb-swatch);
  border-color: #bbb; font-size: 12px; line-height: 1; }
.wb-tool:disabled { opacity: .45; cursor: default; }
.wb-tool.on { background: #111; color: #fff; border-color: #111; }
.wb-card.colored { border-top-width: 6px; }
.wb-card.colored[data-kind="note"], .wb-card.colored[data-kind="link"], .wb-card.colored[data-kind="script"] {
  background: color-mix(in srgb, var(--wb-card-color) 14%, #fff); }
.wb-frame-no { position: absolute; top: 6px; left: 6px; min-width: 22px; height: 22px; padding: 0 6px;
  box-sizing: border-box; border-radius: 11px; background: #111; color: #fff; font: 600 12px/22px var(--wb-font,
  sans-serif); text-align: center; font-variant-numeric: tabular-nums; pointer-events: none; }
.wb-match { position: absolute; top: 6px; right: 6px; padding: 2px 7px; border-radius: 10px; background: rgba(255,
  255, 255, .92); color: #111; font: 600 11px/16px var(--wb-font, sans-serif); pointer-events: none; }
.wb-match.low { background: var(--wb-danger, #b3261e); color: #fff; }
.wb-edit.wb-caption-edit { flex: none; padding: 5px 8px; font-size: 12px; }
"""


class BoardCanvas(JSComponent):
    """A free canvas of cards; ``on(kind, callback)`` receives the gestures (see MESSAGE_TYPES)."""

    items = param.List(default=[], doc="The cards, back to front, as canvas entries.")
    editable = param.Boolean(default=False, doc="Whether gestures that change the board are allowed.")
    revision = param.Integer(default=0, doc="The board revision the items show; a new one redraws every card "
                             "(later changes arrive as patches, see ``patch``).")
    replaceable = param.Boolean(default=False, doc="Whether a picture's still can be swapped from the library.")
    commentable = param.Boolean(default=False, doc="Whether the viewer may comment: shows the Comment tool "
                                "(a click, Alt+click or the C key opens a form; Enter sends ``comment_at``).")
    pins = param.List(default=[], doc="The comment markers, one per thread pinned to a card or a spot: "
                      "{id, n, item_id, x, y, resolved, count, by, text, focused}; a click on one sends ``pin``.")

    # canvas_pins.js (comment markers and the spot-comment form) is joined to canvas.js as one module:
    # a component has one ESM, and canvas.js stays about the cards.
    _esm = (STATIC / "canvas.js").read_text(encoding="utf-8") + "\n" + \
        (STATIC / "canvas_pins.js").read_text(encoding="utf-8")
    _stylesheets = [(STATIC / "canvas.css").read_text(), EXTRA_CSS, (STATIC / "canvas_pins.css").read_text()]

    def __init__(self, **params: Any) -> None:
        self._handlers: dict[str, Callable[[dict[str, Any]], Any]] = {}
        super().__init__(**params)

    def on(self, kind: str, callback: Callable[[dict[str, Any]], Any]) -> None:
        """Call ``callback(message)`` for every message of one kind (a finished drag, a deletion...)."""
        if kind not in MESSAGE_TYPES:
            raise ValueError(f"unknown canvas message {kind!r}")
        self._handlers[kind] = callback

    def patch(self, revision: int, upserts: list[dict[str, Any]], removed: list[str], order: list[str] | None,
              *, by: str = "") -> None:
        """Send only what changed since the cards the canvas has: new or changed cards (whole entries),
        removed ids, and the back-to-front order when it changed; ``by`` names who changed them."""
        self._send_msg({"type": "patch", "rev": revision, "upserts": upserts, "removed": removed, "order": order,
                        "by": by})

    def show_presence(self, people: list[dict[str, Any]]) -> None:
        """Outline the others' selections in their colour and draw their cursors (names are set as text)."""
        self._send_msg({"type": "presence", "people": people})

    def select_cards(self, ids: list[str]) -> None:
        """Select these cards (e.g. the card a comment is pinned to)."""
        self._send_msg({"type": "select", "ids": ids})

    def show_pin(self, thread_id: str) -> None:
        """Bring a comment thread's marker to the middle of the view (outlined)."""
        self._send_msg({"type": "show_pin", "id": thread_id})

    def fit(self) -> None:
        """Zoom and pan so every card is in view."""
        self._send_msg({"type": "fit"})

    def _handle_msg(self, msg: Any) -> None:
        if isinstance(msg, dict) and isinstance(msg.get("type"), str) and msg["type"] in self._handlers:
            launch(self._handlers[msg["type"]](msg))


class PromptTray(JSComponent):
    """Short texts (story prompts) as cards to drag onto a board; Enter adds one."""

    texts = param.List(default=[], doc="The texts shown, one card each.")
    draggable = param.Boolean(default=True, doc="Whether the cards can be dragged onto the board.")
    empty_text = param.String(default="", doc="What to show when there are no texts.")

    _esm = STATIC / "tray.js"
    _stylesheets = ["""
.wb-tray { display: flex; flex-direction: column; gap: 8px; font-family: var(--wb-font, sans-serif); }
.wb-tray-card { border: 1px solid #d6d6d6; border-left: 3px solid #111; padding: 8px 10px; font-size: 13px;
  line-height: 1.4; background: #fff; cursor: grab; white-space: pre-wrap; word-break: break-word; }
.wb-tray-card:focus-visible { outline: 2px solid var(--wb-accent, #2f5bff); }
.wb-tray-empty { color: #777; font-size: 13px; }
"""]

    def __init__(self, **params: Any) -> None:
        self._on_add: Callable[[str], Any] | None = None
        super().__init__(**params)

    def on_add(self, callback: Callable[[str], Any]) -> None:
        """Call ``callback(text)`` when a card is chosen with the keyboard."""
        self._on_add = callback

    def _handle_msg(self, msg: Any) -> None:
        if isinstance(msg, dict) and msg.get("type") == "add" and isinstance(msg.get("text"), str) and self._on_add:
            launch(self._on_add(msg["text"]))
