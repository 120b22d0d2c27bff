"""Presence on a board (#20): who is here, how they are drawn, their selection and cursor, and when they go."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from store.bus import PostgresBus
from tests.helpers import open_wb
from workbench import InvalidInput, NotFound, Settings, User, Workbench
from workbench.boards.model import utcnow
from workbench.boards.presence import PALETTE, colour_for, initials

pytestmark = pytest.mark.timeout(120)


def _tab() -> str:
    return "tab-" + secrets.token_urlsafe(12)


@pytest.fixture(scope="module")
def wb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workbench]:
    bench = open_wb(tmp_path_factory.mktemp("presence"))
    yield bench
    bench.close()


@pytest.fixture(scope="module")
def ana(wb: Workbench) -> User:
    return wb.accounts.create_user("ana@example.com", display_name="Ana Lima")


@pytest.fixture(scope="module")
def ben(wb: Workbench) -> User:
    return wb.accounts.create_user("ben@example.com", display_name="ben")


@pytest.fixture
def board(wb: Workbench, ana: User, ben: User) -> str:
    made = wb.boards.create(ana, "Night shoot").id
    wb.boards.share_with(ana, made, ben, "view")
    return made


def _age(wb: Workbench, session: str, seconds: float) -> None:
    """Make a view's last beat ``seconds`` old (what a closed tab looks like that long after)."""
    wb.db.write(lambda cur: cur.execute("UPDATE board_presence SET seen_at = ? WHERE session_id = ?",
                                        [utcnow() - timedelta(seconds=seconds), session]))


def test_join_beat_present_leave(wb: Workbench, ana: User, ben: User, board: str) -> None:
    _, token = wb.boards.create_link(ana, board, "view")
    mine, his, guest = _tab(), _tab(), _tab()
    me = wb.boards.presence.join(ana, board, session_id=mine, display_name="ignored for Ana")
    assert (me.name, me.initials, me.guest, me.user_id, me.cursor, me.selection) == (
        "Ana Lima", "AL", False, ana.id, None, ())
    wb.boards.presence.join(ben, board, session_id=his)
    wb.boards.presence.join(None, board, token=token, session_id=guest)
    card = wb.boards.add_note(ana, board, "rain")
    assert wb.boards.presence.beat(mine, selection=[card.id], cursor=(120.5, -30.0))
    here = {p.session_id: p for p in wb.boards.presence.present(None, board, token=token)}
    assert list(here) == [mine, his, guest]  # first to join first
    assert here[mine].selection == (card.id,) and here[mine].cursor == (120.5, -30.0)
    assert (here[his].name, here[his].initials) == ("ben", "B")
    assert (here[guest].name, here[guest].initials, here[guest].guest, here[guest].user_id) == ("Guest", "G", True, None)
    assert all(p.colour in PALETTE for p in here.values())
    assert wb.boards.presence.beat(mine, cursor=None)  # the pointer left the canvas
    assert wb.boards.presence.present(ana, board)[0].cursor is None
    wb.boards.presence.leave(his)
    wb.boards.presence.leave(his)  # twice is fine
    assert [p.session_id for p in wb.boards.presence.present(ana, board)] == [mine, guest]
    assert not wb.boards.presence.beat(his)  # gone: the view must join again


def test_a_closed_tab_drops_off_within_ten_seconds(wb: Workbench, ana: User, ben: User, board: str) -> None:
    stays, closed = _tab(), _tab()
    wb.boards.presence.join(ana, board, session_id=stays)
    wb.boards.presence.join(ben, board, session_id=closed)
    _age(wb, closed, 9)
    assert len(wb.boards.presence.present(ana, board)) == 2
    _age(wb, closed, 10.5)
    assert [p.session_id for p in wb.boards.presence.present(ana, board)] == [stays]
    # Long-silent rows are deleted by the next join on the board, not kept for ever.
    _age(wb, closed, 120)
    wb.boards.presence.join(ana, board, session_id=_tab())
    count = wb.db.query_one("SELECT count(*) AS n FROM board_presence WHERE session_id = ?", [closed])
    assert count is not None and count["n"] == 0


def test_colours_are_stable_per_person(wb: Workbench, ana: User, ben: User, board: str) -> None:
    other = wb.boards.create(ana, "Second board").id
    first = wb.boards.presence.join(ana, board, session_id=_tab())
    second = wb.boards.presence.join(ana, other, session_id=_tab())
    again = wb.boards.presence.join(ana, board, session_id=_tab())
    assert first.colour == second.colour == again.colour
    _, token = wb.boards.create_link(ana, other, "view")
    guests = {wb.boards.presence.join(None, other, token=token, session_id=_tab()).colour for _ in range(12)}
    assert guests <= set(PALETTE) and len(guests) > 1  # people differ, from the one palette


