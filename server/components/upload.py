"""A file dropper whose limits hold on the server, not only in the browser.

Panel's ``FileDropper`` checks ``max_file_size`` in the browser only and, on the
server, appends every chunk it is sent to a buffer: a script talking to the
websocket directly could make one session hold any amount of memory.
:class:`BoundedFileDropper` counts what arrives per file and in total, drops a
file the moment it goes over (its chunks are discarded, never joined) and says
so in ``refused``, which the page shows next to the file.
"""

from __future__ import annotations

from typing import Any

import panel as pn
import param

__all__ = ["BoundedFileDropper"]


def _human(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size // 1024} KB"


class BoundedFileDropper(pn.widgets.FileDropper):
    """``FileDropper`` with a per-file size cap and a cap on bytes held at once, enforced server-side."""

    refused = param.Dict(default={}, doc="File name -> why the server dropped it while it arrived.")

    # Server-side only: the browser's model has no such property.
    _rename = {**pn.widgets.FileDropper._rename, "refused": None}

    def __init__(self, *, max_file_bytes: int, max_held_bytes: int | None = None, **params: Any) -> None:
        self._max_file = int(max_file_bytes)
        # Several files arrive interleaved; what is held at once is bounded too (default: 4 files' worth).
        self._max_held = int(max_held_bytes or 4 * max_file_bytes)
        self._arrived: dict[str, int] = {}
        self._dropped: set[str] = set()
        mb = max(1, self._max_file // (1024 * 1024))
        super().__init__(max_file_size=f"{mb}MB", **params)  # the browser's check: a friendly early no

    def _refuse(self, name: str, why: str) -> None:
        self._file_buffer.pop(name, None)
        self._arrived.pop(name, None)
        self._dropped.add(name)
        self.refused = {**self.refused, name: why}

    def _process_event(self, event: Any) -> None:
        if event.event_name != "upload_event":
            super()._process_event(event)
            return
        data = event.data
        name, chunk, total = str(data["name"]), int(data["chunk"]), int(data["total_chunks"])
        size = len(data["data"] or b"")
        if chunk == 1:  # a file (re)starts: forget an earlier refusal of the same name
            self._dropped.discard(name)
            self._arrived[name] = 0
            if self.refused.get(name):
                self.refused = {k: v for k, v in self.refused.items() if k != name}
        if name in self._dropped or name not in self._arrived:
            return  # the rest of a refused file, or chunks of a file that never started
        self._arrived[name] += size
        if self._arrived[name] > self._max_file:
            self._refuse(name, f"{name} is larger than {_human(self._max_file)}, the upload limit.")
            return
        if sum(self._arrived.values()) > self._max_held:
            self._refuse(name, f"Too much arriving at once (over {_human(self._max_held)}); drop fewer files "
                               "at a time.")
            return
        super()._process_event(event)
        if chunk == total:
            self._arrived.pop(name, None)
