"""The embedded image backend: it makes no images.

Offline, a Magic Board does not paint frames; it finds them. ``generate``
returns None, and the caller falls back to retrieving the closest pictures
from the filmmaker's library with the embedder.
"""

from __future__ import annotations

from workbench.ai.base import ImageBackend

__all__ = ["OfflineImageBackend"]


class OfflineImageBackend(ImageBackend):
    """Always answers "no image": the signal to retrieve from the library instead."""

    model_id = "offline-library-retrieval/v1"
    offline = True

    def generate(self, prompt: str, *, size: str = "1024x1024", seed: int | None = None) -> bytes | None:
        """None: offline boards use library retrieval in place of generation."""
        return None
