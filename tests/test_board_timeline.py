"""A board's history as a readable timeline, and restore to a point (issue #22, part 3).

Real parts: the embedded default (DuckDB) and the boards domain's one change path.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import open_wb
from workbench import Forbidden, InvalidInput, NotFound, Workbench
from workbench.boards import ItemMove

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def wb(tmp_path_factory: pytest.TempPathFactory) -> Workbench:
    bench = open_wb(tmp_path_factory.mktemp("timeline"))
    yield bench
    bench.close()


@pytest.fixture(scope="module")
def ana(wb: Workbench):
    return wb.accounts.create_user("ana@example.com", display_name="Ana", plan="premium")


@pytest.fixture(scope="module")
def ben(wb: Workbench):
    return wb.accounts.create_user("ben@example.com", display_name="Ben")


def _snapshot(wb: Workbench, user, board_id: str) -> tuple[Any, ...]:
    """What the board shows: every item's stored values (no timestamps), and its title."""
    view = wb.boards.get(user, board_id)
    items = sorted(tuple(sorted(i.columns().items())) for i in view.items)
    return view.board.title, view.board.description, tuple(items)


def test_the_timeline_reads_as_sentences_with_names_and_hides_sharing_from_others(wb: Workbench, ana, ben) -> None:
    board = wb.boards.create(ana, "Night shoot")
    a = wb.boards.add_note(ana, board.id, "Rain", x=0, y=0)
    b = wb.boards.add_note(ana, board.id, "Neon", x=300, y=0)
    c = wb.boards.add_heading(ana, board.id, "Act one", x=0, y=300)
    wb.boards.move_items(ana, board.id, [ItemMove(a.id, 10, 10), ItemMove(b.id, 310, 10), ItemMove(c.id, 10, 310)])
    _, token = wb.boards.create_link(ana, board.id, "edit")
    wb.boards.add_note(None, board.id, "From a guest", token=token)
    wb.boards.share_with(ana, board.id, ben, "edit")
    wb.boards.update_item(ben, board.id, a.id, color="#ff0000")
    wb.boards.undo(ben, board.id)
    entries = wb.boards.timeline.events(ana, board.id)
    said = [e.description for e in entries]
    assert said == [
        "Ben undid change #9",
        "Ben recoloured a card (undone)",
        "Ana shared the board with someone",
        "Guest added a note",
        "Ana made a share link",
        "Ana moved 3 cards",
        "Ana added a heading",
        "Ana added a note",
        "Ana added a note",
        "Ana created the board",
    ]
    assert [e.seq for e in entries] == list(range(10, 0, -1))
    assert entries[3].actor.startswith("link:") and entries[3].actor_name == "Guest"
    assert entries[0].kind == "undo" and entries[0].created_at is not None
    # Sharing changes are the owner's business: Ben and the guest see the rest.
    for seen in (wb.boards.timeline.events(ben, board.id),
                 wb.boards.timeline.events(None, board.id, token=token)):
        assert [e.seq for e in seen] == [10, 9, 7, 5, 4, 3, 2, 1]
    assert [e.seq for e in wb.boards.timeline.events(ana, board.id, limit=2)] == [10, 9]


def test_restore_to_a_middle_point_equals_the_board_then_and_undo_returns(wb: Workbench, ana, ben) -> None:
    board = wb.boards.create(ana, "Story wall")
    a = wb.boards.add_note(ana, board.id, "Opening", x=0, y=0)
    b = wb.boards.add_note(ana, board.id, "Middle", x=300, y=0)
    wb.boards.move_items(ana, board.id, [ItemMove(a.id, 50, 60)])
    point = wb.boards.get(ana, board.id).board.revision
    then = _snapshot(wb, ana, board.id)
    # After the point: a new card, a removed card, an edit, a move, a rename, by two people.
    wb.boards.share_with(ana, board.id, ben, "edit")
    wb.boards.add_note(ben, board.id, "Later idea", x=600, y=0)
    wb.boards.remove_items(ana, board.id, [b.id])
    wb.boards.update_item(ben, board.id, a.id, text="Opening, rewritten", color="#00ff00")
    wb.boards.move_items(ben, board.id, [ItemMove(a.id, 900, 900, w=400, h=300)])
    wb.boards.rename(ana, board.id, "Story wall v2")
    latest = _snapshot(wb, ana, board.id)
    assert latest != then
    revision = wb.boards.get(ana, board.id).board.revision

    event = wb.boards.timeline.restore_to(ben, board.id, point)
    assert event.seq == revision + 1 and event.kind == "update" and event.actor == ben.id
    assert event.payload["restored_to"] == point
    assert _snapshot(wb, ana, board.id) == then
    assert wb.boards.get(ana, board.id).board.revision == revision + 1  # one change, one event
    assert wb.boards.timeline.events(ana, board.id)[0].description == (
        f"Ben restored the board to how it was after change #{point}")
    # Sharing is not part of the contents: Ben is still a member.
    assert [m.user_id for m in wb.boards.members(ana, board.id)] == [ben.id]

    wb.boards.undo(ben, board.id)
    assert _snapshot(wb, ana, board.id) == latest
    wb.boards.redo(ben, board.id)
    assert _snapshot(wb, ana, board.id) == then


