"""Boards: life cycle, every item kind, batch moves, validation, the event history, undo and redo."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from tests.helpers import open_wb, png_bytes
from workbench import Conflict, Forbidden, InvalidInput, NotFound, User, Workbench
from workbench.boards import MAX_ITEMS, BoardEvent, Boards, ItemMove
from workbench.boards.model import utcnow
from workbench.writing.documents import Documents


@pytest.fixture(scope="module")
def wb(tmp_path_factory: pytest.TempPathFactory) -> Workbench:
    bench = open_wb(tmp_path_factory.mktemp("boards"))
    yield bench
    bench.close()


@pytest.fixture(scope="module")
def documents(wb: Workbench) -> Documents:
    return Documents(wb.db)


@pytest.fixture(scope="module")
def boards(wb: Workbench, documents: Documents) -> Boards:
    return Boards(wb.db, wb.library, documents, accounts=wb.accounts)


@pytest.fixture(scope="module")
def ana(wb: Workbench) -> User:
    return wb.accounts.create_user("ana@example.com")


@pytest.fixture(scope="module")
def stills(wb: Workbench, ana: User) -> list:
    return [wb.library.ingest(ana, png_bytes(seed=n, size=(64 + n, 48)), filename=f"still{n}.png")
            for n in range(6)]


def _stored(boards: Boards, user: User, board_id: str) -> tuple:
    """Everything a failed call must leave untouched."""
    view = boards.get(user, board_id)
    return view.board.revision, view.board.title, [(i.id, i.x, i.y, i.w, i.h, i.z, i.text, i.caption, i.color)
                                                   for i in view.items]


def test_create_rename_describe_and_list(boards: Boards, ana: User) -> None:
    board = boards.create(ana, "  Night shoot ", "Neon and rain")
    assert (board.title, board.description, board.owner, board.role, board.status) == (
        "Night shoot", "Neon and rain", ana.id, "owner", "active")
    assert boards.rename(ana, board.id, "Night\x07 shoot II").title == "Night shoot II"
    assert boards.describe(ana, board.id, "Long lenses").description == "Long lenses"
    listed = {b.id: b for b in boards.list(ana)}
    assert listed[board.id].title == "Night shoot II" and listed[board.id].revision == 3


@pytest.mark.parametrize("title", ["", "   ", "x" * 201, None, 42])
def test_bad_titles_are_refused(boards: Boards, ana: User, title: object) -> None:
    before = len(boards.list(ana))
    with pytest.raises(InvalidInput):
        boards.create(ana, title)  # type: ignore[arg-type]
    assert len(boards.list(ana)) == before


def test_every_item_kind(boards: Boards, ana: User, stills: list, documents: Documents) -> None:
    board = boards.create(ana, "Kinds")
    draft = documents.create(ana, "screenplay", "Diner scene", "INT. DINER - NIGHT\n\nRain hammers the glass. MAYA waits.")
    image = boards.add_image(ana, board.id, stills[0].id, caption="the alley")
    note = boards.add_note(ana, board.id, "Shoot at dusk\nbring the haze machine", color="#FFEE88")
    heading = boards.add_heading(ana, board.id, "Act one")
    link = boards.add_link(ana, board.id, "https://example.com/ref?q=1", title="Reference")
    excerpt = boards.add_script_excerpt(ana, board.id, draft.id, 20, 44)
    assert excerpt.text == "Rain hammers the glass. " and excerpt.document_id == draft.id
    assert (excerpt.range_start, excerpt.range_end, excerpt.caption) == (20, 44, "Diner scene")
    assert note.color == "#ffee88" and image.caption == "the alley"
    view = boards.get(ana, board.id)
    assert [i.kind for i in view.items] == ["image", "note", "heading", "link", "script"]
    assert [i.z for i in view.items] == [1, 2, 3, 4, 5]
    assert set(view.images) == {stills[0].id} and view.images[stills[0].id].filename == "still0.png"
    assert (link.url, link.text, heading.text) == ("https://example.com/ref?q=1", "Reference", "Act one")
    boxes = [(i.x, i.y, i.x + i.w, i.y + i.h) for i in view.items]
    for n, a in enumerate(boxes):  # auto-placement never stacks one item on another
        for b in boxes[n + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
    with pytest.raises(InvalidInput, match="range"):
        boards.add_script_excerpt(ana, board.id, draft.id, 10, 5000)


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,<b>x</b>", "ftp://example.com/a",
                                 "http://", "https://exa mple.com", "", "vbscript:msgbox(1)"])
def test_only_web_links(boards: Boards, ana: User, url: str) -> None:
    board = boards.create(ana, "Links")
    before = _stored(boards, ana, board.id)
    with pytest.raises(InvalidInput):
        boards.add_link(ana, board.id, url)
    assert _stored(boards, ana, board.id) == before


@pytest.mark.parametrize("call", [
    lambda b, u, i, it: b.add_note(u, i, "x" * 20_001),
    lambda b, u, i, it: b.add_note(u, i, "ok", x=float("nan"), y=0),
    lambda b, u, i, it: b.add_note(u, i, "ok", x=float("inf"), y=0),
    lambda b, u, i, it: b.add_note(u, i, "ok", w=-5, h=10),
    lambda b, u, i, it: b.add_note(u, i, "ok", w=50_000, h=10),
    lambda b, u, i, it: b.add_note(u, i, "ok", color="red"),
    lambda b, u, i, it: b.update_item(u, i, it, color="#12345g"),
    lambda b, u, i, it: b.update_item(u, i, it, caption="c" * 2001),
    lambda b, u, i, it: b.move_items(u, i, [ItemMove(it, 0, float("nan"))]),
    lambda b, u, i, it: b.move_items(u, i, [ItemMove(it, 0, 0, w=0, h=10)]),
    lambda b, u, i, it: b.move_items(u, i, []),
    lambda b, u, i, it: b.move_items(u, i, [ItemMove(it, None, None)]),
    lambda b, u, i, it: b.move_items(u, i, [ItemMove(it, 5, None)]),
    lambda b, u, i, it: b.add_heading(u, i, "   "),
], ids=["long-note", "nan", "inf", "negative-size", "huge-size", "colour-name", "bad-hex", "long-caption",
        "move-nan", "zero-width", "empty-move", "move-nothing", "half-a-place", "blank-heading"])
def test_invalid_input_leaves_the_board_unchanged(boards: Boards, ana: User, call) -> None:
    board = boards.create(ana, "Validation")
    item = boards.add_note(ana, board.id, "keep me", x=10, y=10)
    before = _stored(boards, ana, board.id)
    with pytest.raises(InvalidInput):
        call(boards, ana, board.id, item.id)
    assert _stored(boards, ana, board.id) == before


def test_update_item(boards: Boards, ana: User, stills: list) -> None:
    board = boards.create(ana, "Updates")
    note = boards.add_note(ana, board.id, "draft")
    picture = boards.add_image(ana, board.id, stills[1].id)
    updated = boards.update_item(ana, board.id, note.id, text="final", caption="from the recce", color="#000000")
    assert (updated.text, updated.caption, updated.color) == ("final", "from the recce", "#000000")
    assert boards.update_item(ana, board.id, note.id, color="").color == ""
    with pytest.raises(InvalidInput, match="caption"):
        boards.update_item(ana, board.id, picture.id, text="images have no text")
    with pytest.raises(NotFound):
        boards.update_item(ana, board.id, "bi_nope", caption="x")


def test_a_multi_select_drag_is_one_event(boards: Boards, ana: User) -> None:
    board = boards.create(ana, "Drag")
    notes = [boards.add_note(ana, board.id, f"card {n}") for n in range(5)]
    revision = boards.get(ana, board.id).board.revision
    moved = boards.move_items(ana, board.id, [ItemMove(n.id, 1000 + 10 * k, 500, w=200, h=100)
                                               for k, n in enumerate(notes)])
    assert [(m.x, m.y, m.w, m.h) for m in moved] == [(1000 + 10 * k, 500, 200, 100) for k in range(5)]
    view = boards.get(ana, board.id)
    assert view.board.revision == revision + 1
    assert boards.history(ana, board.id)[0].kind == "move"
    with pytest.raises(NotFound):  # one unknown id: nothing moves
        boards.move_items(ana, board.id, [ItemMove(notes[0].id, 0, 0), ItemMove("bi_gone", 0, 0)])
    assert boards.get(ana, board.id).items[0].x == 1000


def test_a_resize_without_a_place_keeps_a_move_that_crossed_it(boards: Boards, ana: User) -> None:
    board = boards.create(ana, "Resize")
    note = boards.add_note(ana, board.id, "scene 4", x=10, y=20, w=200, h=100)
    boards.move_items(ana, board.id, [ItemMove(note.id, 400, 300)])  # someone moves it mid-resize
    resized = boards.move_items(ana, board.id, [ItemMove(note.id, None, None, w=320, h=240)])
    assert [(m.x, m.y, m.w, m.h) for m in resized] == [(400, 300, 320, 240)]
    assert boards.history(ana, board.id)[0].payload["ops"] == [
        {"op": "set", "id": note.id, "values": {"w": 320.0, "h": 240.0}}]


def test_restacking(boards: Boards, ana: User) -> None:
    board = boards.create(ana, "Stack")
    a, b, c = (boards.add_note(ana, board.id, t) for t in "abc")
    boards.bring_to_front(ana, board.id, [a.id])
    assert [i.text for i in boards.get(ana, board.id).items] == ["b", "c", "a"]
    boards.send_to_back(ana, board.id, [c.id, a.id])
    assert [i.text for i in boards.get(ana, board.id).items] == ["c", "a", "b"]
    boards.undo(ana, board.id)
    assert [i.text for i in boards.get(ana, board.id).items] == ["b", "c", "a"]


def test_undo_and_redo(boards: Boards, ana: User, stills: list) -> None:
    board = boards.create(ana, "Undo")
    keep = boards.add_note(ana, board.id, "keep", x=0, y=0)
    picture = boards.add_image(ana, board.id, stills[2].id, x=300, y=0)
    boards.move_items(ana, board.id, [ItemMove(keep.id, 50, 60)])
    boards.remove_items(ana, board.id, [picture.id, keep.id])
    boards.rename(ana, board.id, "Renamed")
    assert boards.get(ana, board.id).items == []

    assert boards.undo(ana, board.id).kind == "rename"
    assert boards.get(ana, board.id).board.title == "Undo"
    assert boards.undo(ana, board.id).kind == "remove"
    restored = {i.id: i for i in boards.get(ana, board.id).items}
    assert set(restored) == {keep.id, picture.id} and (restored[keep.id].x, restored[keep.id].y) == (50, 60)
    assert boards.undo(ana, board.id).kind == "move"
    assert boards.get(ana, board.id).items[0].x == 0
    assert boards.redo(ana, board.id).kind == "move"
    assert boards.get(ana, board.id).items[0].x == 50
    assert boards.redo(ana, board.id).kind == "remove"
    assert boards.get(ana, board.id).items == []
    assert boards.undo(ana, board.id).kind == "remove"  # the redone change can be undone again

    boards.add_heading(ana, board.id, "a fresh change clears the redo stack")
    with pytest.raises(Conflict, match="nothing to redo"):
        boards.redo(ana, board.id)
    kinds = [e.kind for e in boards.history(ana, board.id)]
    assert kinds[:6] == ["add", "undo", "redo", "redo", "undo", "undo"]


def test_nothing_to_undo(boards: Boards, ana: User) -> None:
    board = boards.create(ana, "Fresh")
    with pytest.raises(Conflict, match="nothing to undo"):
        boards.undo(ana, board.id)


def test_events_sequence_and_subscribers(boards: Boards, ana: User) -> None:
    board = boards.create(ana, "Live")
    heard: list[BoardEvent] = []
    stop = boards.subscribe(heard.append)
    stop_broken = boards.subscribe(lambda event: 1 / 0)  # a broken listener must not break a change
    try:
        note = boards.add_note(ana, board.id, "hello")
        boards.move_items(ana, board.id, [ItemMove(note.id, 5, 5)])
        boards.update_item(ana, board.id, note.id, caption="c")
    finally:
        stop()
        stop_broken()
    boards.add_note(ana, board.id, "after unsubscribing")
    mine = [e for e in heard if e.board_id == board.id]
    assert [e.kind for e in mine] == ["add", "move", "update"]
    assert [e.seq for e in mine] == [2, 3, 4] and all(e.actor == ana.id for e in mine)
    assert mine[1].payload["ids"] == [note.id]
    since = boards.events_since(ana, board.id, 2)
    assert [e.seq for e in since] == [3, 4, 5] and since[0].kind == "move"
    assert boards.get(ana, board.id).board.revision == 5


def test_duplicate(boards: Boards, ana: User, stills: list) -> None:
    board = boards.create(ana, "Original", "with a description")
    boards.add_image(ana, board.id, stills[3].id, x=10, y=20, caption="hero frame")
    boards.add_note(ana, board.id, "note", x=300, y=20, color="#223344")
    copy = boards.duplicate(ana, board.id)
    assert copy.id != board.id and copy.title == "Copy of Original" and copy.description == "with a description"
    original, copied = boards.get(ana, board.id), boards.get(ana, copy.id)

    def layout(view):
        return [(i.kind, i.x, i.y, i.w, i.h, i.z, i.caption, i.text, i.color, i.image_id) for i in view.items]

    assert layout(original) == layout(copied)
    assert not {i.id for i in original.items} & {i.id for i in copied.items}
    boards.add_note(ana, copy.id, "only in the copy")
    assert len(boards.get(ana, board.id).items) == 2


def test_archive_delete_restore_and_purge(wb: Workbench, boards: Boards, ana: User) -> None:
    board = boards.create(ana, "Wrap party")
    boards.add_note(ana, board.id, "drinks")
    boards.archive(ana, board.id)
    assert board.id not in {b.id for b in boards.list(ana)}
    assert board.id in {b.id for b in boards.list(ana, include_archived=True)}
    with pytest.raises(Conflict, match="archived"):
        boards.add_note(ana, board.id, "too late")
    assert boards.get(ana, board.id).board.status == "archived"  # still readable
    boards.unarchive(ana, board.id)
    boards.add_note(ana, board.id, "editable again")

    boards.delete(ana, board.id)
    with pytest.raises(NotFound, match="trash"):
        boards.get(ana, board.id)
    assert board.id in {b.id for b in boards.trash(ana)}
    assert boards.restore(ana, board.id).status == "active"
    assert len(boards.get(ana, board.id).items) == 2

    boards.delete(ana, board.id)
    assert boards.purge_deleted(now=utcnow() + timedelta(days=29)) == 0
    assert boards.purge_deleted(now=utcnow() + timedelta(days=31)) >= 1
    with pytest.raises(NotFound):
        boards.restore(ana, board.id)
    assert not wb.db.query("SELECT * FROM board_items WHERE board_id = ?", [board.id])
    assert not wb.db.query("SELECT * FROM board_events WHERE board_id = ?", [board.id])


def test_restore_refused_after_the_grace_period(wb: Workbench, ana: User) -> None:
    short = Boards(wb.db, wb.library, None, grace_days=0)
    board = short.create(ana, "Gone soon")
    short.delete(ana, board.id)
    with pytest.raises(NotFound, match="can no longer be restored"):
        short.restore(ana, board.id)


def test_item_limit(boards: Boards, ana: User) -> None:
    import io
    import json
    import zipfile

    manifest = {"format": "filmmaker-workbench/board", "version": 1, "board": {"title": "Full"},
                "items": [{"kind": "note", "x": (n % 50) * 10, "y": (n // 50) * 10, "w": 8, "h": 8, "text": str(n)}
                          for n in range(MAX_ITEMS)]}
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("board.json", json.dumps(manifest))
    full = boards.import_zip(ana, archive.getvalue())
    assert full.item_count == MAX_ITEMS
    with pytest.raises(InvalidInput, match=f"at most {MAX_ITEMS}"):
        boards.add_note(ana, full.id, "one too many")
    assert boards.get(ana, full.id).board.item_count == MAX_ITEMS


def test_a_board_of_200_items_opens_fast(boards: Boards, ana: User, stills: list) -> None:
    board = boards.create(ana, "Big wall")
    boards.add_images(ana, board.id, [stills[n % len(stills)].id for n in range(200)])
    boards.get(ana, board.id)  # warm the read cursor
    started = time.perf_counter()
    view = boards.get(ana, board.id)
    elapsed = time.perf_counter() - started
    assert len(view.items) == 200 and set(view.images) == {s.id for s in stills}
    assert elapsed < 0.5, f"get() of 200 items took {elapsed:.2f}s"


def test_signed_out_people_cannot_own_boards(boards: Boards) -> None:
    with pytest.raises(Forbidden):
        boards.create(None, "Anonymous")  # type: ignore[arg-type]


def test_browse_searches_sorts_and_pages(wb: Workbench, boards: Boards) -> None:
    eve = wb.accounts.create_user("eve-browse@example.com")
    titles = [f"Reel {n:02d}" for n in range(30)] + ["Night ferry", "night MARKET", "Day 100%_"]
    made = [boards.create(eve, t) for t in titles]
    boards.rename(eve, made[3].id, "Reel 03 (recut)")  # the most recently edited now
    first = boards.browse(eve, limit=10)
    assert (first.total, len(first.boards), first.has_more) == (33, 10, True)
    assert first.boards[0].title == "Reel 03 (recut)"
    assert [b.updated_at for b in first.boards] == sorted((b.updated_at for b in first.boards), reverse=True)
    pages = [boards.browse(eve, offset=o, limit=10).boards for o in (0, 10, 20, 30)]
    assert sorted(b.id for page in pages for b in page) == sorted(b.id for b in made)
    last = boards.browse(eve, offset=30, limit=10)
    assert (len(last.boards), last.has_more, boards.browse(eve, offset=90, limit=10).total) == (3, False, 33)
    assert [b.title for b in boards.browse(eve, search="NIGHT", sort="title").boards] == ["Night ferry",
                                                                                          "night MARKET"]
    # Typed text is a plain substring, never a pattern: % and _ match only themselves.
    assert [b.title for b in boards.browse(eve, search="%_").boards] == ["Day 100%_"]
    assert boards.browse(eve, search="nothing like it").total == 0
    assert boards.browse(eve, sort="created", limit=1).boards[0].title == "Day 100%_"
    boards.archive(eve, made[0].id)
    assert boards.browse(eve).total == 32 and boards.browse(eve, include_archived=True).total == 33
    for bad in ({"sort": "colour"}, {"limit": 0}, {"limit": 10_000}, {"offset": -1}):
        with pytest.raises(InvalidInput):
            boards.browse(eve, **bad)
    with pytest.raises(Forbidden):
        boards.browse(None)  # type: ignore[arg-type]


def test_colouring_several_cards_is_one_undoable_step(boards: Boards, ana: User) -> None:
    board = boards.create(ana, "Colours")
    notes = [boards.add_note(ana, board.id, f"n{n}") for n in range(3)]
    painted = boards.color_items(ana, board.id, [n.id for n in notes], "#FF8800")
    assert {i.color for i in painted} == {"#ff8800"}
    assert boards.history(ana, board.id, limit=1)[0].kind == "update"
    boards.undo(ana, board.id)
    assert {i.color for i in boards.get(ana, board.id).items} == {""}
    with pytest.raises(InvalidInput, match="colour"):
        boards.color_items(ana, board.id, [notes[0].id], "orange")
    before = _stored(boards, ana, board.id)
    with pytest.raises(NotFound):
        boards.color_items(ana, board.id, [notes[0].id, "bi_gone"], "#000000")
    assert _stored(boards, ana, board.id) == before
