"""Hybrid search people can steer (#17 part 5), in the browser: words + an example still with a weight,
a threshold that changes the count, sort by newest, load more, and a saved search reopened."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Visit
from tests.helpers import png_bytes

pytestmark = pytest.mark.browser


def _me(served: Any) -> Any:
    return served.wb.accounts.local_user()


def _count(visit: Visit) -> int:
    text = visit.page.locator(".wb-threshold-count").inner_text()
    found = re.match(r"([\d,]+)", text)
    assert found, text
    return int(found.group(1).replace(",", ""))


def _search(visit: Visit, words: str) -> None:
    box = visit.page.get_by_placeholder("Search by words", exact=False)
    box.fill(words)
    box.press("Enter")
    visit.page.get_by_text("results for", exact=False).wait_for(timeout=20_000)


def _set_threshold(visit: Visit, fraction: float) -> None:
    """Click the threshold slider's track at ``fraction`` of its width (what a person does)."""
    track = visit.page.locator(".wb-threshold .noUi-target")
    track.scroll_into_view_if_needed()
    box = track.bounding_box()
    assert box is not None
    visit.page.mouse.click(box["x"] + box["width"] * fraction, box["y"] + box["height"] / 2)


@pytest.fixture(scope="module")
def filler(served: Any) -> list[str]:
    """60 small stills of the local user's, so a search has more than one page (48) of results."""
    result = served.wb.library.ingest_many(
        _me(served), [(f"fill-{n:02d}.png", png_bytes((20 + n * 3, 120, 200 - n * 2), seed=300 + n))
                      for n in range(60)], tags=["fill"], wait=True)
    return [image.id for image in result.added]


def test_a_weighted_query_with_a_threshold_a_sort_and_more_pages(visit: Visit, served: Any, filler: list[str]) -> None:
    visit.open("/library", ready=".wb-thumb")
    _search(visit, "a cat")
    thumbs = visit.page.locator(".wb-thumb")
    assert thumbs.count() == 48  # one page; more below
    assert visit.page.locator(".wb-thumb-score").count() == 48  # a score on every result
    assert "cat" in visit.page.locator(".wb-thumb-title").first.inner_text().lower()
    everything = _count(visit)
    assert everything > 48
    # Load more: the next page comes under the first.
    visit.page.locator(".wb-grid-more").click()
    expect(thumbs).to_have_count(min(everything, 96), timeout=20_000)

    # The threshold: fewer results above it, and the count says so.
    _set_threshold(visit, 0.55)
    visit.page.get_by_text(re.compile(r"results? above")).first.wait_for(timeout=20_000)
    expect(visit.page.locator(".wb-threshold-count")).not_to_have_text(re.compile(f"^{everything} "), timeout=20_000)
    kept = _count(visit)
    assert 0 < kept < everything
    expect(thumbs).to_have_count(min(kept, 48), timeout=20_000)
    scores = [float(s) for s in visit.page.locator(".wb-thumb-score").all_inner_texts()]
    assert min(scores) >= 0.5 and scores == sorted(scores, reverse=True)

    # An example still from the selection, with the weight towards the picture.
    visit.page.locator(".wb-thumb").first.click()
    add = visit.page.locator(".wb-add-example button")
    add.wait_for(timeout=10_000)
    expect(add).to_be_enabled(timeout=10_000)
    add.click()
    visit.page.locator(".wb-example-chip").first.wait_for(timeout=20_000)
    visit.page.get_by_text("1 example still", exact=False).first.wait_for(timeout=20_000)
    assert visit.page.locator(".wb-weight").is_visible()
    # A picture counts as relevant when it shows the same shot or scene; nothing else here does, so
    # at 0.5 the page says how to widen the search, and a lower threshold brings the near ones back.
    _set_threshold(visit, 0.02)
    expect(visit.page.locator(".wb-threshold-count")).to_have_text(re.compile(r"^\d+ results?$"), timeout=20_000)
    expect(visit.page.locator(".wb-thumb-score").first).to_be_visible(timeout=20_000)
    visit.screenshot("library-hybrid-search")

    # Sort by newest: the same results above the threshold, newest first.
    visit.page.locator(".wb-sort select").select_option(label="Newest")
    visit.page.get_by_text("newest first", exact=False).first.wait_for(timeout=20_000)
    ids = [visit.page.locator(".wb-thumb").nth(i).get_attribute("data-id") for i in range(thumbs.count())]
    images = served.wb.library.get_many([i for i in ids if i])
    stamps = [images[i].created_at for i in ids if i]
    assert stamps == sorted(stamps, reverse=True)
    assert not visit.errors, visit.errors


def test_save_a_search_and_open_it_again(visit: Visit, served: Any) -> None:
    wb, me = served.wb, _me(served)
    visit.open("/library", ready=".wb-thumb")
    _search(visit, "a cup of coffee")
    _set_threshold(visit, 0.5)
    visit.page.get_by_text(re.compile(r"results? above")).first.wait_for(timeout=20_000)
    name = visit.page.locator(".wb-save-name input")
    name.fill("Morning coffee")
    visit.page.locator(".wb-save-search button").click()
    visit.page.get_by_text("Saved “Morning coffee”", exact=False).first.wait_for(timeout=20_000)
    saved = next(s for s in wb.search.saved(me) if s.name == "Morning coffee")
    assert saved.query.text == "a cup of coffee" and saved.query.min_score >= 0.45

    visit.open("/library", ready=".wb-thumb")  # a fresh page: nothing typed
    menu = visit.page.locator(".wb-saved-searches select")
    menu.select_option(label="Morning coffee")
    visit.page.get_by_text(re.compile(r"results? above")).first.wait_for(timeout=20_000)
    assert visit.page.get_by_placeholder("Search by words", exact=False).input_value() == "a cup of coffee"
    assert "coffee" in visit.page.locator(".wb-thumb-title").first.inner_text().lower()
    visit.screenshot("library-hybrid-saved")
    visit.page.locator(".wb-delete-saved button").click()
    visit.page.get_by_text("Saved search deleted", exact=False).first.wait_for(timeout=20_000)
    assert all(s.name != "Morning coffee" for s in wb.search.saved(me))
    assert not visit.errors, visit.errors
