"""Comments on boards (#20): threads pinned to cards or canvas spots, roles, guests, mentions, hostile text, exports."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator

import pypdfium2 as pdfium
import pytest

from tests.helpers import open_wb
from workbench import Conflict, Forbidden, InvalidInput, NotFound, User, Workbench
from workbench.boards import BoardEvent, Comment

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def wb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workbench]:
    bench = open_wb(tmp_path_factory.mktemp("comments"))
    yield bench
    bench.close()


@pytest.fixture(scope="module")
def people(wb: Workbench) -> dict[str, User]:
    return {
        "ana": wb.accounts.create_user("ana@example.com", display_name="Ana Lima"),
        "ben": wb.accounts.create_user("ben.oak@example.com", display_name="Ben Oak"),
        "vic": wb.accounts.create_user("vic@example.com", display_name="Vic"),
        "eve": wb.accounts.create_user("eve@example.com", display_name="Eve"),
    }


@pytest.fixture
def board(wb: Workbench, people: dict[str, User]) -> str:
    """Ana's board: Ben may edit it, Vic may view it; Eve has nothing to do with it."""
    made = wb.boards.create(people["ana"], "Night shoot").id
    wb.boards.share_with(people["ana"], made, people["ben"], "edit")
    wb.boards.share_with(people["ana"], made, people["vic"], "view")
    return made


def test_threads_pinned_to_a_card_and_a_spot(wb: Workbench, people: dict[str, User], board: str) -> None:
    ana, ben = people["ana"], people["ben"]
    card = wb.boards.add_note(ana, board, "rain on neon")
    on_card = wb.boards.comments.add(ana, board, "Warmer light here?", item_id=card.id)
    on_spot = wb.boards.comments.add(ben, board, "Room for a title card", x=1200, y=-40.5)
    reply = wb.boards.comments.add(ben, board, "Amber, like the lamps", parent_id=on_card.id)
    deeper = wb.boards.comments.add(ana, board, "Yes", parent_id=reply.id)  # a reply to a reply joins the thread
    assert (reply.parent_id, reply.item_id, deeper.parent_id) == (on_card.id, card.id, on_card.id)
    threads = wb.boards.comments.list(ana, board)
    assert [t.id for t in threads] == [on_card.id, on_spot.id]
    assert [r.text for r in threads[0].replies] == ["Amber, like the lamps", "Yes"]
    assert (threads[1].x, threads[1].y, threads[1].item_id) == (1200, -40.5, None)
    assert (on_card.author, on_card.author_name, on_card.guest) == (ana.id, "Ana Lima", False)

    resolved = wb.boards.comments.resolve(ben, board, reply.id)  # any comment of the thread resolves it
    assert resolved.id == on_card.id and resolved.resolved and resolved.resolved_by == ben.id
    assert len(resolved.replies) == 2
    assert not wb.boards.comments.reopen(ana, board, on_card.id).resolved
    # Comments are not undoable: undo takes back Ana's note, not her comments.
    assert wb.boards.undo(ana, board).kind == "add"
    assert len(wb.boards.comments.list(ana, board)) == 2


def test_comment_events_flow_on_the_stream_and_are_not_undoable(wb: Workbench, people: dict[str, User],
                                                                board: str) -> None:
    ana = people["ana"]
    _, token = wb.boards.create_link(ana, board, "view")
    heard: list[BoardEvent] = []
    wb.boards.watch(None, board, heard.append, token=token)
    root = wb.boards.comments.add(ana, board, "First")
    wb.boards.comments.resolve(ana, board, root.id)
    wb.boards.comments.resolve(ana, board, root.id)  # already resolved: no event
    wb.boards.comments.delete(ana, board, root.id)
    assert [(e.kind, e.payload["action"]) for e in heard] == [
        ("comment", "added"), ("comment", "resolved"), ("comment", "deleted")]
    assert heard[0].payload["comment"]["text"] == "First" and heard[2].payload["ids"] == [root.id]
    # A deleted comment's words leave the record too: its events keep only that it was there.
    stored = [e for e in wb.boards.events_since(ana, board, 0) if e.kind == "comment"]
    assert [e.payload["comment"].get("text") for e in stored] == ["", "", None]
    assert "First" not in repr([e.payload for e in stored])
    with pytest.raises(Conflict, match="nothing to undo"):
        wb.boards.undo(ana, board)


