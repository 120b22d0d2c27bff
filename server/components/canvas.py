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

__all__ = ["BoardCanvas", "PromptTray", "canvas_entry", "MESSAGE_TYPES"]

MESSAGE_TYPES = ("move", "remove", "front", "undo", "redo", "edit", "drop", "add_note")


def canvas_entry(item: BoardItem, view: BoardView, grant: str | None = None) -> dict[str, Any]:
    """One card as the canvas draws it (plain values; the browser sets every string as text).

    ``grant`` is a link holder's sealed share token (``server.media.seal_grant``), never the token itself.
    """
    entry: dict[str, Any] = {
        "id": item.id, "kind": item.kind, "x": item.x, "y": item.y, "w": item.w, "h": item.h, "z": item.z,
        "text": item.text, "caption": item.caption, "color": item.color, "url": item.url,
    }
    if item.kind == "image":
        image = view.images.get(item.image_id or "")
        entry["missing"] = image is None
        entry["title"] = image.filename if image else ""
        query = f"?grant={grant}" if grant else ""
        entry["src"] = f"/media/board/{view.board.id}/{item.image_id}{query}"
    return entry


class BoardCanvas(JSComponent):
    """A free canvas of cards; ``on(kind, callback)`` receives the gestures (see MESSAGE_TYPES)."""

    items = param.List(default=[], doc="The cards, back to front, as canvas entries.")
    editable = param.Boolean(default=False, doc="Whether gestures that change the board are allowed.")
    revision = param.Integer(default=0, doc="The board revision the items show; a new one redraws every card.")

    _esm = STATIC / "canvas.js"
    _stylesheets = [(STATIC / "canvas.css").read_text()]

    def __init__(self, **params: Any) -> None:
        self._handlers: dict[str, Callable[[dict[str, Any]], Any]] = {}
        super().__init__(**params)

    def on(self, kind: str, callback: Callable[[dict[str, Any]], Any]) -> None:
        """Call ``callback(message)`` for every message of one kind (a finished drag, a deletion...)."""
        if kind not in MESSAGE_TYPES:
            raise ValueError(f"unknown canvas message {kind!r}")
        self._handlers[kind] = callback

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
