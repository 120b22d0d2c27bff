"""The board event bus on the embedded default (in-process) and its payloads; between replicas: test_event_bus_postgres.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from store import MetadataStore
from store.bus import InProcessBus, parse_payload, payload
from tests.helpers import Heard, open_wb
from workbench import Workbench
from workbench.boards import BoardEvent


# -- the embedded default: in-process, exactly as before ---------------------------------------
@pytest.fixture
def local(tmp_path: Path) -> Iterator[Workbench]:
    wb = open_wb(tmp_path)
    yield wb
    wb.close()


def test_embedded_listeners_hear_each_change_in_order_until_they_unsubscribe(local: Workbench) -> None:
    assert isinstance(local.bus, InProcessBus) and local.bus.health().listening
    me = local.accounts.create_user("ana@example.com")
    heard = Heard()
    stop = local.boards.subscribe(heard)
    board = local.boards.create(me, "Night shoot")
    note = local.boards.add_note(me, board.id, "rain")
    local.boards.rename(me, board.id, "Night exterior")
    local.boards.remove_items(me, board.id, [note.id])
    assert [(e.seq, e.kind) for e in heard.events] == [(1, "create"), (2, "add"), (3, "rename"), (4, "remove")]
    assert heard.events[1].payload == local.boards.history(me, board.id)[2].payload
    stop()
    local.boards.add_note(me, board.id, "nobody hears this one")
    assert len(heard.events) == 4


def test_a_failing_listener_does_not_stop_the_others_or_the_change(local: Workbench,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    me = local.accounts.create_user("ben@example.com")

    def broken(event: BoardEvent) -> None:
        raise RuntimeError("listener bug")

    heard = Heard()
    local.boards.subscribe(broken)
    local.boards.subscribe(heard)
    board = local.boards.create(me, "Wall")
    local.boards.add_note(me, board.id, "still saved")
    assert heard.seqs(board.id) == [1, 2]
    assert [i.text for i in local.boards.get(me, board.id).items] == ["still saved"]
    assert "board event listener failed" in caplog.text


def test_the_in_process_bus_tells_only_about_committed_events(tmp_path: Path) -> None:
    db = MetadataStore(tmp_path / "meta.duckdb")
    bus = InProcessBus()
    told: list[tuple[str, int]] = []
    bus.subscribe(lambda board_id, seq: told.append((board_id, seq)))

    def refused(tx):  # type: ignore[no-untyped-def]
        bus.publish(tx, "b_rolled_back", 1)
        raise ValueError("refused inside the transaction")

    with pytest.raises(ValueError, match="refused"):
        db.write(refused)
    db.write(lambda tx: bus.publish(tx, "b_kept", 7))
    db.close()
    assert told == [("b_kept", 7)]


def test_payloads_are_board_and_sequence_and_nothing_else() -> None:
    assert payload("b_1f2e", 12) == "b_1f2e:12"
    assert parse_payload("b_1f2e:12") == ("b_1f2e", 12)
    for hostile in ("b'; DROP TABLE boards; --", "", "a b", "b:1\n"):
        with pytest.raises(ValueError, match="board id"):
            payload(hostile, 1)
    with pytest.raises(ValueError, match="starts at 1"):
        payload("b_1", 0)
    for junk in ("", "b_1", "b_1:x", "b'1:2", ":3"):
        assert parse_payload(junk) is None
