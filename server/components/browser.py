"""A hidden component that lets a page steer the browser: open a page, copy a link."""

from __future__ import annotations

from typing import Any

from panel.custom import JSComponent

from server.design import STATIC

__all__ = ["Browser"]


class Browser(JSComponent):
    """Navigate to a URL of this app or copy text to the clipboard, on the server's request."""

    _esm = STATIC / "browser.js"

    def __init__(self, **params: Any) -> None:
        super().__init__(width=0, height=0, margin=0, **params)

    def navigate(self, url: str) -> None:
        """Open another page of the app (a path such as ``/board?id=...``)."""
        self._send_msg({"type": "navigate", "url": url})

    def replace_url(self, url: str) -> None:
        """Change the address bar without reloading (so the URL names what is on screen)."""
        self._send_msg({"type": "replace_url", "url": url})

    def copy(self, text: str) -> None:
        """Put text on the clipboard."""
        self._send_msg({"type": "copy", "text": text})