# -- who may comment ------------------------------------------------------------------------------------
def _actors(wb: Workbench, people: dict[str, User], board: str) -> dict[str, tuple[User | None, str | None]]:
    ana = people["ana"]
    tokens = {role: wb.boards.create_link(ana, board, role)[1] for role in ("view", "comment", "edit")}
    revoked, dead = wb.boards.create_link(ana, board, "comment")
    wb.boards.revoke_link(ana, board, revoked.id)
    return {
        "owner": (ana, None), "edit member": (people["ben"], None), "view member": (people["vic"], None),
        "view link": (None, tokens["view"]), "comment link": (None, tokens["comment"]),
        "edit link": (None, tokens["edit"]), "stranger with comment link": (people["eve"], tokens["comment"]),
        "stranger with view link": (people["eve"], tokens["view"]), "stranger": (people["eve"], None),
        "revoked comment link": (None, dead),
    }


MATRIX = {  # who: (may read comments, may write them)
    "owner": (True, True), "edit member": (True, True), "view member": (True, True),
    "view link": (True, False), "comment link": (True, True), "edit link": (True, True),
    "stranger with comment link": (True, True), "stranger with view link": (True, False),
    "stranger": (False, False), "revoked comment link": (False, False),
}


def test_the_comment_role_matrix(wb: Workbench, people: dict[str, User], board: str) -> None:
    actors = _actors(wb, people, board)
    root = wb.boards.comments.add(people["ana"], board, "Thoughts?")
    for who, (user, token) in actors.items():
        may_read, may_write = MATRIX[who]
        if may_read:
            assert wb.boards.comments.list(user, board, token=token)[0].id == root.id, who
            assert wb.boards.get(user, board, token=token).can_comment == may_write, who
        else:
            with pytest.raises(NotFound):
                wb.boards.comments.list(user, board, token=token)
        writes = {
            "add": lambda u, t, who=who: wb.boards.comments.add(u, board, f"from {who}", token=t, display_name=who),
            "resolve": lambda u, t: wb.boards.comments.resolve(u, board, root.id, token=t),
            "reopen": lambda u, t: wb.boards.comments.reopen(u, board, root.id, token=t),
        }
        for write in writes.values():
            if may_write:
                write(user, token)
            else:
                with pytest.raises(NotFound if not may_read else Forbidden):
                    write(user, token)
    writers = [who for who, (_, may_write) in MATRIX.items() if may_write]
    assert [r.text for r in wb.boards.comments.list(people["ana"], board)[0].replies] == [] and \
        [t.text for t in wb.boards.comments.list(people["ana"], board)[1:]] == [f"from {w}" for w in writers]


def test_a_comment_link_comments_but_cannot_edit(wb: Workbench, people: dict[str, User], board: str) -> None:
    link, token = wb.boards.create_link(people["ana"], board, "comment")
    assert link.role == "comment" and wb.boards.resolve_token(token) == (board, "comment")
    view = wb.boards.get(None, board, token=token)
    assert view.role == "comment" and not view.can_edit
    with pytest.raises(Forbidden):
        wb.boards.add_note(None, board, "not an editor", token=token)
    with pytest.raises(InvalidInput, match="'view', 'comment' or 'edit'"):
        wb.boards.create_link(people["ana"], board, "admin")


def test_only_the_author_or_the_owner_deletes(wb: Workbench, people: dict[str, User], board: str) -> None:
    ana, ben = people["ana"], people["ben"]
    _, token = wb.boards.create_link(ana, board, "comment")
    guest = wb.boards.comments.add(None, board, "guest says", token=token, display_name="Dee")
    bens = wb.boards.comments.add(ben, board, "Ben says")
    reply = wb.boards.comments.add(ana, board, "Ana answers", parent_id=bens.id)
    with pytest.raises(Forbidden, match="author or the board's owner"):
        wb.boards.comments.delete(ben, board, guest.id)
    with pytest.raises(Forbidden):
        wb.boards.comments.delete(None, board, bens.id, token=token)
    wb.boards.comments.delete(None, board, guest.id, token=token)  # the guest's own, through the same link
    wb.boards.comments.delete(ana, board, bens.id)  # the owner deletes a thread, replies and all
    assert wb.boards.comments.list(ana, board) == []
    with pytest.raises(NotFound):
        wb.boards.comments.delete(ana, board, reply.id)


