"""What the board page draws for comment markers and the History tab (#20), from real comments and events.

The canvas gets one list of markers (``pin_entries``): numbered like the panel's
threads, only threads pinned to a card or a spot, resolved ones only on request.
The History tab's lines (``entry_html``) and the threads (``thread_html``) escape
every user string. The browser side is tests/browser/test_board_comment_pins.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from server.pages.board_comments import pin_entries, thread_html
from server.pages.board_history import entry_html
from tests.helpers import open_wb
from workbench import User, Workbench
from workbench.boards import ItemMove

pytestmark = pytest.mark.timeout(120)

HOSTILE = "<img src=x onerror=alert(1)> & \"quotes\""


@pytest.fixture(scope="module")
def wb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workbench]:
    bench = open_wb(tmp_path_factory.mktemp("pins"))
    yield bench
    bench.close()


@pytest.fixture(scope="module")
def ana(wb: Workbench) -> User:
    return wb.accounts.create_user("ana@example.com", display_name=HOSTILE)


def test_markers_are_numbered_like_the_threads_and_skip_resolved_and_board_wide_ones(wb: Workbench,
                                                                                      ana: User) -> None:
    board = wb.boards.create(ana, "Pier").id
    card = wb.boards.add_note(ana, board, "Fog")
    spot = wb.boards.comments.add(ana, board, "Crane here\nsecond line", x=410.5, y=-20)
    whole = wb.boards.comments.add(ana, board, "More haze overall")
    on_card = wb.boards.comments.add(ana, board, "x" * 120, item_id=card.id)
    wb.boards.comments.add(ana, board, "Agreed", parent_id=on_card.id)
    wb.boards.comments.resolve(ana, board, spot.id)
    threads = wb.boards.comments.list(ana, board)

    shown = pin_entries(threads, resolved=False)
    assert [(p["id"], p["n"]) for p in shown] == [(on_card.id, 3)]  # #1 resolved, #2 on the whole board
    (pin,) = shown
    assert (pin["item_id"], pin["x"], pin["count"], pin["text"]) == (card.id, None, 2, "x" * 80 + "…")
    assert pin["by"] == HOSTILE  # plain text: the canvas sets it with textContent

    everything = pin_entries(threads, resolved=True, focused=spot.id)
    assert [(p["n"], p["resolved"], p["focused"]) for p in everything] == [(1, True, True), (3, False, False)]
    assert (everything[0]["x"], everything[0]["y"], everything[0]["text"]) == (410.5, -20, "Crane here")
    assert whole.id not in {p["id"] for p in everything}

    drawn = thread_html(threads[0], {}, number=1, focused=True)
    assert 'data-n="1"' in drawn and "wb-thread resolved focused" in drawn and "At a spot on the board" in drawn
    assert "<img" not in thread_html(threads[2], {card.id: card}, number=3)  # the author's name, escaped


def test_history_lines_say_who_did_what_and_escape_it(wb: Workbench, ana: User) -> None:
    board = wb.boards.create(ana, "Takes").id
    note = wb.boards.add_note(ana, board, "one")
    wb.boards.move_items(ana, board, [ItemMove(note.id, 50, 60)])
    wb.boards.rename(ana, board, HOSTILE)
    entries = wb.boards.timeline.events(ana, board)
    lines = [entry_html(e, latest=n == 0) for n, e in enumerate(entries)]
    assert "<img" not in "".join(lines)
    assert "renamed the board to" in lines[0] and "&lt;img src=x" in lines[0] and 'class="wb-event latest"' in lines[0]
    assert "moved a card" in lines[1] and f'data-seq="{entries[1].seq}"' in lines[1]
    assert "&lt;img" in lines[1].split("</span>")[0]  # the person's name, escaped too


def test_history_names_a_guest_by_the_name_they_signed_and_says_where_they_commented(wb: Workbench,
                                                                                    ana: User) -> None:
    board = wb.boards.create(ana, "Recce").id
    card = wb.boards.add_note(ana, board, "Fog")
    _, token = wb.boards.create_link(ana, board, "comment")
    spot = wb.boards.comments.add(None, board, "Here?", token=token, x=10, y=20, display_name="Dee")
    wb.boards.comments.add(None, board, "Yes", token=token, parent_id=spot.id)
    wb.boards.comments.add(ana, board, "On this", item_id=card.id)
    wb.boards.comments.resolve(None, board, spot.id, token=token)
    said = [e.description for e in wb.boards.timeline.events(ana, board, limit=4)]
    assert said == ["Guest resolved a comment", f"{HOSTILE} commented on a card", "Guest replied to a comment",
                    "Dee commented on a spot on the board"]

