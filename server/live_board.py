"""A board as one open view holds it, kept current by applying board events in sequence order.

Pure Python (no Panel): the board page, the co-editing stress test and the latency
benchmark all keep their views with this one class, so what a test proves about
it holds for the page.

Every board change is one event whose ``payload["ops"]`` are absolute operations
(see ``workbench.boards.history``): insert an item, delete an item, set fields of
an item, set the board's title or description. Applying them to the items a view
already has gives the board as stored, without reading it again. An event that
is not the next one (``seq`` is not ``revision + 1``) is a gap: the caller reads
what it missed with ``wb.boards.events_since`` or, failing that, reloads.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from workbench.boards import ACCESS_ENDED, Board, BoardEvent, BoardItem, BoardView

__all__ = ["LiveBoard", "Applied", "item_key"]

_ITEM_FIELDS = frozenset(f.name for f in dataclasses.fields(BoardItem)) - {"id", "board_id", "kind",
                                                                            "created_at", "updated_at"}
_BOARD_FIELDS = frozenset({"title", "description"})
# Events that change nothing drawn on the canvas: sharing (the owner's share panel) and comments (the side panel).
_OFF_CANVAS = frozenset({"share", "comment"})
_BORN_LIVE = 1 << 40  # items inserted live sort after every item the first read had (newer created_at)


def item_key(item: BoardItem, born: int) -> tuple[int, int, str]:
    """Where an item sits back to front: the store's order (z, created_at, id), with the
    creation order standing in for ``created_at`` (inserts of one event share a timestamp)."""
    return (item.z, born, item.id)


@dataclass
class Applied:
    """What one event (or a run of them) did to a view."""

    upserted: set[str] = field(default_factory=set)   # items inserted or changed
    removed: set[str] = field(default_factory=set)    # items taken off the board
    board: bool = False                               # title or description changed
    reload: bool = False                              # only a fresh read can say what the view shows now
    comments: bool = False                            # a comment was added, resolved, reopened or deleted
    ended: str = ""                                   # why the viewer may no longer open the board ('' = may)
    by: str = ""                                      # the name of whoever made the last change

    def merge(self, other: Applied) -> None:
        """Fold a later event's effect into this one."""
        self.upserted -= other.removed
        self.removed -= other.upserted
        self.upserted |= other.upserted
        self.removed |= other.removed
        self.board |= other.board
        self.reload |= other.reload
        self.comments |= other.comments
        self.ended = other.ended or self.ended
        self.by = other.by or self.by

    @property
    def empty(self) -> bool:
        return not (self.upserted or self.removed or self.board or self.reload or self.comments or self.ended)


