"""A board's activity history: one event per change, and the operations that undo and redo it.

Every change is expressed as a short list of *operations* on the board's rows
(insert an item, delete an item, set some of an item's fields, set the board's
title or description). The event stores the operations it applied (``payload``)
and the operations that take it back (``inverse``), both as JSON, in the same
transaction as the change itself. Undo applies the inverse, redo applies the
payload again, so neither needs to know what kind of change it is.

Operations are absolute ("x becomes 120"), never relative, so applying them
twice is harmless; an operation on an item someone else has since removed is
skipped, which keeps undo usable on a board several people edit at once.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from store import Tx
from workbench.boards.model import ITEM_COLUMNS, BoardEvent, BoardItem

__all__ = [
    "UNDOABLE", "Listener", "Listeners", "apply_ops", "insert_ops", "delete_ops", "set_ops",
    "record_event", "event_from_row", "load_items", "deleted_by",
]

log = logging.getLogger(__name__)

Op = dict[str, Any]
Listener = Callable[[BoardEvent], None]

# Changes to what is on the board; lifecycle and sharing changes have their own verbs.
UNDOABLE = ("add", "remove", "move", "reorder", "update", "rename", "describe")
# "kind" is settable for one change only: a frame waiting for its still (a note) becoming a picture card
# in its place (``replace_image``), so the storyboard's link to the card's id holds; undo sets it back.
_SETTABLE_ITEM = set(ITEM_COLUMNS) - {"id", "board_id"}
_SETTABLE_BOARD = {"title", "description"}


def load_items(cur: Tx, board_id: str, ids: Iterable[str] | None = None) -> list[BoardItem]:
    """Items of a board (all, or the given ids), back to front."""
    sql = "SELECT * FROM board_items WHERE board_id = ?"
    params: list[Any] = [board_id]
    if ids is not None:
        sql += " AND list_contains(?, id)"
        params.append(list(ids))
    result = cur.execute(sql + " ORDER BY z, created_at, id", params)
    columns = [d[0] for d in result.description or []]
    return [BoardItem.from_row(dict(zip(columns, row, strict=True))) for row in result.fetchall()]


def deleted_by(cur: Tx, board_id: str, item_id: str) -> str | None:
    """Who took ``item_id`` off this board (the actor of the latest change that deleted it), or None.

    None when the board's history never had such an item (an id from another board, or
    made up). Only asked when an item is missing, so reading the board's history is fine.
    """
    rows = cur.execute(
        "SELECT actor, payload FROM board_events WHERE board_id = ? AND contains(payload, ?)"
        " ORDER BY seq DESC LIMIT 50", [board_id, item_id]).fetchall()
    for actor, payload in rows:
        # An undo applies the inverse of its target, which the undo event also records as its ops.
        ops = json.loads(payload).get("ops", [])
        if any(op.get("op") == "delete" and op.get("id") == item_id for op in ops):
            return str(actor)
    return None


# -- building operations -------------------------------------------------------------
def insert_ops(items: Iterable[BoardItem]) -> tuple[list[Op], list[Op]]:
    """(payload, inverse) for placing new items."""
    items = list(items)
    return ([{"op": "insert", "item": i.columns()} for i in items],
            [{"op": "delete", "id": i.id} for i in reversed(items)])


def delete_ops(items: Iterable[BoardItem]) -> tuple[list[Op], list[Op]]:
    """(payload, inverse) for taking items off the board."""
    items = list(items)
    return ([{"op": "delete", "id": i.id} for i in items],
            [{"op": "insert", "item": i.columns()} for i in reversed(items)])


def set_ops(before: dict[str, BoardItem], changes: dict[str, dict[str, Any]]) -> tuple[list[Op], list[Op]]:
    """(payload, inverse) for changing fields of items; fields that do not change are left out."""
    payload, inverse = [], []
    for item_id, values in changes.items():
        old = before[item_id]
        changed = {k: v for k, v in values.items() if getattr(old, k) != v}
        if changed:
            payload.append({"op": "set", "id": item_id, "values": changed})
            inverse.append({"op": "set", "id": item_id, "values": {k: getattr(old, k) for k in changed}})
    return payload, inverse


# -- applying operations ---------------------------------------------------------------
_TYPES = {"x": "DOUBLE", "y": "DOUBLE", "w": "DOUBLE", "h": "DOUBLE", "z": "INTEGER", "range_start": "INTEGER",
          "range_end": "INTEGER"}
_BATCH = 200  # rows per statement: DuckDB pays ~1 ms per statement, so a 500-item drag is a few statements


def _groups(ops: list[Op]) -> Iterator[tuple[str, list[Op]]]:
    """Runs of operations that one statement can apply (same kind, same fields, distinct items)."""
    key: Any = None
    group: list[Op] = []
    ids: set[str] = set()
    for op in ops:
        kind = op["op"]
        op_id = op["item"]["id"] if kind == "insert" else op.get("id", "")
        op_key = (kind, tuple(sorted(op["values"]))) if kind == "set" else kind
        if group and (op_key != key or kind == "board" or op_id in ids or len(group) >= _BATCH):
            yield key if isinstance(key, str) else key[0], group
            group, ids = [], set()
        key = op_key
        group.append(op)
        ids.add(op_id)
    if group:
        yield key if isinstance(key, str) else key[0], group


def _insert(cur: Tx, board_id: str, items: list[dict[str, Any]], now: datetime) -> None:
    present = {r[0] for r in cur.execute("SELECT id FROM board_items WHERE list_contains(?, id)",
                                         [[i["id"] for i in items]]).fetchall()}
    rows = [i for i in items if i["id"] not in present]
    if not rows:
        return
    marks = ", ".join(["(" + ", ".join("?" * (len(ITEM_COLUMNS) + 2)) + ")"] * len(rows))
    params: list[Any] = []
    for item in rows:
        params += [item[c] if c != "board_id" else board_id for c in ITEM_COLUMNS] + [now, now]
    cur.execute(f"INSERT INTO board_items ({', '.join(ITEM_COLUMNS)}, created_at, updated_at) VALUES {marks}",
                params)


def _set(cur: Tx, board_id: str, group: list[Op], now: datetime) -> None:
    fields = [k for k in group[0]["values"] if k in _SETTABLE_ITEM]
    if not fields:
        return
    # The timestamp rides in each row: DuckDB numbers the FROM clause's parameters
    # before the SET clause's, so a lone "updated_at = ?" would bind out of order.
    row = "(?, CAST(? AS TIMESTAMP), " + ", ".join(f"CAST(? AS {_TYPES.get(f, 'VARCHAR')})" for f in fields) + ")"
    params: list[Any] = []
    for op in group:
        params += [op["id"], now, *(op["values"][f] for f in fields)]
    cur.execute(
        f"UPDATE board_items SET {', '.join(f'{f} = v.{f}' for f in fields)}, updated_at = v.changed_at"
        f" FROM (VALUES {', '.join([row] * len(group))}) AS v(id, changed_at, {', '.join(fields)})"
        " WHERE board_items.id = v.id AND board_items.board_id = ?",
        [*params, board_id],
    )


def apply_ops(cur: Tx, board_id: str, ops: list[Op], now: datetime) -> None:
    """Apply operations to a board's rows (inside the caller's transaction), in order."""
    for kind, group in _groups(ops):
        if kind == "insert":
            _insert(cur, board_id, [op["item"] for op in group], now)
        elif kind == "delete":
            cur.execute("DELETE FROM board_items WHERE list_contains(?, id) AND board_id = ?",
                        [[op["id"] for op in group], board_id])
        elif kind == "set":
            _set(cur, board_id, group, now)
        elif kind == "board":
            values = {k: v for k, v in group[0]["values"].items() if k in _SETTABLE_BOARD}
            if values:
                assignments = ", ".join(f"{k} = ?" for k in values)
                cur.execute(f"UPDATE boards SET {assignments} WHERE id = ?", [*values.values(), board_id])
        else:
            raise ValueError(f"unknown board operation {kind!r}")


# -- events ----------------------------------------------------------------------------
def record_event(
    cur: Tx,
    board_id: str,
    actor: str,
    kind: str,
    payload: dict[str, Any],
    inverse: list[Op] | None,
    now: datetime,
) -> BoardEvent:
    """Write the event of a change and bump the board's revision; its ``seq`` is the new revision."""
    # No UPDATE ... RETURNING: DuckDB cannot return rows from an update of a PostgreSQL table.
    changed = cur.scalar("UPDATE boards SET revision = revision + 1, updated_at = ? WHERE id = ?", [now, board_id])
    assert changed, "the board of an event must exist"
    seq = int(cur.scalar("SELECT revision FROM boards WHERE id = ?", [board_id]))
    event_id = "ev_" + uuid.uuid4().hex
    cur.execute(
        "INSERT INTO board_events VALUES (?, ?, ?, ?, ?, ?, ?, false, ?)",
        [event_id, board_id, seq, actor, kind, json.dumps(payload), json.dumps(inverse) if inverse else "", now],
    )
    return BoardEvent(event_id, board_id, seq, actor, kind, payload, False, now)


def event_from_row(row: dict[str, Any]) -> BoardEvent:
    """A stored event as a :class:`BoardEvent`."""
    return BoardEvent(
        id=row["id"], board_id=row["board_id"], seq=int(row["seq"]), actor=row["actor"], kind=row["kind"],
        payload=json.loads(row["payload"]), undone=bool(row["undone"]), created_at=row["created_at"],
    )


class Listeners:
    """In-process subscribers told about each board event after it is committed.

    This is the seam for real-time co-editing: the web app subscribes once and
    forwards events to the sessions that show the board.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []

    def add(self, listener: Listener) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def remove() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return remove

    def notify(self, events: Iterable[BoardEvent]) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for event in events:
            for listener in listeners:
                try:
                    listener(event)
                except Exception:  # a broken subscriber must not undo or fail a committed change
                    log.exception("board event listener failed on %s #%s", event.board_id, event.seq)
