"""The writing desk and the account page as a filmmaker meets them (issue #18, items 9, 10, 11 and 15).

A continuation is seen arriving word by word and Stop keeps what was
written; a rewrite that changes nothing says so and costs nothing; loglines
and treatments have buttons; the account lists each action in words with its
time, newest first, a page at a time. Each test checks the service layer too.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.conftest import Visit
from tests.helpers import wait_for

pytestmark = pytest.mark.browser


def _me(served):  # noqa: ANN001, ANN202
    return served.wb.accounts.local_user()


def _messages(visit: Visit) -> list[str]:
    return [str(t) for t in visit.page.locator(".notyf__message").all_inner_texts()]


def _open_script(visit: Visit, title: str, marker: str) -> None:
    visit.open("/writing")
    visit.page.locator(".bk-tab", has_text="Screenplay").click()
    visit.page.locator(".wb-editor").wait_for()
    visit.page.locator(".wb-script-picker select").select_option(label=title)
    editor = visit.page.locator(".wb-editor")
    wait_for(lambda: marker in editor.input_value(), message="the script to load in the editor")


@pytest.fixture
def slow_writer(served) -> Iterator[None]:  # noqa: ANN001
    """The offline writer at a slow pace, so a test can watch words arrive and press Stop in time."""
    backend = served.wb.writing.backend
    pace = backend.word_pause
    backend.word_pause = 0.12
    yield
    backend.word_pause = pace


def test_continue_scene_streams_word_by_word_and_stop_keeps_it(visit: Visit, served, slow_writer) -> None:  # noqa: ANN001
    wb, me = served.wb, _me(served)
    wb.accounts.grant(me, 5, note="browser test")
    start = "INT. DINER - NIGHT\n\nRain on the glass.\n\nMAE\nMore coffee?\n\nJOE\nJust the check.\n"
    doc = wb.writing.create(me, "screenplay", "Stream and stop", start)
    _open_script(visit, "Stream and stop", "Just the check")
    balance = wb.accounts.balance(me)
    visit.page.get_by_text("Continue scene", exact=False).click()
    stop = visit.page.locator(".wb-stop button")
    stop.wait_for(state="visible", timeout=10_000)
    # The editor's length sampled in the browser itself: it must grow in many small steps.
    lengths = visit.page.locator(".wb-editor").evaluate("""async (area) => {
        const seen = [];
        for (let i = 0; i < 20; i++) { seen.push(area.value.length); await new Promise(r => setTimeout(r, 60)); }
        return seen; }""")
    steps = sorted(set(lengths))
    assert len(steps) >= 4 and lengths == sorted(lengths), lengths
    visit.screenshot("writing-continue-streaming")
    stop.click()
    wait_for(lambda: wb.writing.get(me, doc.id).version == 2, timeout=20, message="the stopped continuation to be kept")
    kept = wb.writing.get(me, doc.id)
    assert wb.writing.versions(me, doc.id)[0].note == "continued scene (stopped early)"
    assert kept.body.startswith(start.rstrip("\n")) and len(kept.body) > len(start)
    assert wb.accounts.balance(me) == balance - wb.accounts.price("continue_scene")
    editor = visit.page.locator(".wb-editor")
    wait_for(lambda: editor.input_value() == kept.body, message="the editor to show what was kept")
    wait_for(lambda: any("Stopped after" in m for m in _messages(visit)), message="the stop notification")
    assert not stop.is_visible()


def test_a_rewrite_that_changes_nothing_says_so_and_costs_nothing(visit: Visit, served) -> None:  # noqa: ANN001
    wb, me = served.wb, _me(served)
    wb.accounts.grant(me, 2, note="browser test")
    body = "INT. HALL - DAY\n\nShe walks down the hall.\n\nTHE END\n"
    doc = wb.writing.create(me, "screenplay", "Already tight", body)
    _open_script(visit, "Already tight", "walks down the hall")
    balance = wb.accounts.balance(me)
    start, end = body.index("She"), body.index("hall.") + len("hall.")
    editor = visit.page.locator(".wb-editor")
    editor.evaluate(f"(el) => {{ el.focus(); el.setSelectionRange({start}, {end}); "
                    "el.dispatchEvent(new Event('select')); el.dispatchEvent(new KeyboardEvent('keyup')); }")
    visit.page.wait_for_timeout(300)
    visit.page.get_by_text("Rewrite selection", exact=False).click()
    wait_for(lambda: any("Nothing changed" in m for m in _messages(visit)), timeout=30,
             message="the nothing-changed notification")
    message = next(m for m in _messages(visit) if "Nothing changed" in m)
    assert "No credit was spent" in message
    visit.page.wait_for_timeout(600)  # the notification slides in
    visit.screenshot("writing-rewrite-unchanged")
    assert wb.writing.get(me, doc.id).version == 1 and wb.accounts.balance(me) == balance
    assert editor.input_value() == body


def test_loglines_and_a_treatment_from_the_writing_page(visit: Visit, served) -> None:  # noqa: ANN001
    wb, me = served.wb, _me(served)
    wb.accounts.grant(me, 6, note="browser test")
    idea = wb.writing.idea(me, "a ferry captain finds a stowaway on the last night crossing", count=1, seed=2)[0]
    outline = wb.writing.outline(me, idea.id, seed=2)
    visit.open("/writing", ready=".wb-premise textarea")
    card = visit.page.locator(".wb-idea").first  # ideas come newest first, each card above its buttons
    card.wait_for()
    assert card.get_attribute("data-doc") == idea.id
    visit.page.locator(".wb-loglines-button button").first.click()
    wait_for(lambda: card.locator(".wb-loglines li").count() >= 2, timeout=30, message="the loglines on the card")
    made = [d for d in wb.writing.list(me, kind="logline", limit=20) if d.meta.get("source") == idea.id]
    assert made and card.locator(".wb-loglines li").first.inner_text() == made[0].meta["loglines"][0]
    visit.screenshot("writing-loglines")
    visit.page.locator(".bk-tab", has_text="Outline").click()  # the newest outline is on screen
    visit.page.locator(".wb-treat button").click()
    scenes = visit.page.locator(".wb-treatment .wb-scene")
    wait_for(lambda: scenes.count() == len(outline.meta["beats"]), timeout=30, message="the treatment's scenes")
    assert "(act " not in visit.page.locator(".wb-treatment").inner_text()
    visit.screenshot("writing-treatment")
    # Pages drafted from the treatment keep its scenes; the beats are the writer's synopses, not action.
    scripts = len(wb.writing.list(me, kind="screenplay", limit=500))
    visit.page.locator(".wb-from-treatment button").click()
    wait_for(lambda: len(wb.writing.list(me, kind="screenplay", limit=500)) > scripts, timeout=30,
             message="the pages drafted from the treatment")
    pages = wb.writing.list(me, kind="screenplay", limit=1)[0]
    editor = visit.page.locator(".wb-editor")
    wait_for(lambda: editor.input_value() == pages.body, message="the new pages in the editor")
    assert "(act " not in pages.body and "\n= " in pages.body
    preview = visit.page.locator(".wb-preview")
    wait_for(lambda: preview.locator(".sp-synopsis").count() == len(outline.meta["beats"]),
             message="the synopses in the preview")
    visit.screenshot("writing-draft-from-treatment")


def test_account_lists_each_action_in_words_newest_first(visit: Visit, served) -> None:  # noqa: ANN001
    wb, me = served.wb, _me(served)
    for n in range(21):  # more than a page
        wb.accounts.grant(me, 1, note=f"browser test grant {n}")
    frames = 4
    spent = wb.accounts.price("magic_board_plan") + frames * wb.accounts.price("magic_board_frame")
    reservation = wb.accounts.reserve(me, "magic_board", amount=spent + wb.accounts.price("magic_board_frame"))
    wb.accounts.commit(reservation, used=spent)  # one frame was not made: refunded
    visit.open("/account", ready=".wb-activity li")
    rows = visit.page.locator(".wb-activity li")
    refunded = wb.accounts.price("magic_board_frame")
    assert (rows.first.locator(".wb-what").inner_text()
            == f"Magic Board · {frames} frames charged · {spent} credits · refunded {refunded}")
    assert rows.first.locator(".wb-delta").inner_text() == f"−{spent}"
    assert rows.nth(1).locator(".wb-what").inner_text() == "Browser test grant 20 · +1 credit"
    whens = visit.page.locator(".wb-activity .wb-when").all_inner_texts()
    assert len(whens) == 20 and all(w.startswith(("Today ", "Yesterday ")) for w in whens), whens
    assert "reserve" not in visit.page.locator(".wb-activity").inner_text()
    visit.screenshot("account-activity")
    visit.page.locator(".wb-activity li").last.scroll_into_view_if_needed()
    visit.page.mouse.wheel(0, 1200)
    visit.page.wait_for_timeout(400)
    visit.screenshot("account-balance-chart")
    visit.page.locator(".wb-older button").click()
    wait_for(lambda: "grant 20 " not in visit.page.locator(".wb-activity").inner_text(), message="the older page")
    assert "Browser test grant 0 ·" in visit.page.locator(".wb-activity").inner_text()
    visit.page.locator(".wb-newer button").click()
    wait_for(lambda: "Magic Board" in rows.first.inner_text(), message="the newest page again")
