"""Small builders the tests share: real images made with Pillow, fresh workbenches."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from workbench import Settings, Workbench
from workbench.boards import ACCESS_ENDED, BoardEvent

SAMPLES = Path(__import__("skimage").__file__).parent / "data"


def png_bytes(color: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (64, 48), seed: int = 0) -> bytes:
    """A small real PNG with some texture so embeddings differ."""
    rng = np.random.default_rng(seed)
    arr = np.clip(np.array(color)[None, None, :] + rng.integers(-40, 40, (size[1], size[0], 3)), 0, 255)
    out = io.BytesIO()
    Image.fromarray(arr.astype("uint8")).save(out, format="PNG")
    return out.getvalue()


def sample_bytes(name: str) -> bytes:
    """A bundled scikit-image photo (public domain), e.g. 'chelsea.png' (a cat)."""
    return (SAMPLES / name).read_bytes()


def open_wb(tmp_path: Path, **overrides: object) -> Workbench:
    """A workbench on the embedded default under tmp_path."""
    settings = Settings(home=tmp_path / "wb", **overrides)  # type: ignore[arg-type]
    settings.library.load_samples = False
    return Workbench(settings)


def sampled_wb(tmp_path: Path) -> Workbench:
    """A workbench on the embedded default with the sample photos embedded (for search-driven tests)."""
    from workbench.samples import load_samples

    wb = open_wb(tmp_path)
    load_samples(wb.accounts, wb.library, wait=True)
    return wb


def wait_for(predicate: Callable[[], bool], timeout: float = 20.0, message: str = "condition") -> None:
    """Poll ``predicate`` every 0.1 s until it holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {message}")


class Heard:
    """A board-event listener that keeps every event it is told about (from any thread)."""

    def __init__(self) -> None:
        self.events: list[BoardEvent] = []
        self._lock = threading.Lock()

    def __call__(self, event: BoardEvent) -> None:
        with self._lock:
            self.events.append(event)

    def seqs(self, board_id: str | None = None) -> list[int]:
        """The sequence numbers heard (of one board, if given), leaving out the stream's access-ended notice."""
        with self._lock:
            return [e.seq for e in self.events if e.kind != ACCESS_ENDED and board_id in (None, e.board_id)]

    def kinds(self) -> list[str]:
        with self._lock:
            return [e.kind for e in self.events]
