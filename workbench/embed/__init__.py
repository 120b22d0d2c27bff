"""Embedders: turn stills and words into vectors of one shared space.

``build_embedder(settings.embedder)`` is the single place that picks one:

* ``offline`` (default): EfficientNet-Lite0 + MiniLM, weights shipped in pip
  packages, no network (see ``workbench.embed.offline``);
* ``clip``: an open_clip model from a local checkpoint (see ``workbench.embed.clip``).

Building is cheap; the weights load on first use, once per process.

>>> from workbench.settings import EmbedderSettings
>>> embedder = build_embedder(EmbedderSettings())
>>> embedder.model_id
'offline:effnet-lite0+minilm-l6-v2/v5'
"""

from __future__ import annotations

import threading

from workbench.embed.base import Embedder
from workbench.settings import EmbedderSettings

__all__ = ["Embedder", "build_embedder"]

_built: dict[tuple[str, str, str, str, int], Embedder] = {}
_built_lock = threading.Lock()


def build_embedder(settings: EmbedderSettings) -> Embedder:
    """The embedder these settings describe; the same object (and model) for equal settings.

    Raises ``InvalidInput`` when the settings cannot work on this machine, for
    example a CLIP embedder with no local checkpoint.
    """
    key = (settings.name, settings.clip_model, settings.clip_checkpoint, settings.device, settings.batch_size)
    with _built_lock:
        if key not in _built:
            _built[key] = _make(settings)
        return _built[key]


def _make(settings: EmbedderSettings) -> Embedder:
    # Each backend module is imported only when chosen: they pull in torch and friends.
    match settings.name:
        case "offline":
            from workbench.embed.offline import OfflineEmbedder

            return OfflineEmbedder(device=settings.device, batch_size=settings.batch_size)
        case "clip":
            from workbench.embed.clip import ClipEmbedder

            return ClipEmbedder(
                settings.clip_model,
                settings.clip_checkpoint,
                device=settings.device,
                batch_size=settings.batch_size,
            )
        case other:
            from workbench.errors import InvalidInput

            raise InvalidInput(f"There is no embedder called {other!r}; use 'offline' or 'clip'.")