def test_restore_puts_back_an_earlier_change_undone_after_the_point(wb: Workbench, ana) -> None:
    board = wb.boards.create(ana, "Undo before and after")
    a = wb.boards.add_note(ana, board.id, "One", x=0, y=0)
    wb.boards.move_items(ana, board.id, [ItemMove(a.id, 400, 400)])
    point = wb.boards.get(ana, board.id).board.revision
    then = _snapshot(wb, ana, board.id)
    wb.boards.undo(ana, board.id)                      # takes the move back (after the point)
    wb.boards.add_note(ana, board.id, "Two", x=0, y=300)
    wb.boards.timeline.restore_to(ana, board.id, point)
    assert _snapshot(wb, ana, board.id) == then
    # And to the very first point: the board as created, empty.
    wb.boards.timeline.restore_to(ana, board.id, 1)
    assert _snapshot(wb, ana, board.id)[2] == ()


def test_restore_skips_cards_removed_meanwhile_and_every_view_can_apply_it(wb: Workbench, ana) -> None:
    board = wb.boards.create(ana, "Skip")
    a = wb.boards.add_note(ana, board.id, "Stays", x=0, y=0)
    point = wb.boards.get(ana, board.id).board.revision
    wb.boards.update_item(ana, board.id, a.id, text="Edited")
    event = wb.boards.timeline.restore_to(ana, board.id, point)
    ops = event.payload["ops"]
    assert ops == [{"op": "set", "id": a.id, "values": {"text": "Stays"}}]
    assert wb.boards.events_since(ana, board.id, point + 1)[-1].payload["ops"] == ops


def test_restore_needs_the_edit_role_and_a_real_point(wb: Workbench, ana, ben) -> None:
    board = wb.boards.create(ana, "Guarded")
    wb.boards.add_note(ana, board.id, "A", x=0, y=0)
    wb.boards.add_note(ana, board.id, "B", x=300, y=0)
    _, view_token = wb.boards.create_link(ana, board.id, "view")
    with pytest.raises(Forbidden):
        wb.boards.timeline.restore_to(None, board.id, 2, token=view_token)
    with pytest.raises(NotFound):
        wb.boards.timeline.restore_to(ben, board.id, 2)
    with pytest.raises(NotFound):
        wb.boards.timeline.events(ben, board.id)
    latest = wb.boards.get(ana, board.id).board.revision
    with pytest.raises(InvalidInput, match="latest"):
        wb.boards.timeline.restore_to(ana, board.id, latest)
    with pytest.raises(InvalidInput, match="change number"):
        wb.boards.timeline.restore_to(ana, board.id, 0)
    with pytest.raises(InvalidInput, match="change number"):
        wb.boards.timeline.restore_to(ana, board.id, "2")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="between 1 and 1000"):
        wb.boards.timeline.events(ana, board.id, limit=0)
    # Going back to a point that looks like now (the link made since changed no card) is refused, not recorded.
    before = wb.boards.get(ana, board.id).board.revision
    with pytest.raises(InvalidInput, match="nothing to restore"):
        wb.boards.timeline.restore_to(ana, board.id, 3)
    assert wb.boards.get(ana, board.id).board.revision == before == 4