def test_people_on_one_board_get_distinct_colours(wb: Workbench, ana: User, board: str) -> None:
    # Two people whose own colours clash (the same hash bucket): the second gets another one.
    twins: list[User] = []
    for n in range(400):  # user ids are random: about one in 12 shares Ana's colour
        person = wb.accounts.create_user(f"twin{n}@example.com")
        if colour_for(person.id) == colour_for(ana.id):
            twins.append(person)
            if len(twins) == 2:
                break
    assert len(twins) == 2
    for twin in twins:
        wb.boards.share_with(ana, board, twin, "view")
    mine = wb.boards.presence.join(ana, board, session_id=_tab())
    first = wb.boards.presence.join(twins[0], board, session_id=_tab())
    assert mine.colour == colour_for(ana.id) != first.colour  # the first to come keeps their own
    assert first.colour == PALETTE[(PALETTE.index(mine.colour) + 1) % len(PALETTE)]  # the next free one, in order
    assert wb.boards.presence.join(ana, board, session_id=_tab()).colour == mine.colour  # one person, one colour
    # A guest view and the other twin: every open view of a different person differs.
    _, token = wb.boards.create_link(ana, board, "comment")
    wb.boards.presence.join(None, board, token=token, session_id=_tab())
    wb.boards.presence.join(twins[1], board, session_id=_tab())
    here = wb.boards.presence.present(ana, board)
    people = {p.user_id or p.session_id: p.colour for p in here}
    assert len(set(people.values())) == len(people) == 4
    # Someone who left frees their colour: the twin who comes next takes it (the same answer on every replica).
    leaving = next(p.session_id for p in here if p.user_id == twins[0].id)
    wb.boards.presence.leave(leaving)
    assert wb.boards.presence.join(twins[0], board, session_id=_tab()).colour == first.colour
    # With every colour taken, a newcomer falls back to their own (a 13th person shares one).
    crowd = [wb.accounts.create_user(f"crowd{n}@example.com") for n in range(len(PALETTE))]
    for person in crowd:
        wb.boards.share_with(ana, board, person, "view")
        wb.boards.presence.join(person, board, session_id=_tab())
    colours = [p.colour for p in wb.boards.presence.present(ana, board)]
    assert set(colours) == set(PALETTE) and len(colours) == 5 + len(crowd)
    last = next(p for p in wb.boards.presence.present(ana, board) if p.user_id == crowd[-1].id)
    assert last.colour == colour_for(crowd[-1].id)


def test_guest_names_are_user_text(wb: Workbench, ana: User, board: str) -> None:
    _, token = wb.boards.create_link(ana, board, "edit")
    hostile = wb.boards.presence.join(None, board, token=token, session_id=_tab(),
                                      display_name="<img src=x onerror=alert(1)>\x00\u202e\n Dee")
    assert hostile.name == "<img src=x onerror=alert(1)>\u202e Dee" and hostile.guest
    assert hostile.initials == "SO"  # letters of words that start with one: never markup
    assert wb.boards.presence.join(None, board, token=token, session_id=_tab(), display_name="Dee Ray").initials == "DR"
    with pytest.raises(InvalidInput, match="display name"):
        wb.boards.presence.join(None, board, token=token, session_id=_tab(), display_name="x" * 61)
    assert initials("") == "?" and initials("ana.lima@example.com") == "AL" and initials("Ève Noir") == "ÈN"


def test_inputs_are_checked(wb: Workbench, ana: User, board: str) -> None:
    tab = _tab()
    wb.boards.presence.join(ana, board, session_id=tab)
    for bad in ("short", "has spaces in it", "x" * 200, "<script>alert(1)</script>", 12345678):
        with pytest.raises(InvalidInput, match="session id"):
            wb.boards.presence.join(ana, board, session_id=bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="off the canvas"):
        wb.boards.presence.beat(tab, cursor=(float("nan"), 0))
    with pytest.raises(InvalidInput, match="list of card ids"):
        wb.boards.presence.beat(tab, selection="bi_1")
    with pytest.raises(InvalidInput, match="card ids"):
        wb.boards.presence.beat(tab, selection=["x" * 65])
    assert wb.boards.presence.present(ana, board)[-1].cursor is None  # a refused beat changed nothing


