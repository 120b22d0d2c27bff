"""The screenplay desk's versions and "Storyboard this script" in Chromium (issue #22, parts 3 and 6).

A script with two versions (one scene moved, one line hostile HTML) is
compared: the moved scene is reported in words, the hostile line shows as
text; restoring the first version writes a new one. A script opens at its top, with the
quote and export row in sight and the imports drawn as buttons (issue #18, items 20-22). "Storyboard this script"
shows its cost first (free: retrieval only, offline) and makes a board.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Visit
from tests.helpers import wait_for
from workbench.writing.scene_lines import reorder_scenes, scene_spans

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

SAMPLE = (Path(__file__).parent.parent / "data" / "three_pages.fountain").read_text(encoding="utf-8")
HOSTILE = "<img src=x onerror=alert(1)> & <b>bold</b>"


def _open_script(visit: Visit, title: str) -> None:
    visit.open("/writing")
    visit.page.locator(".bk-tab", has_text="Screenplay").click()
    visit.page.locator(".wb-editor").wait_for()
    visit.page.locator(".wb-script-picker select").select_option(label=title)
    editor = visit.page.locator(".wb-editor")
    wait_for(lambda: "PORTSIDE HARBOUR" in editor.input_value(), message="the script to load in the editor")


def test_compare_two_versions_see_the_moved_scene_and_restore(visit: Visit, served) -> None:  # noqa: ANN001
    wb, me = served.wb, served.wb.accounts.local_user()
    doc = wb.writing.create(me, "screenplay", "Ferry versions", SAMPLE)
    moved = reorder_scenes(SAMPLE, scene_spans(SAMPLE), [0, 2, 3, 1, 4]).replace("Last run, Captain?", HOSTILE)
    wb.writing.save(me, doc.id, moved, note="moved the wheelhouse")
    _open_script(visit, "Ferry versions")
    page = visit.page
    page.locator(".bk-tab", has_text="Versions").click()
    page.locator(".wb-compare button").click()
    result = page.locator(".wb-diff-result")
    result.locator(".wb-change-moved").wait_for(timeout=20_000)
    assert result.locator(".wb-change-moved").inner_text() == (
        "Scene 2 (INT. MARGARET ANNE - WHEELHOUSE - CONTINUOUS) moved after scene 4 "
        "(INT. MARGARET ANNE - WHEELHOUSE - NIGHT)")
    assert result.locator(".wb-change-edited").count() == 1
    # The hostile line is shown as the writer typed it, as text; nothing of it became an element.
    added = result.locator("td.added")
    assert HOSTILE in added.all_inner_texts()
    assert result.locator("img").count() == 0 and result.locator("b").count() == 0
    assert "Last run, Captain?" in result.locator("td.removed").all_inner_texts()
    visit.screenshot("script-versions-compare")
    assert not visit.dialogs and not visit.errors

    page.locator(".wb-restore-version button").click()
    wait_for(lambda: wb.writing.get(me, doc.id).version == 3, message="the restore to write version 3")
    assert wb.writing.get(me, doc.id).body == SAMPLE
    assert [v.version for v in wb.writing.versions(me, doc.id)] == [3, 2, 1]
    editor = page.locator(".wb-editor")
    wait_for(lambda: editor.input_value() == SAMPLE, message="the editor to show the restored text")
    page.locator(".wb-compare button").click()  # version 1 against the restored 3: they read the same
    same = result.locator(".wb-diff p.wb-hint")
    wait_for(lambda: same.count() == 1 and "read the same" in same.inner_text(), message="the diff of the restore")
    assert same.inner_text() == "Versions 1 and 3 read the same, line for line."


def test_only_one_version_says_so(visit: Visit, served) -> None:  # noqa: ANN001
    wb, me = served.wb, served.wb.accounts.local_user()
    wb.writing.create(me, "screenplay", "Ferry first draft", SAMPLE)
    wb.writing.create(me, "screenplay", "Ferry one-liner", "INT. CABIN - NIGHT\n\nRain.\n")  # opens first
    _open_script(visit, "Ferry first draft")
    page = visit.page
    # A script picked after a short one opens at its top (three pages overflow the editor), not at its end.
    top, overflow = page.locator(".wb-editor").evaluate("a => [a.scrollTop, a.scrollHeight - a.clientHeight]")
    assert top == 0 and overflow > 100
    # The quote and export row is in sight at 1440x900, every control on one centre line.
    row = page.locator(".wb-script-bottom")
    expect(row).to_be_in_viewport(ratio=1)
    centres = [b["y"] + b["height"] / 2 for b in
               (c.bounding_box() for c in row.locator("button, select").all())]
    assert len(centres) == 5 and max(centres) - min(centres) <= 1.5, centres
    # The imports are buttons that say what they take, not the browser's "Choose File".
    for box, said in ((".wb-fountain-import", "Import .fountain"), (".wb-fdx-import", "Import .fdx")):
        assert page.locator(f"{box} label").inner_text() == said
        assert page.locator(f"{box} input[type=file]").evaluate("i => getComputedStyle(i).opacity") == "0"
    page.locator(".bk-tab", has_text="Versions").click()
    hint = visit.page.locator(".wb-diff-empty")
    hint.wait_for(timeout=20_000)
    assert "Only one version so far: save a change to compare" in hint.inner_text()


def test_storyboard_this_script_shows_the_cost_and_makes_a_board(visit: Visit, served) -> None:  # noqa: ANN001
    wb, me = served.wb, served.wb.accounts.local_user()
    doc = wb.writing.create(me, "screenplay", "Ferry to board", SAMPLE)
    balance = wb.accounts.balance(me)
    _open_script(visit, "Ferry to board")
    page = visit.page
    page.locator(".bk-tab", has_text="Storyboard this script").click()
    estimate = page.locator(".wb-sb-estimate")
    said = estimate.locator(".wb-hint")
    wait_for(lambda: said.count() == 1 and "5 scenes" in said.inner_text(), timeout=30, message="the estimate")
    assert "free" in said.inner_text()
    page.locator(".wb-sb-scope button", has_text="Scenes").click()
    for box, value in ((".wb-sb-first input", "2"), (".wb-sb-last input", "3")):
        page.locator(box).fill(value)
        page.locator(box).press("Enter")
    wait_for(lambda: "2 scenes" in said.inner_text(), timeout=30, message="the estimate for scenes 2 to 3")
    page.locator(".wb-storyboard-this button").click()
    link = page.locator(".wb-sb-link")
    link.wait_for(timeout=60_000)
    visit.screenshot("script-storyboard-this")
    [made] = wb.storyboards.for_document(me, doc.id)
    assert link.get_attribute("href") == f"/board?id={made.board_id}"
    assert [s.heading for s in made.scenes] == ["INT. MARGARET ANNE - WHEELHOUSE - CONTINUOUS",
                                                "EXT. MARGARET ANNE - DECK - LATER"]
    assert wb.accounts.balance(me) == balance  # retrieval only: nothing spent
    assert not visit.errors