class LiveBoard:
    """One view's copy of a board: its items, the images they show and the revision they are at.

    >>> live = LiveBoard.from_view(wb.boards.get(me, board_id))
    >>> live.follows(event)   # True when the event is the next one
    >>> applied = live.apply(event)
    """

    def __init__(self, board: Board, items: Iterable[BoardItem], images: dict[str, Any] | None = None,
                 role: str = "owner", *, can_comment: bool = False) -> None:
        self.board = board
        self.role = role
        self.can_comment = can_comment
        self.revision = board.revision
        self.images: dict[str, Any] = dict(images or {})
        self._items: dict[str, BoardItem] = {}
        self._born: dict[str, int] = {}
        for n, item in enumerate(items):
            self._items[item.id] = item
            self._born[item.id] = n

    @classmethod
    def from_view(cls, view: BoardView) -> LiveBoard:
        """A live copy of a board as ``wb.boards.get`` read it."""
        return cls(view.board, view.items, view.images, view.role, can_comment=view.can_comment)

    # -- reading ---------------------------------------------------------------------------
    @property
    def items(self) -> list[BoardItem]:
        """The items back to front, in the store's order."""
        return sorted(self._items.values(), key=lambda i: item_key(i, self._born[i.id]))

    def item(self, item_id: str) -> BoardItem | None:
        """One item, or None when it is not on the board (any more)."""
        return self._items.get(item_id)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._items

    def __len__(self) -> int:
        return len(self._items)

    def view(self) -> BoardView:
        """The board as a :class:`BoardView` (what ``wb.boards.get`` would return now)."""
        items = self.items
        board = dataclasses.replace(self.board, revision=self.revision, item_count=len(items))
        return BoardView(board=board, items=items, role=self.role, images=dict(self.images),
                         can_comment=self.can_comment)

    def missing_images(self, item_ids: Iterable[str]) -> list[str]:
        """Image ids that the given picture cards show and this view has no metadata for yet."""
        wanted = {item.image_id for i in item_ids if (item := self._items.get(i)) is not None
                  and item.kind == "image" and item.image_id}
        return sorted(w for w in wanted if w and w not in self.images)

    # -- following the event stream --------------------------------------------------------------
    def follows(self, event: BoardEvent) -> bool:
        """Whether ``event`` is the very next change (no gap before it)."""
        return event.seq == self.revision + 1

    def seen(self, event: BoardEvent) -> bool:
        """Whether this view already includes ``event`` (an older or repeated one)."""
        return event.seq <= self.revision

    def apply(self, event: BoardEvent) -> Applied:
        """Apply one event's operations (the caller checked :meth:`follows`); returns what changed."""
        payload = event.payload if isinstance(event.payload, dict) else {}
        if event.kind == ACCESS_ENDED:
            # The last word of a watch (its seq is the last one seen): the link was revoked, the board deleted...
            return Applied(ended=str(payload.get("reason") or "You can no longer open this board."))
        if self.seen(event):
            return Applied()
        self.revision = event.seq
        applied = Applied(by=str(payload.get("by") or ""))
        ops = payload.get("ops")
        if ops is None:
            # Sharing and comments carry no operations and change nothing drawn; a board archived,
            # deleted or restored changes what the viewer may do, which only a read can tell.
            applied.comments = event.kind == "comment"
            applied.reload = event.kind not in _OFF_CANVAS
            return applied
        for op in ops:
            self._apply_op(op, event.seq, applied)
        applied.comments = event.kind == "comment"
        return applied

    def skip_to(self, seq: int) -> None:
        """Note that every event up to ``seq`` is included (events the viewer may not see, e.g. sharing)."""
        self.revision = max(self.revision, seq)

    def _apply_op(self, op: dict[str, Any], seq: int, applied: Applied) -> None:
        kind = op.get("op")
        if kind == "insert":
            values = op["item"]
            if values["id"] in self._items:
                return  # absolute operations: an insert of a present item changes nothing (like the store)
            fields = {k: values.get(k) for k in _ITEM_FIELDS | {"id", "board_id", "kind"} if k in values}
            item = BoardItem(**{**fields, "board_id": self.board.id})
            self._items[item.id] = item
            self._born[item.id] = _BORN_LIVE + seq
            applied.upserted.add(item.id)
            applied.removed.discard(item.id)
        elif kind == "delete":
            if self._items.pop(op["id"], None) is not None:
                self._born.pop(op["id"], None)
                applied.removed.add(op["id"])
                applied.upserted.discard(op["id"])
        elif kind == "set":
            current = self._items.get(op["id"])
            # "kind" too: a storyboard frame waiting for its still (a note) becomes a picture card in place.
            values = {k: v for k, v in (op.get("values") or {}).items() if k in _ITEM_FIELDS or k == "kind"}
            if current is not None and values:  # the store skips a set on a removed item too
                self._items[current.id] = dataclasses.replace(current, **values)
                applied.upserted.add(current.id)
        elif kind == "board":
            values = {k: v for k, v in (op.get("values") or {}).items() if k in _BOARD_FIELDS}
            if values:
                self.board = dataclasses.replace(self.board, **values)
                applied.board = True
        else:
            applied.reload = True  # an operation this view does not know: read the board instead
