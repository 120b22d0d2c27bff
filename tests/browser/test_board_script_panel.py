"""The storyboard board's "Script" panel in Chromium (issue #22, part 6).

The 3-page sample script (one line of it hostile HTML) is storyboarded, its
last scene cut from the script and the board updated, then the script edited
once more. On the board: the panel says which version it reads, clicking a
frame marks that frame's lines in its scene and scrolls them into view,
clicking a scene-heading card scrolls the script to that scene, a cut frame
says so, and the hostile line shows as text. "Update from script" shows
what would change, then brings the board up to the script's version.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import Visit
from tests.helpers import wait_for
from workbench.writing.scene_lines import scene_spans

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

SAMPLE = (Path(__file__).parent.parent / "data" / "three_pages.fountain").read_text(encoding="utf-8")
HOSTILE = "<img src=x onerror=alert(1)> & <b>bold</b>"
TOWEL = "She helps him out. Hands him a towel from a hook."


def _click_card(visit: Visit, item_id: str) -> None:
    card = visit.page.locator(f'.wb-card[data-id="{item_id}"]')
    card.wait_for(state="visible", timeout=20_000)
    card.scroll_into_view_if_needed()
    box = card.bounding_box()
    assert box is not None
    visit.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 3)


def _inside(visit: Visit, selector: str) -> bool:
    """Whether the first element matching ``selector`` is within the script's visible (scrolled) area."""
    text = visit.page.locator(".wb-script-text").bounding_box()
    node = visit.page.locator(selector).first.bounding_box()
    return bool(text and node and node["y"] >= text["y"] - 1 and node["y"] + node["height"] <= text["y"]
                + text["height"] + 1)


def test_the_script_panel_follows_frames_and_scene_headings(visit: Visit, served) -> None:  # noqa: ANN001
    wb, me = served.wb, served.wb.accounts.local_user()
    assert TOWEL in SAMPLE
    doc = wb.writing.create(me, "screenplay", "Ferry script panel", SAMPLE.replace(TOWEL, f"{TOWEL} {HOSTILE}"))
    board_id = wb.storyboards.create(me, doc.id, frames_per_scene=2).storyboard.board_id
    body = wb.writing.get(me, doc.id).body
    spans = scene_spans(body)
    lines = body.split("\n")
    wb.writing.save(me, doc.id, "\n".join(lines[: spans[-1].start]).rstrip("\n") + "\n", note="last scene out")
    wb.storyboards.update_from_script(me, board_id)  # its row stays, marked cut
    edited = wb.writing.get(me, doc.id).body.replace("A DOCKHAND (20s) coils rope, yawning.",
                                                     "A DOCKHAND (20s) coils rope, yawning.\n\nThe horn sounds twice.")
    wb.writing.save(me, doc.id, edited, note="the horn")
    board = wb.storyboards.get(me, board_id)
    live, cut = board.live_scenes, [s for s in board.scenes if s.status == "cut"]
    assert len(live) == 4 and len(cut) == 1

    visit.open(f"/board?id={board_id}", ready=".wb-board[data-ready='1']")
    page = visit.page
    panel = page.locator(".wb-script-panel")
    panel.wait_for(state="visible", timeout=30_000)
    version = page.locator(".wb-script-version")
    wait_for(lambda: version.count() == 1, message="the script panel to say what it reads")
    assert version.inner_text() == "Reading Ferry script panel · version 3."
    assert "drawn from version 2" in page.locator(".wb-script-behind").inner_text()
    assert page.locator(".wb-script-empty").inner_text() == "Select a frame to read its scene."
    assert page.locator(".wb-script-scene").count() == 4
    visit.screenshot("board-script-empty")
    # The hostile line reads as the writer typed it; nothing of it became an element.
    words = page.locator(".wb-script-words")
    assert any(HOSTILE in t for t in words.all_inner_texts())
    assert page.locator(".wb-script-text img").count() == 0 and page.locator(".wb-script-text b").count() == 0

    # A frame of the third scene: its lines (as the script reads now, one line lower) marked and in view.
    script = wb.storyboards.board_script(me, board_id)
    assert script is not None
    frame = live[2].frames[-1]
    place = script.place(frame.item_id)
    assert place is not None and place.first_line == frame.first_line + 2  # the horn's two lines above it
    _click_card(visit, frame.item_id)
    marked = page.locator(".wb-script-line.wb-script-hl")
    wait_for(lambda: marked.count() == place.last_line - place.first_line + 1, message="the frame's lines marked")
    assert [int(n) for n in page.locator(".wb-script-hl .wb-script-no").all_inner_texts()] == list(
        range(place.first_line, place.last_line + 1))
    assert "\n".join(page.locator(".wb-script-hl .wb-script-words").all_inner_texts()) == frame.beat
    assert page.locator(".wb-script-current").get_attribute("data-scene") == "2"
    wait_for(lambda: _inside(visit, ".wb-script-hl"), message="the marked lines to scroll into view")
    where = page.locator(".wb-script-where")
    assert where.inner_text().startswith(f"Scene {place.label} · shot {frame.shot} · line")
    visit.screenshot("board-script-panel")

    # The first scene's heading card: the script scrolls back up to that scene, nothing marked.
    _click_card(visit, live[0].heading_item or "")
    current = page.locator(".wb-script-current")
    wait_for(lambda: current.count() == 1 and current.get_attribute("data-scene") == "0",
             message="the first scene to become current")
    assert marked.count() == 0
    wait_for(lambda: _inside(visit, ".wb-script-current .wb-script-heading"), message="the scene to scroll to")
    # The fourth scene's heading: it scrolls down to it.
    _click_card(visit, live[3].heading_item or "")
    wait_for(lambda: current.get_attribute("data-scene") == "3", message="the fourth scene to become current")
    wait_for(lambda: _inside(visit, ".wb-script-current .wb-script-heading"), message="the fourth scene in view")
    assert not _inside(visit, '.wb-script-scene[data-scene="0"] .wb-script-heading')

    # A frame of the cut scene says it was cut, and marks nothing.
    _click_card(visit, cut[0].frames[0].item_id)
    cut_note = page.locator(".wb-script-cut")
    cut_note.wait_for(timeout=20_000)
    assert cut_note.inner_text().startswith("Cut · Scene 5")
    wait_for(lambda: current.count() == 0 and marked.count() == 0, message="the cut frame to mark nothing")

    # The board is behind the script: the panel offers to update it, showing what changes first.
    page.locator(".wb-script-update button").click()
    listed = page.locator(".wb-script-changes li")
    listed.first.wait_for(timeout=20_000)
    assert listed.all_inner_texts() == ["Scene 1 (EXT. PORTSIDE HARBOUR - NIGHT) was edited"]
    visit.screenshot("board-script-update")
    assert wb.storyboards.get(me, board_id).version == 2  # a preview changes nothing
    page.locator(".wb-script-apply button").click()
    wait_for(lambda: wb.storyboards.get(me, board_id).version == 3, message="the board to follow version 3")
    behind = page.locator(".wb-script-behind")
    wait_for(lambda: behind.count() == 0, message="the panel to stop saying the board is behind")
    assert not page.locator(".wb-script-update").is_visible() and not page.locator(".wb-script-preview").is_visible()
    assert not visit.dialogs and not visit.errors, (visit.dialogs, visit.errors)
