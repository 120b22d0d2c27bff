"""What every embedder promises, and the plumbing they share.

An embedder turns stills and words into unit vectors in **one** space, so a
text query ("rain on a neon street") and an image query ("more like this
frame") search the same vector column. Scores are cosine similarities; since
every vector is L2-normalised, a plain dot product gives them.

Torch is imported inside the functions that need it, so importing this module
(and ``workbench.embed``) stays cheap for code that never embeds anything.
"""

from __future__ import annotations

import abc
import os
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from PIL import Image

from workbench.errors import InvalidInput

if TYPE_CHECKING:
    import torch

__all__ = ["Embedder", "pick_device", "limit_torch_threads", "l2_normalise", "as_rgb", "in_batches"]

T = TypeVar("T")

# Thread variables a person sets on purpose; when any is present we leave torch alone.
_THREAD_ENV_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "TORCH_NUM_THREADS")
# Half the cores, at most four: embedding shares the machine with the web app's threads, and
# torch's default (every core) makes both crawl when they overlap (measured: 2 threads on a busy
# 2-core machine embed at half the speed of 1).
_MAX_TORCH_THREADS = 4


class Embedder(abc.ABC):
    """Turns stills and words into L2-normalised float32 vectors of one shared space.

    Subclasses say how to load their model (``_load``) and how to run it; the base
    class makes sure the model is loaded once, on first use, whichever thread asks.
    """

    model_id: str
    dimension: int

    def __init__(self) -> None:
        # The UI's threads and the background ingest worker share one embedder; without
        # this lock two first calls arriving together would each load a copy of the model.
        self._load_lock = threading.Lock()
        self._model: Any = None

    @abc.abstractmethod
    def _load(self) -> Any:
        """Load the model and everything it needs; called once, under the lock."""

    def _loaded(self) -> Any:
        """The loaded model, loading it on first use."""
        if self._model is None:
            with self._load_lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    @property
    def is_loaded(self) -> bool:
        """Whether the model weights are already in memory."""
        return self._model is not None

    @abc.abstractmethod
    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        """One unit vector per still, shape ``(len(images), dimension)``, float32."""

    @abc.abstractmethod
    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """One unit vector per text, shape ``(len(texts), dimension)``, float32, same space as images."""

    def embed_and_describe(self, images: Sequence[Image.Image]) -> tuple[np.ndarray, list[list[tuple[str, float]]]]:
        """Vectors and labels of a batch; models that get both from one pass override this."""
        return self.embed_images(images), [self.describe_image(image) for image in images]

    def describe_image(self, image: Image.Image) -> list[tuple[str, float]]:
        """What the model sees in a still: labels with a probability, most likely first.

        Embedders that cannot name things return an empty list.
        """
        return []

    def _empty(self) -> np.ndarray:
        return np.zeros((0, self.dimension), dtype=np.float32)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model_id={self.model_id!r}, dimension={self.dimension})"


def pick_device(setting: str) -> torch.device:
    """The torch device for a settings value: 'auto' takes a GPU when one is present."""
    import torch

    if setting == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(setting)
    except RuntimeError as error:
        raise InvalidInput(
            f"The embedder device {setting!r} is not one torch knows; use 'auto', 'cpu' or 'cuda'."
        ) from error


_threads_limited = False


def limit_torch_threads() -> None:
    """Give torch half the CPU cores (1 to 4), unless the person running us chose a number."""
    global _threads_limited
    if _threads_limited:
        return
    _threads_limited = True
    if any(os.environ.get(name) for name in _THREAD_ENV_VARS):
        return
    import torch

    torch.set_num_threads(
        max(1, min(_MAX_TORCH_THREADS, (os.cpu_count() or 2) // 2, torch.get_num_threads()))
    )


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (all-zero rows stay zero), as float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


def as_rgb(image: Image.Image) -> Image.Image:
    """The still as 8-bit RGB: transparency laid over white, 16-bit and float greys rescaled."""
    if image.width < 1 or image.height < 1:
        raise InvalidInput("This image has no pixels (0 wide or 0 high); it cannot be embedded.")
    if image.mode == "RGB":
        return image
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        values = np.asarray(image, dtype=np.float32)
        low, high = float(values.min()), float(values.max())
        scaled = (values - low) / (high - low) * 255.0 if high > low else np.zeros_like(values)
        return Image.fromarray(scaled.astype(np.uint8), "L").convert("RGB")
    if "A" in image.mode or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def in_batches(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Consecutive slices of at most ``size`` items (a size below 1 counts as 1)."""
    size = max(1, int(size))
    for start in range(0, len(items), size):
        yield items[start : start + size]
