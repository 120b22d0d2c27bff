"""A grid of library thumbnails (plain JavaScript): select, find similar, load more, drag out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import param
from panel.custom import JSComponent

from server.design import STATIC
from server.session import launch
from workbench.library.model import LibraryImage
from workbench.search import SearchHit, thumbnail_url

__all__ = ["ImageGrid", "display_title", "grid_entry", "hit_entries"]


def display_title(image: LibraryImage) -> str:
    """The name a still goes by on every page: a sample's title ("Chelsea the cat"), else its file name."""
    return image.caption.split(" — ")[0] if image.source == "sample" and image.caption else image.filename


def grid_entry(image: LibraryImage, *, score: float | None = None, thumb: str | None = None,
               raw: float | None = None) -> dict[str, Any]:
    """What the grid needs to draw one image (plain values; the browser escapes them as text)."""
    return {
        "id": image.id,
        "thumb": thumb or thumbnail_url(image.id),
        "title": display_title(image),
        "tags": list(image.tags[:4]),
        "status": image.status,
        "score": score,
        "raw": raw,  # the cosine behind a calibrated score, for the badge's tooltip
        # "Why this result": what the embedder saw, on hover ("macaw 0.97, lorikeet 0.01").
        "why": ", ".join(f"{name} {value:.2f}" for name, value in image.label_scores[:3]),
    }


def hit_entries(hits: list[SearchHit]) -> list[dict[str, Any]]:
    """Grid entries for search results, best first, with their match score (and raw cosine when calibrated)."""
    return [grid_entry(h.image, score=h.score, thumb=h.thumbnail_url, raw=h.raw_score) for h in hits]


class ImageGrid(JSComponent):
    """Thumbnails in a responsive grid; selection syncs to ``selected``."""

    images = param.List(default=[], doc="The images shown, as grid entries (see grid_entry).")
    selected = param.List(default=[], doc="Ids of the selected images.")
    has_more = param.Boolean(default=False, doc="Whether another page can be loaded.")
    empty_text = param.String(default="No images yet.", doc="What to say when there is nothing to show.")
    multi = param.Boolean(default=True, doc="A click adds to the selection instead of replacing it.")
    actions = param.Boolean(default=True, doc="Show the 'Similar' button on each thumbnail.")
    draggable = param.Boolean(default=False, doc="Thumbnails can be dragged onto a board canvas.")
    compact = param.Boolean(default=False, doc="Small thumbnails without tags (side panels).")

    _esm = STATIC / "grid.js"
    # The score badge sits on the picture, where the eye already is (black and white, like the rest).
    _stylesheets = [(STATIC / "grid.css").read_text(), """
.wb-thumb-score { position: absolute; bottom: 6px; right: 6px; background: #111; color: #fff; font-size: 11px;
  padding: 1px 6px; border-radius: 2px; font-variant-numeric: tabular-nums; }
"""]

    def __init__(self, **params: Any) -> None:
        self._on_more: Callable[[], Any] | None = None
        self._on_similar: Callable[[str], Any] | None = None
        super().__init__(**params)

    def on_more(self, callback: Callable[[], Any]) -> None:
        """Call ``callback()`` when the viewer scrolls to the end (load the next page)."""
        self._on_more = callback

    def on_similar(self, callback: Callable[[str], Any]) -> None:
        """Call ``callback(image_id)`` when 'Similar' is clicked on a thumbnail."""
        self._on_similar = callback

    def _handle_msg(self, msg: Any) -> None:
        if not isinstance(msg, dict):
            return None
        if msg.get("type") == "more" and self._on_more:
            launch(self._on_more())
        elif msg.get("type") == "similar" and self._on_similar and isinstance(msg.get("id"), str):
            launch(self._on_similar(msg["id"]))
