"""A download button whose file is made off the event loop, and that says so while it works.

Panel's ``FileDownload`` calls a plain callback on the Tornado event loop, so a
long export would freeze every session of the server. Here the callback is a
coroutine (Panel 1.9 awaits those): ``prepare`` runs the service call in a
thread (``Session.run``) and hands back the bytes. While it runs the button
reads "Preparing PDF…"; when it fails, ``prepare`` has already told the person
why and returns None, and nothing is handed to the browser (Panel itself would
raise "Cannot transfer unknown object of type NoneType").
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from typing import Any

import panel as pn

__all__ = ["Export"]


class Export(pn.widgets.FileDownload):
    """Download the bytes ``prepare()`` makes; ``busy_label`` shows while they are made."""

    def __init__(self, prepare: Callable[[], Awaitable[bytes | None]], *, busy_label: str = "Preparing…",
                 **params: Any) -> None:
        self._prepare = prepare
        self._busy_label = busy_label
        self._preparing = False
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