def test_pins_are_checked(wb: Workbench, people: dict[str, User], board: str) -> None:
    ana, ben = people["ana"], people["ben"]
    card = wb.boards.add_note(ana, board, "soon gone")
    other = wb.boards.create(ana, "Other board")
    elsewhere = wb.boards.add_note(ana, other.id, "on another board")
    wb.boards.remove_items(ben, board, [card.id])
    with pytest.raises(Conflict, match="deleted by someone else"):
        wb.boards.comments.add(ana, board, "too late", item_id=card.id)
    with pytest.raises(NotFound):
        wb.boards.comments.add(ana, board, "wrong board", item_id=elsewhere.id)
    with pytest.raises(NotFound):
        wb.boards.comments.add(ana, board, "no thread", parent_id="cm_nothing")
    for kw, message in (({"x": 1.0}, "both x and y"), ({"x": float("inf"), "y": 0}, "off the canvas"),
                        ({"item_id": elsewhere.id, "x": 1, "y": 1}, "not both")):
        with pytest.raises(InvalidInput, match=message):
            wb.boards.comments.add(ana, board, "bad pin", **kw)  # type: ignore[arg-type]
    root = wb.boards.comments.add(ana, board, "pinned", x=5, y=5)
    with pytest.raises(InvalidInput, match="reply goes in its thread"):
        wb.boards.comments.add(ana, board, "reply", parent_id=root.id, x=1, y=1)
    wb.boards.archive(ana, board)
    with pytest.raises(Conflict, match="archived"):
        wb.boards.comments.add(ana, board, "on an archived board")
    wb.boards.unarchive(ana, board)


# -- user text ---------------------------------------------------------------------------------------------
HOSTILE = "<script>alert('x')</script>\x00\x1b[2J\ud800 & <img src=x onerror=alert(1)>\u202e\r\nline two"


def test_hostile_text_and_display_names(wb: Workbench, people: dict[str, User], board: str) -> None:
    _, token = wb.boards.create_link(people["ana"], board, "comment")
    comment = wb.boards.comments.add(None, board, HOSTILE, token=token, display_name="<b>Dee</b>\x07\n\tGuest")
    # Stored as typed (markup is the viewer's to escape), minus what no store should hold.
    assert comment.text == "<script>alert('x')</script>[2J & <img src=x onerror=alert(1)>\u202e\nline two"
    assert comment.author_name == "<b>Dee</b> Guest" and comment.guest and comment.author_id is None
    assert wb.boards.comments.add(None, board, "anonymous", token=token).author_name == "Guest"
    assert wb.boards.comments.add(None, board, "blank name", token=token, display_name=" \x00 ").author_name == "Guest"
    # A signed-in person is named by the accounts domain, whatever they type.
    assert wb.boards.comments.add(people["ben"], board, "me", display_name="Ana Lima").author_name == "Ben Oak"
    for text, message in (("", "cannot be empty"), ("  \n\x00 ", "cannot be empty"), ("x" * 5001, "limit is 5,000"),
                          (42, "must be text")):
        with pytest.raises(InvalidInput, match=message):
            wb.boards.comments.add(None, board, text, token=token)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="display name"):
        wb.boards.comments.add(None, board, "long name", token=token, display_name="D" * 61)


