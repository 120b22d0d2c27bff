"""Who may do what on a board: owner, named members, view and edit links, anonymous holders, strangers."""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta

import pytest

from tests.helpers import open_wb, png_bytes
from workbench import Conflict, Forbidden, InvalidInput, NotFound, User, Workbench
from workbench.boards import Boards, ItemMove


@pytest.fixture(scope="module")
def wb(tmp_path_factory: pytest.TempPathFactory) -> Workbench:
    bench = open_wb(tmp_path_factory.mktemp("sharing"))
    yield bench
    bench.close()


@pytest.fixture(scope="module")
def boards(wb: Workbench) -> Boards:
    return Boards(wb.db, wb.library, wb.writing, accounts=wb.accounts)


@pytest.fixture(scope="module")
def ana(wb: Workbench) -> User:
    return wb.accounts.create_user("ana@example.com")


@pytest.fixture(scope="module")
def ben(wb: Workbench) -> User:
    return wb.accounts.create_user("ben@example.com")


@pytest.fixture(scope="module")
def cara(wb: Workbench) -> User:
    return wb.accounts.create_user("cara@example.com")


@pytest.fixture(scope="module")
def secret_still(wb: Workbench, ana: User):
    """A private image in Ana's library."""
    return wb.library.ingest(ana, png_bytes((20, 20, 200), seed=7), filename="secret.png")


@pytest.fixture
def board(boards: Boards, ana: User, secret_still):
    """A fresh private board of Ana's with her private image and a note on it."""
    made = boards.create(ana, "Private wall")
    boards.add_image(ana, made.id, secret_still.id, x=0, y=0)
    boards.add_note(ana, made.id, "a secret plan", x=300, y=0)
    return made


def _state(boards: Boards, ana: User, board_id: str) -> tuple:
    view = boards.get(ana, board_id)
    return view.board.revision, view.board.title, [(i.id, i.x, i.y, i.text) for i in view.items]


EDITS = {
    "add_note": lambda b, u, bid, item, tok: b.add_note(u, bid, "graffiti", token=tok),
    "add_link": lambda b, u, bid, item, tok: b.add_link(u, bid, "https://example.com", token=tok),
    "move": lambda b, u, bid, item, tok: b.move_items(u, bid, [ItemMove(item, 9, 9)], token=tok),
    "update": lambda b, u, bid, item, tok: b.update_item(u, bid, item, caption="x", token=tok),
    "front": lambda b, u, bid, item, tok: b.bring_to_front(u, bid, [item], token=tok),
    "remove": lambda b, u, bid, item, tok: b.remove_items(u, bid, [item], token=tok),
    "rename": lambda b, u, bid, item, tok: b.rename(u, bid, "Mine now", token=tok),
    "describe": lambda b, u, bid, item, tok: b.describe(u, bid, "defaced", token=tok),
    "undo": lambda b, u, bid, item, tok: b.undo(u, bid, token=tok),
}
OWNER_ONLY = {
    "archive": lambda b, u, bid: b.archive(u, bid),
    "delete": lambda b, u, bid: b.delete(u, bid),
    "create_link": lambda b, u, bid: b.create_link(u, bid, "edit"),
    "links": lambda b, u, bid: b.links(u, bid),
    "share_with": lambda b, u, bid: b.share_with(u, bid, "cara@example.com", "edit"),
}


@pytest.mark.parametrize("verb", sorted(EDITS))
def test_a_stranger_cannot_touch_a_private_board(boards: Boards, ana: User, ben: User, board, verb: str) -> None:
    item = boards.get(ana, board.id).items[1].id
    before = _state(boards, ana, board.id)
    with pytest.raises(NotFound, match=f"No board {board.id}"):
        EDITS[verb](boards, ben, board.id, item, None)
    assert _state(boards, ana, board.id) == before


def test_a_stranger_cannot_read_a_board_or_its_images_by_guessing_ids(
    wb: Workbench, boards: Boards, ana: User, ben: User, board, secret_still
) -> None:
    with pytest.raises(NotFound) as real:
        boards.get(ben, board.id)
    with pytest.raises(NotFound) as missing:
        boards.get(ben, "b_doesnotexist00")
    assert str(real.value).replace(board.id, "") == str(missing.value).replace("b_doesnotexist00", "")
    for call in (lambda: boards.board_image(ben, board.id, secret_still.id),
                 lambda: boards.board_image(ben, board.id, secret_still.id, original=True),
                 lambda: boards.history(ben, board.id), lambda: boards.members(ben, board.id),
                 lambda: boards.events_since(ben, board.id, 0), lambda: wb.library.thumbnail(ben, secret_still.id),
                 lambda: boards.get(None, board.id), lambda: boards.get(ben, board.id, token="guessed-token")):
        with pytest.raises(NotFound):
            call()
    own = boards.create(ben, "Ben's board")
    with pytest.raises(NotFound):  # her image id on his own board
        boards.add_image(ben, own.id, secret_still.id)
    with pytest.raises(NotFound):  # nor through his board
        boards.board_image(ben, own.id, secret_still.id)
    assert secret_still.id not in boards.get(ben, own.id).images


