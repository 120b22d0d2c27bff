"""Why this result (issue #17, part 6): the labels the offline embedder saw in a still, with scores."""

from __future__ import annotations

from pathlib import Path

from server.components.grid import grid_entry
from tests.helpers import open_wb, sample_bytes


def test_a_still_keeps_what_the_embedder_saw_and_the_grid_shows_it_on_hover(tmp_path: Path) -> None:
    wb = open_wb(tmp_path)
    try:
        me = wb.accounts.create_user("ana@studio.test")
        image = wb.library.ingest(me, sample_bytes("chelsea.png"), filename="chelsea.png", wait=True)
        stored = wb.library.get(me, image.id)
        assert stored.ready and stored.label_scores, stored
        names = [name for name, _ in stored.label_scores]
        scores = [score for _, score in stored.label_scores]
        assert names[:len(stored.labels)] == stored.labels[:len(names)]  # the same words, best first
        assert scores == sorted(scores, reverse=True) and 0 < scores[0] <= 1
        assert any(word in " ".join(names) for word in ("cat", "tabby", "tiger", "lynx")), names  # Chelsea is a cat
        why = grid_entry(stored)["why"]
        assert why.startswith(f"{names[0]} {scores[0]:.2f}") and why.count(",") == min(3, len(names)) - 1
    finally:
        wb.close()