def test_access_is_checked_on_join_and_present(wb: Workbench, ana: User, ben: User, board: str) -> None:
    stranger = wb.accounts.create_user("eve@example.com")
    with pytest.raises(NotFound):
        wb.boards.presence.join(stranger, board, session_id=_tab())
    with pytest.raises(NotFound):
        wb.boards.presence.present(stranger, board)
    link, token = wb.boards.create_link(ana, board, "view")
    guest = _tab()
    wb.boards.presence.join(None, board, token=token, session_id=guest)
    with pytest.raises(InvalidInput, match="in use"):  # one view's session id is not another's to take
        wb.boards.presence.join(ana, board, session_id=guest)
    wb.boards.revoke_link(ana, board, link.id)
    assert guest not in {p.session_id for p in wb.boards.presence.present(ana, board)}
    assert not wb.boards.presence.beat(guest)
    with pytest.raises(NotFound):
        wb.boards.presence.join(None, board, token=token, session_id=guest)
    his = _tab()
    wb.boards.presence.join(ben, board, session_id=his)
    wb.boards.unshare(ana, board, ben)
    assert not wb.boards.presence.beat(his)


def test_an_expired_link_is_no_longer_listed(wb: Workbench, ana: User, board: str) -> None:
    _, token = wb.boards.create_link(ana, board, "view", expires_in=timedelta(seconds=30))
    guest = _tab()
    wb.boards.presence.join(None, board, token=token, session_id=guest)
    wb.db.write(lambda cur: cur.execute("UPDATE share_links SET expires_at = ? WHERE board_id = ? AND role = 'view'",
                                        [utcnow() - timedelta(seconds=1), board]))
    assert guest not in {p.session_id for p in wb.boards.presence.present(ana, board)}


# -- two replicas on PostgreSQL ------------------------------------------------------------------------------
def _settings(home: Path, dsn: str, shared: Path) -> Settings:
    settings = Settings(home=home, storage={  # type: ignore[arg-type]
        "metadata_backend": "postgres", "metadata_dsn": dsn,
        "blob_url": str(shared / "blobs"), "vector_url": str(shared / "vectors")})
    settings.library.load_samples = False
    return settings


def test_presence_joined_on_one_replica_is_listed_on_the_other(pg_dsn: str, tmp_path: Path) -> None:
    a = Workbench(_settings(tmp_path / "a", pg_dsn, tmp_path))
    b = Workbench(_settings(tmp_path / "b", pg_dsn, tmp_path))
    try:
        assert isinstance(a.bus, PostgresBus)
        ana = a.accounts.create_user("ana@example.com", display_name="Ana")
        board = a.boards.create(ana, "Night shoot").id
        link, token = a.boards.create_link(ana, board, "comment")
        hers, guest = _tab(), _tab()
        a.boards.presence.join(ana, board, session_id=hers)
        b.boards.presence.join(None, board, token=token, session_id=guest, display_name="Dee")
        assert b.boards.presence.beat(hers, selection=["bi_1"], cursor=(1.5, 2.5))  # a beat may land anywhere
        listed = {p.session_id: p for p in b.boards.presence.present(ana, board)}
        assert list(listed) == [hers, guest]
        assert (listed[hers].name, listed[hers].selection, listed[hers].cursor) == ("Ana", ("bi_1",), (1.5, 2.5))
        assert [p.name for p in a.boards.presence.present(None, board, token=token)] == ["Ana", "Dee"]
        a.boards.revoke_link(ana, board, link.id)  # on A: the guest's row on B's list goes with it
        assert [p.session_id for p in b.boards.presence.present(ana, board)] == [hers]
        b.boards.presence.leave(hers)
        assert a.boards.presence.present(ana, board) == []
    finally:
        a.close()
        b.close()


def test_two_replicas_joining_one_board_at_once_give_distinct_colours(pg_dsn: str, tmp_path: Path) -> None:
    a = Workbench(_settings(tmp_path / "a", pg_dsn, tmp_path))
    b = Workbench(_settings(tmp_path / "b", pg_dsn, tmp_path))
    try:
        ana = a.accounts.create_user("ana@example.com", display_name="Ana")
        boards = [a.boards.create(ana, f"Rush {n}").id for n in range(8)]
        tokens = [a.boards.create_link(ana, board, "view")[1] for board in boards]
        for board, token in zip(boards, tokens, strict=True):
            # Two guests, one per replica, join the same board in the same instant; guests' own
            # colours come from their session ids, so make both want the same one.
            first = _tab()
            second = next(t for t in iter(_tab, None) if colour_for(t) == colour_for(first))
            start = threading.Barrier(2)

            def join(wb: Workbench, tab: str, token: str = token, board: str = board,
                     start: threading.Barrier = start) -> None:
                start.wait(timeout=10)
                wb.boards.presence.join(None, board, token=token, session_id=tab)

            threads = [threading.Thread(target=join, args=(wb, tab)) for wb, tab in ((a, first), (b, second))]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            colours = [p.colour for p in a.boards.presence.present(ana, board)]
            assert len(colours) == 2 and len(set(colours)) == 2, f"{board}: both guests got {colours[0]}"
    finally:
        a.close()
        b.close()
