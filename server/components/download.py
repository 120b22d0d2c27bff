"""A download button whose file is made off the event loop, and that says so while it works.

Panel's ``FileDownload`` calls a plain callback on the Tornado event loop, so a
long export would freeze every session of the server. Here the callback is a
coroutine (Panel 1.9 awaits those): ``prepare`` runs the service call in a
thread (``Session.run``) and hands back the bytes. While it runs the button
reads "Preparing PDF…"; when it fails, ``prepare`` has already told the person
why and returns None, and nothing is handed to the browser (Panel itself would
raise "Cannot transfer unknown object of type NoneType").

The file name is the title as the person wrote it, made safe to save on any
system (``workbench.boards.export.download_name``): accents kept, ``<>:"/\\|?*``
gone, ``CON.pdf`` renamed. Panel hands the bytes to the browser as a blob with
the name in the link's ``download`` attribute, which takes UTF-8 as it is (no
percent-encoding). An HTTP response that sends a file uses
:func:`content_disposition`: an ASCII ``filename=`` plus the RFC 5987
``filename*=UTF-8''...`` that browsers prefer (RFC 6266).
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import panel as pn

from workbench.boards.export import download_name

__all__ = ["Export", "content_disposition", "safe_download_name"]


def safe_download_name(filename: str, *, ascii_only: bool = False, fallback: str = "download") -> str:
    """``filename`` made safe to save (see ``download_name``), keeping its extension."""
    stem, dot, extension = filename.rpartition(".")
    if not dot:
        stem, extension = filename, ""
    return download_name(stem, extension, ascii_only=ascii_only, fallback=fallback)


def content_disposition(filename: str, disposition: str = "attachment", *, fallback: str = "download") -> str:
    """A Content-Disposition header value for a download: ASCII fallback plus the UTF-8 form.

    >>> content_disposition("Crème brûlée.pdf")
    'attachment; filename="Creme brulee.pdf"; filename*=UTF-8\'\'Cr%C3%A8me%20br%C3%BBl%C3%A9e.pdf'
    """
    name = safe_download_name(filename, fallback=fallback)
    plain = safe_download_name(filename, ascii_only=True, fallback=fallback)  # quotes and backslashes are gone already
    header = f'{disposition}; filename="{plain}"'
    if name != plain:
        header += f"; filename*=UTF-8''{quote(name, safe='')}"
    return header


class Export(pn.widgets.FileDownload):
    """Download the bytes ``prepare()`` makes; ``busy_label`` shows while they are made."""

    def __init__(self, prepare: Callable[[], Awaitable[bytes | None]], *, busy_label: str = "Preparing…",
                 **params: Any) -> None:
        self._prepare = prepare
        self._busy_label = busy_label
        self._preparing = False
        if params.get("filename"):
            params["filename"] = safe_download_name(str(params["filename"]))
        super().__init__(callback=self._make, **params)

    async def _make(self) -> io.BytesIO | None:
        if self._preparing:
            return None  # a second click while the first export runs: one file is enough
        label = self.label
        self._preparing = True
        self.param.update(label=self._busy_label, loading=True)
        try:
            data = await self._prepare()
        finally:
            self._preparing = False
            self.param.update(label=label, loading=False)
        return None if data is None else io.BytesIO(data)

    def _sync_data(self, fileobj: Any) -> None:
        if fileobj is None:
            return  # the export failed and said why; there is nothing to hand over
        super()._sync_data(fileobj)
