"""Credit activity: the ledger read as one line per action, newest first, a page at a time."""

from __future__ import annotations

import threading

import pytest

from tests.helpers import open_wb
from workbench import Forbidden, InvalidInput, ProviderError, Workbench
from workbench.activity import CreditActivity


@pytest.fixture
def wb(tmp_path) -> Workbench:  # noqa: ANN001
    bench = open_wb(tmp_path)
    yield bench
    bench.close()


def test_each_action_is_one_line_in_words_newest_first(wb: Workbench) -> None:
    me = wb.accounts.create_user("lines@example.com", plan="premium")
    activity = CreditActivity(wb.db, wb.accounts)
    idea = wb.writing.idea(me, "a night ferry", count=1, seed=1)[0]
    doc = wb.writing.create(me, "screenplay", "Tight", "INT. HALL - DAY\n\nShe walks down the hall.\n")
    wb.writing.rewrite_selection(me, doc.id, 17, 41, mode="tighten")  # gives the text back: refunded
    # What a Magic Board of four frames books (wb.magic.create would first load the embedder: slow).
    frames = 4
    spent = wb.accounts.price("magic_board_plan") + frames * wb.accounts.price("magic_board_frame")
    wb.accounts.commit(wb.accounts.reserve(me, "magic_board", amount=spent))
    lines = activity.recent(me).items
    assert [line.action for line in lines] == ["magic_board", "rewrite", "idea", "plan"]
    assert lines[0].summary.startswith(f"Magic Board · {frames} frames charged") and f"{spent} credits" in lines[0].summary
    assert lines[0].credits == -spent and lines[0].state == "spent"
    assert lines[1].summary == "Rewrite selection · no charge · nothing changed" and lines[1].credits == 0
    assert lines[2].summary == "Idea cards · 1 credit" and lines[2].credits == -1
    assert lines[3].summary == "Premium plan allowance · +100 credits" and lines[3].state == "granted"
    assert idea.id and all(line.when is not None for line in lines)
    assert lines == sorted(lines, key=lambda line: line.when, reverse=True)
    assert sum(line.credits for line in lines) == wb.accounts.balance(me)


def test_a_partial_refund_and_a_failure_say_so(wb: Workbench) -> None:
    me = wb.accounts.create_user("refunds@example.com", plan="premium")
    activity = CreditActivity(wb.db, wb.accounts)
    reservation = wb.accounts.reserve(me, "magic_board", amount=9)
    assert activity.recent(me).items[0].summary == "Magic Board · 9 credits held · in progress"
    wb.accounts.commit(reservation, used=7)
    doc = wb.writing.create(me, "screenplay", "Stop", "INT. ROOM - DAY\n\nANA\nWait.\n")
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(ProviderError):
        list(wb.writing.stream_continue(me, doc.id, cancel=cancel))
    newest, magic = activity.recent(me, limit=2).items
    assert newest.summary == "Continue scene · no charge · failed or stopped" and newest.state == "refunded"
    assert magic.summary == "Magic Board · 3 frames charged · 7 credits · refunded 2" and magic.credits == -7


def test_pages_walk_back_through_the_whole_history(wb: Workbench) -> None:
    me = wb.accounts.create_user("pages@example.com")
    activity = CreditActivity(wb.db, wb.accounts)
    for n in range(7):
        wb.accounts.grant(me, n + 1, note=f"grant {n}")
    first = activity.recent(me, limit=3)
    assert first.total == 8 and first.has_older
    assert [line.summary for line in first.items] == ["Grant 6 · +7 credits", "Grant 5 · +6 credits",
                                                      "Grant 4 · +5 credits"]
    last = activity.recent(me, limit=3, offset=6)
    assert [line.action for line in last.items] == ["admin", "plan"] and not last.has_older
    history = activity.balance_history(me, limit=3)
    assert [point.balance for point in history][-1] == wb.accounts.balance(me) and len(history) == 3
    assert history == sorted(history, key=lambda point: point.when)
    with pytest.raises(InvalidInput):
        activity.recent(me, limit=0)


def test_nobody_reads_anyone_elses_activity(wb: Workbench) -> None:
    a = wb.accounts.create_user("a@example.com", plan="premium")
    b = wb.accounts.create_user("b@example.com")
    wb.writing.idea(a, "a secret premise", count=1)
    activity = CreditActivity(wb.db, wb.accounts)
    assert [line.action for line in activity.recent(b).items] == ["plan"]
    assert all(point.balance == wb.accounts.balance(b) for point in activity.balance_history(b))
    with pytest.raises(Forbidden):
        activity.recent(None)
    with pytest.raises(Forbidden):
        activity.balance_history(None)
