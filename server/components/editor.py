"""A monospace Fountain editor (plain JavaScript) whose selection the server can read.

AI text streams in as small messages (:meth:`ScriptEditor.begin_stream`,
:meth:`~ScriptEditor.stream`, :meth:`~ScriptEditor.end_stream`): only the new
words cross the websocket, not the whole script once per word.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import param
from panel.custom import JSComponent

from server.design import STATIC
from server.session import launch

__all__ = ["ScriptEditor"]


class ScriptEditor(JSComponent):
    """The text of a screenplay, its selection (code-point offsets) and a Ctrl+S save request."""

    value = param.String(default="", doc="The text in the editor (synced shortly after typing stops).")
    selection = param.List(default=[0, 0], doc="[start, end] of the selection, in characters.")
    readonly = param.Boolean(default=False, doc="True while the AI writes into the editor.")
    follow = param.Boolean(default=False, doc="Keep the view scrolled to the end as text arrives (AI writing).")
    placeholder = param.String(default="", doc="What the empty editor says.")

    _esm = STATIC / "editor.js"
    _stylesheets = ["""
:host { display: block; }
.wb-editor { box-sizing: border-box; width: 100%; height: calc(100vh - 300px); min-height: 380px; resize: vertical;
  font: 13px/1.45 "Courier Prime", "Courier New", Courier, "Liberation Mono", monospace; color: #111;
  border: 1px solid #cfcfcf; border-radius: 2px; padding: 16px 18px; background: #fff; tab-size: 4; }
.wb-editor:focus { outline: 2px solid var(--wb-accent, #2f5bff); outline-offset: -1px; border-color: transparent; }
.wb-editor[readonly] { background: #fafafa; }
"""]

    def __init__(self, **params: Any) -> None:
        self._on_save: Callable[[], Any] | None = None
        super().__init__(**params)

    def on_save(self, callback: Callable[[], Any]) -> None:
        """Call ``callback()`` when the writer presses Ctrl+S."""
        self._on_save = callback

    def begin_stream(self, start: int, end: int, prefix: str = "") -> None:
        """Start showing AI text in place of characters ``start:end`` (code points), after ``prefix``."""
        self._send_msg({"type": "stream-start", "start": int(start), "end": int(end), "prefix": prefix})

    def stream(self, text: str) -> None:
        """Show the next piece of AI text where the stream began."""
        self._send_msg({"type": "stream", "text": text})

    def end_stream(self) -> None:
        """Stop streaming and show :attr:`value` again (the saved text, kept or rolled back)."""
        self._send_msg({"type": "stream-end"})

    def _handle_msg(self, msg: Any) -> None:
        if isinstance(msg, dict) and msg.get("type") == "save" and self._on_save:
            launch(self._on_save())