def test_a_view_link_shows_the_board_and_its_images_but_cannot_edit(
    wb: Workbench, boards: Boards, ana: User, ben: User, board, secret_still
) -> None:
    link, token = boards.create_link(ana, board.id, "view", label="for the DP")
    view = boards.get(None, board.id, token=token)
    assert view.role == "view" and not view.can_edit and len(view.items) == 2
    assert view.images[secret_still.id].filename == "secret.png"
    assert boards.board_image(None, board.id, secret_still.id, token=token)[:4] == b"RIFF"  # the WebP thumbnail
    assert boards.board_image(ben, board.id, secret_still.id, token=token, original=True) == \
        wb.library.original(ana, secret_still.id)
    other = wb.library.ingest(ana, png_bytes((0, 200, 0), seed=8), filename="not-on-board.png")
    with pytest.raises(NotFound):  # the link opens this board's pictures, not the library
        boards.board_image(None, board.id, other.id, token=token)
    item = view.items[1].id
    before = _state(boards, ana, board.id)
    for edit in EDITS.values():
        for who in (None, ben):
            with pytest.raises(Forbidden, match="view this board"):
                edit(boards, who, board.id, item, token)
    assert _state(boards, ana, board.id) == before, "a refused edit changed the board"


def test_an_edit_link_edits_but_cannot_manage_access(boards: Boards, ana: User, ben: User, board) -> None:
    link, token = boards.create_link(ana, board.id, "edit")
    note = boards.add_note(None, board.id, "added through the link", token=token)
    assert boards.history(ana, board.id)[0].actor == f"link:{link.id}"
    boards.move_items(ben, board.id, [ItemMove(note.id, 40, 40)], token=token)
    assert boards.history(ana, board.id)[0].actor == ben.id
    for call in OWNER_ONLY.values():  # owner verbs take no token: a link never reaches them
        with pytest.raises(NotFound):
            call(boards, ben, board.id)
    assert boards.get(ana, board.id).board.status == "active" and len(boards.links(ana, board.id)) == 1


def test_a_revoked_link_stops_working_at_once(boards: Boards, ana: User, board) -> None:
    link, token = boards.create_link(ana, board.id, "edit")
    boards.add_note(None, board.id, "while it worked", token=token)
    assert boards.resolve_token(token) == (board.id, "edit")
    revoked = boards.revoke_link(ana, board.id, link.id)
    assert revoked.revoked_at is not None and not revoked.active
    before = _state(boards, ana, board.id)
    for call in (lambda: boards.get(None, board.id, token=token),
                 lambda: boards.add_note(None, board.id, "after revoking", token=token),
                 lambda: boards.resolve_token(token)):
        with pytest.raises(NotFound, match="revoked or has expired"):
            call()
    assert _state(boards, ana, board.id) == before


def test_an_expired_link_stops_working(boards: Boards, ana: User, board) -> None:
    link, token = boards.create_link(ana, board.id, "view", expires_in=timedelta(milliseconds=50))
    assert boards.get(None, board.id, token=token).role == "view"
    time.sleep(0.1)
    with pytest.raises(NotFound):
        boards.get(None, board.id, token=token)
    assert not boards.links(ana, board.id)[0].active
    with pytest.raises(InvalidInput):
        boards.create_link(ana, board.id, "view", expires_in=timedelta(seconds=-1))
    with pytest.raises(InvalidInput):
        boards.create_link(ana, board.id, "owner")


def test_tokens_are_long_random_and_stored_hashed(wb: Workbench, boards: Boards, ana: User, board) -> None:
    tokens = [boards.create_link(ana, board.id, "view")[1] for _ in range(3)]
    assert len(set(tokens)) == 3 and all(len(t) >= 43 for t in tokens)  # 32 random bytes, url-safe
    rows = wb.db.query("SELECT * FROM share_links WHERE board_id = ?", [board.id])
    stored = {r["token_hash"] for r in rows}
    assert {hashlib.sha256(t.encode()).hexdigest() for t in tokens} <= stored
    assert not any(t in str(r) for t in tokens for r in rows)
    events = wb.db.query("SELECT payload FROM board_events WHERE board_id = ?", [board.id])
    assert not any(t in e["payload"] for t in tokens for e in events)
    assert [link.label for link in boards.links(ana, board.id)] == ["", "", ""]


