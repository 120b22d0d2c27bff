"""Uploads stay compact (issue #18, item 1): after eight stills, "Search by picture" and the
selection panel (tags, add to board) are still on screen at 1440x900, and each finished upload is
one line, not a full-width preview."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Visit
from tests.helpers import png_bytes, wait_for

pytestmark = pytest.mark.browser

VIEWPORT_HEIGHT = 900
ONE_LINE = 32  # px: a name and its state on one row


def _in_view(visit: Visit, selector: str, text: str | None = None) -> None:
    box = visit.page.locator(selector, has_text=text).first.bounding_box()
    assert box is not None, f"{selector} is not displayed"
    assert 0 <= box["y"] and box["y"] + box["height"] <= VIEWPORT_HEIGHT, f"{selector} is out of view: {box}"


def test_eight_uploads_leave_the_selection_panel_in_view(visit: Visit, served: Any, tmp_path: Path) -> None:
    stills = []
    for n in range(8):
        still = tmp_path / f"night-ferry-{n:02d}.png"
        # Large enough that FilePond would draw a big preview of each.
        still.write_bytes(png_bytes((30 + n * 25, 60, 160 - n * 12), seed=500 + n, size=(900, 600)))
        stills.append(str(still))
    visit.open("/library", ready=".wb-thumb")
    visit.page.locator(".wb-upload input[type=file]").set_input_files(stills)
    summary = visit.page.locator(".wb-upload-summary")
    summary.filter(has_text="8 added").wait_for(timeout=90_000)
    assert summary.inner_text() == "8 added"

    # Each finished upload is one line in the page's list; FilePond shows no previews and no finished items.
    rows = visit.page.locator(".wb-file")
    assert rows.count() == 8
    for n in range(8):
        box = rows.nth(n).bounding_box()
        assert box is None or box["height"] <= ONE_LINE, box  # (None: scrolled out of the capped list)
    assert visit.page.locator(".filepond--image-preview").evaluate_all(
        "els => els.filter(e => e.getBoundingClientRect().height > 0).length") == 0
    items = visit.page.locator(".filepond--item")
    in_transit = items.evaluate_all("els => els.map(e => e.getBoundingClientRect().height).filter(h => h > 0)")
    assert all(height <= ONE_LINE for height in in_transit), in_transit
    # FilePond marks the last file done a moment after the server has it; then its list is empty.
    wait_for(lambda: items.evaluate_all("els => els.filter(e => e.getBoundingClientRect().height > 0).length") == 0,
             message="FilePond's finished items to leave its list")

    # Clicking a still shows its panel, on screen.
    visit.page.locator(".wb-thumb").first.click()
    visit.page.locator(".wb-detail-name").wait_for(timeout=20_000)
    visit.page.locator(".wb-add-to-board button").wait_for(timeout=20_000)
    visit.screenshot("upload-compact")
    _in_view(visit, ".wb-picture-search")
    _in_view(visit, ".wb-section", "Search by picture")
    _in_view(visit, ".wb-detail-name")
    _in_view(visit, ".wb-tags input")
    _in_view(visit, ".wb-board-target select")
    _in_view(visit, ".wb-add-to-board button")
