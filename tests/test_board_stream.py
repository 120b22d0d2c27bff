"""Co-editing a board (#20): the filtered live stream, undo of your own changes, conflicts, batch adds.

``wb.boards.watch`` is what every open view listens to: one board's events, in
sequence order, each once, with a catch-up from the view's last number, only the
events the viewer may receive, and a last ``access_ended`` when access goes.
The PostgreSQL tests run two replicas on one database, as on AKS.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from store.bus import PostgresBus
from tests.helpers import Heard, open_wb, png_bytes, wait_for
from workbench import Conflict, Forbidden, InvalidInput, NotFound, Settings, User, Workbench
from workbench.boards import ACCESS_ENDED, BoardEvent, ItemMove

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def wb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workbench]:
    bench = open_wb(tmp_path_factory.mktemp("stream"))
    yield bench
    bench.close()


@pytest.fixture(scope="module")
def ana(wb: Workbench) -> User:
    return wb.accounts.create_user("ana@example.com", display_name="Ana Lima")


@pytest.fixture(scope="module")
def ben(wb: Workbench) -> User:
    return wb.accounts.create_user("ben@example.com", display_name="Ben")


@pytest.fixture
def board(wb: Workbench, ana: User, ben: User) -> str:
    made = wb.boards.create(ana, "Night shoot")
    wb.boards.share_with(ana, made.id, ben, "edit")
    return made.id


# -- the stream -------------------------------------------------------------------------------------
def test_catch_up_then_live_in_order_exactly_once(wb: Workbench, ana: User, board: str) -> None:
    for text in ("one", "two", "three"):
        wb.boards.add_note(ana, board, text)
    heard = Heard()
    stop = wb.boards.watch(ana, board, heard, since=2)
    assert heard.seqs() == [3, 4, 5]  # the catch-up ran before watch returned
    note = wb.boards.add_note(ana, board, "four")
    wb.boards.move_items(ana, board, [ItemMove(note.id, 10, 10)])
    assert heard.seqs() == [3, 4, 5, 6, 7] and heard.kinds()[-2:] == ["add", "move"]
    stop()
    wb.boards.add_note(ana, board, "after stop")
    assert heard.seqs() == [3, 4, 5, 6, 7]
    # Without since, the stream starts at the board's revision now.
    fresh = Heard()
    wb.boards.watch(ana, board, fresh)
    wb.boards.add_note(ana, board, "next")
    assert fresh.seqs() == [wb.boards.get(ana, board).board.revision]


def test_changes_while_catching_up_are_neither_lost_nor_doubled(wb: Workbench, ana: User, ben: User,
                                                               board: str) -> None:
    for n in range(30):
        wb.boards.add_note(ana, board, f"before {n}")
    writers = [threading.Thread(target=lambda who=who: [wb.boards.add_note(who, board, f"{who.id} {n}")
                                                        for n in range(25)]) for who in (ana, ben, ana)]
    heard = Heard()
    for thread in writers:
        thread.start()
    stop = wb.boards.watch(ben, board, heard, since=0)
    for thread in writers:
        thread.join(60)
    revision = wb.boards.get(ana, board).board.revision
    hidden = {e.seq for e in wb.boards.events_since(ana, board, 0, limit=10_000) if e.kind == "share"}
    assert hidden  # sharing the board with Ben: Ana's business, not his
    wait_for(lambda: len(heard.seqs()) >= revision - len(hidden), message="the live events")
    stop()
    seqs = heard.seqs()
    assert seqs == sorted(set(seqs)), "out of order or doubled"
    assert seqs == sorted(set(range(1, revision + 1)) - hidden)


def test_a_gap_is_repaired_from_the_stored_events(wb: Workbench, ana: User, board: str) -> None:
    # Several threads of one process commit in server order but can reach the listeners in any
    # order; each watcher must still see 1, 2, 3... with nothing skipped.
    heard = [Heard() for _ in range(3)]
    stops = [wb.boards.watch(ana, board, h) for h in heard]
    start = wb.boards.get(ana, board).board.revision
    threads = [threading.Thread(target=lambda: [wb.boards.add_note(ana, board, "x") for _ in range(20)])
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for h in heard:
        assert h.seqs() == list(range(start + 1, start + 81))
    for stop in stops:
        stop()


def test_sharing_events_reach_the_owner_only(wb: Workbench, ana: User, ben: User, board: str) -> None:
    link, token = wb.boards.create_link(ana, board, "view")
    owner, member, guest = Heard(), Heard(), Heard()
    for who, tok, heard in ((ana, None, owner), (ben, None, member), (None, token, guest)):
        wb.boards.watch(who, board, heard, token=tok, since=0)
    wb.boards.create_link(ana, board, "edit", label="for the editor")
    wb.boards.add_note(ana, board, "after the link")
    assert "share" in owner.kinds()
    for heard in (member, guest):
        assert "share" not in heard.kinds() and heard.kinds()[-1] == "add"
    assert wb.boards.events_since(None, board, 0, token=token) == [e for e in guest.events]


def test_a_revoked_link_ends_its_stream(wb: Workbench, ana: User, board: str) -> None:
    link, token = wb.boards.create_link(ana, board, "view")
    heard = Heard()
    wb.boards.watch(None, board, heard, token=token)
    wb.boards.add_note(ana, board, "seen")
    wb.boards.revoke_link(ana, board, link.id)
    wb.boards.add_note(ana, board, "not for the old link")
    assert heard.kinds() == ["add", ACCESS_ENDED]
    assert "revoked" in heard.events[-1].payload["reason"]
    with pytest.raises(NotFound):
        wb.boards.watch(None, board, Heard(), token=token)


def test_a_removed_member_and_a_deleted_board_end_the_stream(wb: Workbench, ana: User, ben: User,
                                                             board: str) -> None:
    heard = Heard()
    wb.boards.watch(ben, board, heard)
    wb.boards.unshare(ana, board, ben)
    assert heard.kinds() == [ACCESS_ENDED]
    owner = Heard()
    wb.boards.watch(ana, board, owner)
    wb.boards.delete(ana, board)
    assert owner.kinds() == [ACCESS_ENDED] and "trash" in owner.events[0].payload["reason"]


def test_an_expired_link_ends_its_stream_at_the_next_event(wb: Workbench, ana: User, board: str) -> None:
    _, token = wb.boards.create_link(ana, board, "edit", expires_in=timedelta(milliseconds=300))
    heard = Heard()
    wb.boards.watch(None, board, heard, token=token)
    wb.boards.add_note(ana, board, "while it works")
    time.sleep(0.4)  # the link's lifetime is over
    wb.boards.add_note(ana, board, "after it expired")
    assert heard.kinds() == ["add", ACCESS_ENDED]


def test_watching_needs_view_access_and_a_sane_since(wb: Workbench, ana: User, ben: User) -> None:
    private = wb.boards.create(ana, "Private").id
    with pytest.raises(NotFound):
        wb.boards.watch(ben, private, Heard())
    with pytest.raises(InvalidInput, match="whole number"):
        wb.boards.watch(ana, private, Heard(), since=-1)


def test_a_failing_listener_does_not_stop_the_others(wb: Workbench, ana: User, board: str) -> None:
    def broken(event: BoardEvent) -> None:
        raise RuntimeError("a view that crashed")

    heard = Heard()
    wb.boards.watch(ana, board, broken)
    wb.boards.watch(ana, board, heard)
    wb.boards.add_note(ana, board, "still delivered")
    assert heard.kinds() == ["add"]


# -- undo is your own ----------------------------------------------------------------------------------
def test_undo_takes_back_only_your_own_change(wb: Workbench, ana: User, ben: User, board: str) -> None:
    mine = wb.boards.add_note(ana, board, "Ana's")
    theirs = wb.boards.add_note(ben, board, "Ben's")
    wb.boards.move_items(ben, board, [ItemMove(theirs.id, 500, 500)])
    undone = wb.boards.undo(ana, board)  # Ben's move is later, but it is his
    assert undone.kind == "add" and undone.actor == ana.id
    items = {i.id: i for i in wb.boards.get(ana, board).items}
    assert mine.id not in items and items[theirs.id].x == 500
    assert wb.boards.undo(ben, board).kind == "move"
    wb.boards.add_heading(ben, board, "Ben's new change")  # clears Ben's redo, not Ana's
    assert wb.boards.redo(ana, board).kind == "add"
    with pytest.raises(Conflict, match="nothing to redo"):
        wb.boards.redo(ben, board)
    with pytest.raises(Conflict, match="nothing to undo"):
        wb.boards.undo(ana, wb.boards.create(ana, "Fresh").id)


def test_a_link_holder_undoes_the_links_own_changes(wb: Workbench, ana: User, board: str) -> None:
    link, token = wb.boards.create_link(ana, board, "edit")
    wb.boards.add_note(None, board, "guest note", token=token)
    wb.boards.add_note(ana, board, "Ana's later note")
    undone = wb.boards.undo(None, board, token=token)
    assert undone.actor == f"link:{link.id}"
    assert [i.text for i in wb.boards.get(ana, board).items] == ["Ana's later note"]


# -- conflicts ----------------------------------------------------------------------------------------
def test_changing_a_card_someone_else_deleted_is_a_conflict(wb: Workbench, ana: User, ben: User,
                                                            board: str) -> None:
    card = wb.boards.add_note(ana, board, "to be deleted")
    wb.boards.remove_items(ben, board, [card.id])
    for change in (lambda: wb.boards.move_items(ana, board, [ItemMove(card.id, 1, 1)]),
                   lambda: wb.boards.update_item(ana, board, card.id, text="my edit"),
                   lambda: wb.boards.color_items(ana, board, [card.id], "#ff0000"),
                   lambda: wb.boards.bring_to_front(ana, board, [card.id])):
        with pytest.raises(Conflict, match="deleted by someone else"):
            change()
    with pytest.raises(Conflict, match="already deleted"):
        wb.boards.update_item(ben, board, card.id, text="his own deletion")
    with pytest.raises(NotFound):  # never on this board: not a conflict, just not there
        wb.boards.move_items(ana, board, [ItemMove("bi_never0000000000", 1, 1)])
    wb.boards.undo(ben, board)  # the deletion taken back: the card can be edited again
    assert wb.boards.update_item(ana, board, card.id, text="back").text == "back"


def test_concurrent_moves_and_edits_last_write_wins_and_say_who(wb: Workbench, ana: User, ben: User,
                                                                board: str) -> None:
    note = wb.boards.add_note(ana, board, "first draft")
    heard = Heard()
    wb.boards.watch(ana, board, heard)
    wb.boards.move_items(ana, board, [ItemMove(note.id, 100, 100)])
    wb.boards.move_items(ben, board, [ItemMove(note.id, 200, 200)])
    wb.boards.update_item(ana, board, note.id, text="Ana's text")
    wb.boards.update_item(ben, board, note.id, text="Ben's text")
    stored = next(i for i in wb.boards.get(ana, board).items if i.id == note.id)
    assert (stored.x, stored.y, stored.text) == (200, 200, "Ben's text")  # server order decides
    last = heard.events[-1]
    # What Ana's page needs to say "Ben changed this note while you were editing".
    assert last.kind == "update" and last.actor == ben.id and last.payload["by"] == "Ben"
    assert last.payload["fields"] == ["text"] and last.payload["ops"] == [
        {"op": "set", "id": note.id, "values": {"text": "Ben's text"}}]


# -- many cards, one change ------------------------------------------------------------------------------
def test_add_items_is_one_event_and_one_undo(wb: Workbench, ana: User, board: str) -> None:
    still = wb.library.ingest(ana, png_bytes((10, 20, 30), seed=41), filename="frame.png")
    heard = Heard()
    wb.boards.watch(ana, board, heard)
    items = wb.boards.add_items(ana, board, [
        {"kind": "image", "image_id": still.id, "x": 0, "y": 0, "caption": "1. Dawn\x00"},
        {"kind": "note", "text": "Shot: wide\r\nlow angle", "x": 0, "y": 250, "w": 320, "h": 110},
        {"kind": "heading", "text": "Act one"},
        {"kind": "link", "url": "https://example.com/ref", "title": "<b>ref</b>"},
    ])
    assert [i.kind for i in items] == ["image", "note", "heading", "link"]
    assert items[0].caption == "1. Dawn" and items[1].text == "Shot: wide\nlow angle" and items[3].text == "<b>ref</b>"
    assert heard.kinds() == ["add"] and heard.events[0].payload["count"] == 4
    wb.boards.undo(ana, board)
    assert wb.boards.get(ana, board).items == []


@pytest.mark.parametrize(("spec", "error", "message"), [
    ({"kind": "script", "text": "x"}, InvalidInput, "kind must be one of"),
    ({"kind": "note", "text": "x", "image_id": "i"}, InvalidInput, "cannot take: image_id"),
    ({"kind": "heading", "text": "  "}, InvalidInput, "needs some text"),
    ({"kind": "link", "url": "javascript:alert(1)"}, InvalidInput, "Only http"),
    ({"kind": "image", "image_id": "img_nothere"}, NotFound, "no image"),
    ({"kind": "note", "text": "x", "x": float("nan"), "y": 0}, InvalidInput, "off the canvas"),
    ("a note", InvalidInput, "mapping"),
])
def test_add_items_checks_every_card(wb: Workbench, ana: User, board: str, spec: object,
                                     error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        wb.boards.add_items(ana, board, [{"kind": "note", "text": "fine"}, spec])  # type: ignore[list-item]
    assert wb.boards.get(ana, board).items == []  # all or nothing


def test_add_items_needs_edit_rights_and_a_visible_image(wb: Workbench, ana: User, ben: User, board: str) -> None:
    _, token = wb.boards.create_link(ana, board, "comment")
    with pytest.raises(Forbidden):
        wb.boards.add_items(None, board, [{"kind": "note", "text": "x"}], token=token)
    hers = wb.library.ingest(ana, png_bytes((90, 20, 30), seed=42), filename="hers.png")
    with pytest.raises(NotFound):  # Ben may edit the board, but not place Ana's private still
        wb.boards.add_items(ben, board, [{"kind": "image", "image_id": hers.id}])
    with pytest.raises(InvalidInput, match="list of cards"):
        wb.boards.add_items(ana, board, [])


# -- two replicas on PostgreSQL ------------------------------------------------------------------------------
def _settings(home: Path, dsn: str, shared: Path) -> Settings:
    settings = Settings(home=home, storage={  # type: ignore[arg-type]
        "metadata_backend": "postgres", "metadata_dsn": dsn,
        "blob_url": str(shared / "blobs"), "vector_url": str(shared / "vectors")})
    settings.library.load_samples = False
    return settings


@pytest.fixture
def replicas(pg_dsn: str, tmp_path: Path) -> Iterator[tuple[Workbench, Workbench]]:
    a = Workbench(_settings(tmp_path / "a", pg_dsn, tmp_path))
    b = Workbench(_settings(tmp_path / "b", pg_dsn, tmp_path))
    for bench in (a, b):
        assert isinstance(bench.bus, PostgresBus) and bench.bus.wait_listening(20)
    yield a, b
    a.close()
    b.close()


def test_a_comment_on_one_replica_reaches_a_watcher_on_the_other(replicas: tuple[Workbench, Workbench]) -> None:
    a, b = replicas
    ana = a.accounts.create_user("ana@example.com", display_name="Ana")
    board = a.boards.create(ana, "Night shoot").id
    card = a.boards.add_note(ana, board, "rain on neon")
    _, token = a.boards.create_link(ana, board, "comment")
    guest, owner = Heard(), Heard()
    b.boards.watch(None, board, guest, token=token, since=0)
    b.boards.watch(ana, board, owner, since=0)
    comment = a.boards.comments.add(ana, board, "Warmer here?", item_id=card.id)
    wait_for(lambda: "comment" in guest.kinds() and "comment" in owner.kinds(), message="the comment on B")
    heard = next(e for e in guest.events if e.kind == "comment")
    assert heard.payload["action"] == "added" and heard.payload["comment"]["id"] == comment.id
    assert heard.payload["comment"]["text"] == "Warmer here?"
    assert "share" in owner.kinds() and "share" not in guest.kinds()
    assert guest.seqs() == sorted(set(guest.seqs()))
    # The guest replies on B; the owner's watcher on A hears it.
    back = Heard()
    a.boards.watch(ana, board, back)
    b.boards.comments.add(None, board, "Yes, amber", token=token, parent_id=comment.id, display_name="Dee")
    wait_for(lambda: back.kinds() == ["comment"], message="the reply on A")
    assert back.events[0].payload["comment"]["author_name"] == "Dee"


def test_a_link_revoked_on_one_replica_ends_the_stream_on_the_other(replicas: tuple[Workbench, Workbench]) -> None:
    a, b = replicas
    ana = a.accounts.create_user("ana@example.com")
    board = a.boards.create(ana, "Night shoot").id
    link, token = a.boards.create_link(ana, board, "view")
    heard = Heard()
    b.boards.watch(None, board, heard, token=token)
    a.boards.add_note(ana, board, "seen")
    a.boards.revoke_link(ana, board, link.id)
    wait_for(lambda: ACCESS_ENDED in heard.kinds(), message="the stream on B to end")
    assert heard.kinds() == ["add", ACCESS_ENDED]