def test_a_link_opens_only_its_own_board(boards: Boards, ana: User, board) -> None:
    other = boards.create(ana, "Another board")
    _, token = boards.create_link(ana, other.id, "edit")
    with pytest.raises(NotFound):
        boards.get(None, board.id, token=token)


def test_members_by_email_and_id(boards: Boards, ana: User, ben: User, cara: User, board) -> None:
    member = boards.share_with(ana, board.id, "BEN@example.com", "view")
    assert (member.user_id, member.role, member.email) == (ben.id, "view", "ben@example.com")
    boards.share_with(ana, board.id, cara.id, "edit")
    assert {m.user_id: m.role for m in boards.members(ben, board.id)} == {ben.id: "view", cara.id: "edit"}
    assert {b.id: b.role for b in boards.list(ben)}[board.id] == "view"
    assert boards.get(ben, board.id).role == "view"
    with pytest.raises(Forbidden, match="view this board"):
        boards.add_note(ben, board.id, "no")

    note = boards.add_note(cara, board.id, "cara's idea")
    assert boards.get(cara, board.id).role == "edit" and note.text == "cara's idea"
    for call in OWNER_ONLY.values():  # an editor cannot escalate anyone, herself included
        with pytest.raises(Forbidden, match="owner"):
            call(boards, cara, board.id)
    with pytest.raises(Forbidden):
        boards.share_with(cara, board.id, ben.id, "edit")
    with pytest.raises(Forbidden):
        boards.unshare(cara, board.id, ben.id)
    assert all(e.kind != "share" for e in boards.history(cara, board.id))
    assert any(e.kind == "share" for e in boards.history(ana, board.id))

    boards.share_with(ana, board.id, ben.id, "edit")  # a role change
    boards.add_note(ben, board.id, "now I can")
    boards.unshare(ana, board.id, ben.id)
    with pytest.raises(NotFound):
        boards.get(ben, board.id)
    boards.unshare(cara, board.id, cara.id)  # leaving a board shared with you
    with pytest.raises(NotFound):
        boards.get(cara, board.id)
    for bad in ("nobody@example.com", "u_missing", ""):
        with pytest.raises(InvalidInput):
            boards.share_with(ana, board.id, bad, "view")
    with pytest.raises(InvalidInput):
        boards.share_with(ana, board.id, ana.id, "view")


def test_an_editor_adds_only_images_they_can_see(
    wb: Workbench, boards: Boards, ana: User, ben: User, board, secret_still
) -> None:
    boards.share_with(ana, board.id, ben.id, "edit")
    his = wb.library.ingest(ben, png_bytes((250, 250, 0), seed=9), filename="bens.png")
    boards.add_image(ben, board.id, his.id)
    # Ana sees Ben's private picture because it is on her board, not through her library.
    assert boards.board_image(ana, board.id, his.id)[:4] == b"RIFF"
    with pytest.raises(NotFound):
        wb.library.thumbnail(ana, his.id)
    ben_board = boards.create(ben, "Ben's own")
    with pytest.raises(NotFound):
        boards.add_images(ben, ben_board.id, [his.id, secret_still.id])
    assert boards.get(ben, ben_board.id).items == []
    # Copying the shared board leaves out her private picture: his copy outlives no access.
    copy = boards.duplicate(ben, board.id)
    kept = {i.image_id for i in boards.get(ben, copy.id).items if i.kind == "image"}
    assert kept == {his.id}


def test_archived_and_deleted_boards(boards: Boards, ana: User, ben: User, board) -> None:
    _, token = boards.create_link(ana, board.id, "edit")
    boards.share_with(ana, board.id, ben.id, "edit")
    boards.archive(ana, board.id)
    assert boards.get(None, board.id, token=token).board.status == "archived"
    with pytest.raises(Conflict, match="archived"):
        boards.add_note(ben, board.id, "too late")
    boards.unarchive(ana, board.id)
    boards.delete(ana, board.id)
    for who, tok in ((None, token), (ben, None)):
        with pytest.raises(NotFound):
            boards.get(who, board.id, token=tok)
    with pytest.raises(NotFound):
        boards.resolve_token(token)
    assert board.id not in {b.id for b in boards.list(ben)}
    boards.restore(ana, board.id)
    assert boards.get(None, board.id, token=token).role == "edit"
