"""A file dropper whose limits hold on the server, not only in the browser.

Panel's ``FileDropper`` checks ``max_file_size`` in the browser only and, on the
server, appends every chunk it is sent to a buffer: a script talking to the
websocket directly could make one session hold any amount of memory.
:class:`BoundedFileDropper` counts what arrives per file and in total, drops a
file the moment it goes over (its chunks are discarded, never joined) and says
so in ``refused``, which the page shows next to the file.

It is also compact (issue #18): FilePond's default item is a full-width image
preview, and eight of them pushed the library's selection panel below the fold.
Here a file in transit is one 28 px line (name and progress), a finished one
leaves FilePond's list (the page's own list says added / already here / not
added), and the list scrolls past a few lines.
"""

from __future__ import annotations

from typing import Any

import panel as pn
import param

__all__ = ["BoundedFileDropper"]


# In the dropper's shadow root, over FilePond's own CSS. FilePond sizes and places its items from their
# measured boxes and reads the root's computed max-height to make the list scroll, so plain CSS is enough.
# (Not hiding the image preview with CSS: with the plugin loaded, a hidden preview stalled every upload
# at "busy processing". The previews stay off by never registering the plugin, see __init__.)
COMPACT_CSS = """
/* Doubled class: FilePond's own rules (and its 'compact' layout's) are at least this specific. */
.filepond--root.filepond--root { max-height: 170px; margin-bottom: 0; }
.filepond--root.filepond--root .filepond--drop-label { min-height: 48px; }
.filepond--root.filepond--root .filepond--drop-label label { padding: 8px; font-size: 14px; }
.filepond--root.filepond--root .filepond--item { margin: 2px 4px; }
/* One grey for the whole drop area (the label's): a dropper given a fixed height showed a second band. */
.filepond--root.filepond--root .filepond--panel-root { background-color: var(--panel-surface-color, #f1f1f1); }
.filepond--root.filepond--root .filepond--list-scroller[data-state='overflow'] { overflow-y: auto; }
.filepond--file { padding: 4px 8px; align-items: center; }
.filepond--file-info-sub, .filepond--file-status-sub { display: none; }
.filepond--file-info-main, .filepond--file-status-main { font-size: 12px; line-height: 20px; }
.filepond--file-action-button { width: 20px; height: 20px; }
/* Finished: the page's own compact list takes over (added / already here / not added). */
.filepond--item[data-filepond-item-state='processing-complete'] { display: none; }
"""


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
        # No previews: a still's full-width preview per file is what pushed the page's panels out of view.
        # FilePond registers a plugin for the whole page, so every dropper on a page must leave it off.
        params.setdefault("previews", [])
        params["stylesheets"] = [COMPACT_CSS, *params.get("stylesheets", [])]
        super().__init__(max_file_size=f"{mb}MB", **params)  # the browser's check: a friendly early no

    def _process_param_change(self, params: dict[str, Any]) -> dict[str, Any]:
        params = super()._process_param_change(params)
        # Bokeh leaves out a property equal to its Python default ([]), and the browser's default is
        # ["image", "pdf"]: an empty list never arrives. A name that is no preview does.
        if "previews" in params and not params["previews"]:
            params["previews"] = ["none"]
        return params

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