def test_mentions_resolve_to_board_members(wb: Workbench, people: dict[str, User], board: str) -> None:
    ana, ben, vic, eve = (people[n] for n in ("ana", "ben", "vic", "eve"))
    comment = wb.boards.comments.add(
        ana, board, "@ben.oak and @Vic, see @ana@example.com's note. @eve is not on the board; @nobody; a@b.c")
    assert set(comment.mentions) == {ben.id, vic.id, ana.id} and eve.id not in comment.mentions
    assert wb.boards.comments.add(ben, board, "@benoak @ana, thoughts?").mentions == tuple(sorted({ben.id, ana.id}))
    assert wb.boards.comments.list(ana, board)[0].mentions == comment.mentions
    assert wb.boards.comments.add(ana, board, "no one here").mentions == ()


# -- exports ---------------------------------------------------------------------------------------------------
def _threads_board(wb: Workbench, people: dict[str, User], board: str) -> tuple[Comment, Comment]:
    ana = people["ana"]
    card = wb.boards.add_note(ana, board, "rain on neon")
    _, token = wb.boards.create_link(ana, board, "comment")
    root = wb.boards.comments.add(ana, board, "Warmer <light> here?", item_id=card.id)
    wb.boards.comments.add(None, board, "Amber & gold", token=token, parent_id=root.id, display_name="Dee")
    spot = wb.boards.comments.add(ana, board, "Title card goes here", x=900, y=0)
    wb.boards.comments.resolve(ana, board, spot.id)
    return root, spot


def test_comments_in_the_zip_and_a_reimport_leaves_them_out(wb: Workbench, people: dict[str, User],
                                                             board: str) -> None:
    root, spot = _threads_board(wb, people, board)
    _, view_token = wb.boards.create_link(people["ana"], board, "view")
    out = io.BytesIO()
    wb.boards.export_zip(None, board, out, token=view_token)  # everyone who may view gets the comments
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as archive:
        document = json.loads(archive.read("comments.json"))
    assert document["format"] == "filmmaker-workbench/board-comments" and document["board"] == board
    threads = document["threads"]
    assert [t["id"] for t in threads] == [root.id, spot.id] and threads[1]["resolved"] is True
    assert threads[0]["text"] == "Warmer <light> here?" and threads[0]["item_id"] == root.item_id
    assert [(r["author_name"], r["guest"], r["text"]) for r in threads[0]["replies"]] == [
        ("Dee", True, "Amber & gold")]
    imported = wb.boards.import_zip(people["ben"], out.getvalue())
    assert [i.text for i in wb.boards.get(people["ben"], imported.id).items] == ["rain on neon"]
    assert wb.boards.comments.list(people["ben"], imported.id) == []  # comments stay with their board


def test_a_zip_with_a_hostile_comments_json_imports_without_it(wb: Workbench, people: dict[str, User],
                                                               board: str) -> None:
    wb.boards.add_note(people["ana"], board, "a note")
    out = io.BytesIO()
    wb.boards.export_zip(people["ana"], board, out)
    rebuilt = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as source, zipfile.ZipFile(rebuilt, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            target.writestr(name, b'{"threads": [{"id": "../../x", "text": "<script>"}], ' + b"9" * 5000
                            if name == "comments.json" else data)
    imported = wb.boards.import_zip(people["ben"], rebuilt.getvalue())
    assert wb.boards.comments.list(people["ben"], imported.id) == []


def test_comments_on_the_pdf_notes_page(wb: Workbench, people: dict[str, User], board: str) -> None:
    _threads_board(wb, people, board)
    out = io.BytesIO()
    wb.boards.export_pdf(people["ana"], board, out)
    pdf = pdfium.PdfDocument(out.getvalue())
    notes = pdf[len(pdf) - 1].get_textpage().get_text_range()
    for text in ("Comments", "On card 1", "Warmer <light> here?", "Dee (guest)", "Amber & gold",
                 "On the canvas at (900, 0) (resolved)", "Title card goes here"):
        assert text in notes, text
    # A board with comments but no notes still gets its notes page.
    bare = wb.boards.create(people["ana"], "Only a comment").id
    wb.boards.comments.add(people["ana"], bare, "Just this")
    out = io.BytesIO()
    wb.boards.export_pdf(people["ana"], bare, out)
    pdf = pdfium.PdfDocument(out.getvalue())
    assert "Just this" in pdf[len(pdf) - 1].get_textpage().get_text_range()
