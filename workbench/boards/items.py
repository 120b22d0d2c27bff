"""The canvas: putting images, notes, script excerpts, headings and links on a board,
and moving, restyling, restacking and removing them.

Each call is one change with one event, however many items it touches: a
multi-select drag of forty frames is one ``move`` the history shows (and undo
reverts) as one step.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from store import Tx
from workbench.accounts import User
from workbench.boards.access import Access
from workbench.boards.core import BoardsBase, Change, open_thumbnail
from workbench.boards.history import apply_ops, delete_ops, deleted_by, insert_ops, load_items, set_ops
from workbench.boards.model import (
    MAX_CAPTION,
    MAX_HEADING,
    MAX_ITEMS,
    MAX_NOTE,
    BoardItem,
    ItemMove,
    check_point,
    check_size,
    clean_color,
    clean_url,
)
from workbench.errors import Conflict, Forbidden, InvalidInput, NotFound
from workbench.library.model import LibraryImage
from workbench.text import clean_text

__all__ = ["BoardCanvas", "DEFAULT_SIZES"]

DEFAULT_SIZES = {"image": (240.0, 240.0), "note": (240.0, 160.0), "script": (320.0, 220.0),
                 "heading": (480.0, 64.0), "link": (240.0, 80.0)}
GRID_CELL = 260.0   # auto-placement: a 240-pixel item plus a gutter
GRID_COLUMNS = 6


def _image_size(image: LibraryImage) -> tuple[float, float]:
    # Fit the picture in the default 240 x 240 box, keeping its shape.
    side = DEFAULT_SIZES["image"][0]
    scale = side / max(image.width, image.height, 1)
    return max(round(image.width * scale), 8.0), max(round(image.height * scale), 8.0)


def _free_cells(existing: list[BoardItem], count: int) -> list[tuple[float, float]]:
    """Top-left corners of the first ``count`` grid cells no item overlaps, row by row."""
    taken: set[tuple[int, int]] = set()
    for item in existing:
        if item.x + item.w <= 0 or item.y + item.h <= 0:
            continue
        first_col, last_col = int(max(item.x, 0) // GRID_CELL), int((item.x + item.w - 1e-6) // GRID_CELL)
        first_row, last_row = int(max(item.y, 0) // GRID_CELL), int((item.y + item.h - 1e-6) // GRID_CELL)
        for row in range(first_row, min(last_row, first_row + 400) + 1):
            for col in range(first_col, min(last_col, GRID_COLUMNS - 1) + 1):
                taken.add((row, col))
    cells: list[tuple[float, float]] = []
    cell = 0
    while len(cells) < count:
        row, col = divmod(cell, GRID_COLUMNS)
        if (row, col) not in taken:
            cells.append((col * GRID_CELL, row * GRID_CELL))
        cell += 1
    return cells


def _ids(item_ids: Iterable[str]) -> list[str]:
    ids = list(dict.fromkeys(item_ids))
    if not ids:
        raise InvalidInput("Select at least one item.")
    if len(ids) > MAX_ITEMS:
        raise InvalidInput(f"A board holds at most {MAX_ITEMS} items; select fewer.")
    return ids


def _existing(cur: Tx, board_id: str, ids: list[str], actor: str = "") -> dict[str, BoardItem]:
    """The items, or Conflict when one was deleted meanwhile (NotFound when it was never on this board)."""
    found = {item.id: item for item in load_items(cur, board_id, ids)}
    missing = [i for i in ids if i not in found]
    if missing:
        by = deleted_by(cur, board_id, missing[0])
        if by is None:
            raise NotFound(f"Item {missing[0]} is not on this board.")
        count = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        if by == actor:
            raise Conflict(f"This card{count} was already deleted (perhaps in another window), so it cannot be "
                           "changed; undo the deletion to bring it back.")
        raise Conflict(f"This card{count} was deleted by someone else while you were working on it, so your "
                       "change was not saved; ask them to undo the deletion, or add it again.")
    return found


class BoardCanvas(BoardsBase):
    """Item operations of :class:`~workbench.boards.Boards`."""

    # -- adding ------------------------------------------------------------------------
    def _add(
        self, user: User | None, board_id: str, token: str | None, specs: list[dict[str, Any]],
    ) -> list[BoardItem]:
        """Place new items (auto-placed where no x/y is given) as one ``add`` change."""
        for spec in specs:
            if spec.get("x") is not None or spec.get("y") is not None:
                spec["x"], spec["y"] = check_point(spec.get("x"), spec.get("y"))
            spec["w"], spec["h"] = check_size(*spec["size"])
            spec["color"] = clean_color(spec.get("color", ""))
            spec["caption"] = clean_text(spec.get("caption", ""), field="caption", max_chars=MAX_CAPTION,
                                         multiline=True)

        def build(cur: Tx, access: Access, now: datetime) -> Change[list[BoardItem]]:
            existing = load_items(cur, board_id)
            if len(existing) + len(specs) > MAX_ITEMS:
                raise InvalidInput(
                    f"A board holds at most {MAX_ITEMS} items and this one has {len(existing)}; "
                    "start a second board or remove some items."
                )
            cells = iter(_free_cells(existing, sum(1 for s in specs if s.get("x") is None)))
            top = max((i.z for i in existing), default=0)
            items = []
            for n, spec in enumerate(specs, start=1):
                x, y = (spec["x"], spec["y"]) if spec.get("x") is not None else next(cells)
                items.append(BoardItem(
                    id="bi_" + uuid.uuid4().hex[:16], board_id=board_id, kind=spec["kind"], x=x, y=y,
                    w=spec["w"], h=spec["h"], z=top + n, text=spec.get("text", ""), caption=spec["caption"],
                    color=spec["color"], url=spec.get("url", ""), image_id=spec.get("image_id"),
                    document_id=spec.get("document_id"), range_start=spec.get("range_start"),
                    range_end=spec.get("range_end"), created_at=now, updated_at=now,
                ))
            payload, inverse = insert_ops(items)
            apply_ops(cur, board_id, payload, now)
            kinds = sorted({i.kind for i in items})
            return Change(items, "add", {"count": len(items), "kinds": kinds, "ops": payload}, inverse)

        return self._change(user, board_id, token, need="edit", action="add to it", build=build)

    def add_images(
        self, user: User | None, board_id: str, image_ids: Sequence[str], *, token: str | None = None,
    ) -> list[BoardItem]:
        """Put several library images on a board at once (auto-placed in a grid), as one step.

        Only images the acting person can see in the library can be added.
        """
        self._access(user, board_id, token, need="edit", action="add to it")
        if not image_ids:
            raise InvalidInput("Choose at least one image to add.")
        found = self._library.get_many(list(dict.fromkeys(image_ids)))
        specs = []
        for image_id in image_ids:
            image = found.get(image_id)
            if image is None or not self._library.can_see(user, image):
                raise NotFound(f"No image {image_id} in your library.")
            specs.append({"kind": "image", "image_id": image.id, "size": _image_size(image)})
        return self._add(user, board_id, token, specs)

    def add_image(
        self, user: User | None, board_id: str, image_id: str, *, x: float | None = None, y: float | None = None,
        w: float | None = None, h: float | None = None, caption: str = "", color: str = "",
        token: str | None = None,
    ) -> BoardItem:
        """Put a library image on a board; with no x/y it goes into the next free grid cell.

        >>> item = wb.boards.add_image(me, board.id, still.id)
        """
        self._access(user, board_id, token, need="edit", action="add to it")
        image = self._library.get_many([image_id]).get(image_id)
        if image is None or not self._library.can_see(user, image):
            raise NotFound(f"No image {image_id} in your library.")
        size = (w, h) if w is not None and h is not None else _image_size(image)
        spec = {"kind": "image", "image_id": image.id, "x": x, "y": y, "size": size, "caption": caption,
                "color": color}
        return self._add(user, board_id, token, [spec])[0]

    def _add_one(self, user: User | None, board_id: str, token: str | None, kind: str,
                 place: tuple[float | None, float | None, float | None, float | None], **spec: Any) -> BoardItem:
        x, y, w, h = place
        default = DEFAULT_SIZES[kind]
        spec.update(kind=kind, x=x, y=y, size=(w if w is not None else default[0], h if h is not None else default[1]))
        return self._add(user, board_id, token, [spec])[0]

    def add_note(
        self, user: User | None, board_id: str, text: str, *, x: float | None = None, y: float | None = None,
        w: float | None = None, h: float | None = None, color: str = "", caption: str = "",
        token: str | None = None,
    ) -> BoardItem:
        """Pin a text note (up to 20 000 characters) on a board."""
        clean = clean_text(text, field="note", max_chars=MAX_NOTE, multiline=True)
        return self._add_one(user, board_id, token, "note", (x, y, w, h), text=clean, color=color, caption=caption)

    def add_heading(
        self, user: User | None, board_id: str, text: str, *, x: float | None = None, y: float | None = None,
        w: float | None = None, h: float | None = None, color: str = "", token: str | None = None,
    ) -> BoardItem:
        """Put a one-line heading over a group of items (e.g. "Act two: the chase")."""
        clean = clean_text(text, field="heading", max_chars=MAX_HEADING, multiline=False).strip()
        if not clean:
            raise InvalidInput("A heading needs some text.")
        return self._add_one(user, board_id, token, "heading", (x, y, w, h), text=clean, color=color)

    def add_link(
        self, user: User | None, board_id: str, url: str, *, title: str = "", x: float | None = None,
        y: float | None = None, w: float | None = None, h: float | None = None, color: str = "",
        caption: str = "", token: str | None = None,
    ) -> BoardItem:
        """Pin a web reference (http or https only) with an optional title."""
        clean_title = clean_text(title, field="link title", max_chars=MAX_HEADING, multiline=False)
        return self._add_one(user, board_id, token, "link", (x, y, w, h), url=clean_url(url), text=clean_title,
                             color=color, caption=caption)

    def add_script_excerpt(
        self, user: User | None, board_id: str, document_id: str, start: int, end: int, *,
        x: float | None = None, y: float | None = None, w: float | None = None, h: float | None = None,
        color: str = "", caption: str | None = None, token: str | None = None,
    ) -> BoardItem:
        """Quote characters ``start:end`` of a writing document; the text is copied now and the
        document and range are kept, so the card still reads right if the script changes later.
        The caption defaults to the document's title."""
        self._access(user, board_id, token, need="edit", action="add to it")
        if user is None or self._writing is None:
            raise Forbidden("Sign in to quote your own scripts on a board.")
        document = self._writing.get(user, document_id)
        if not (isinstance(start, int) and isinstance(end, int)) or not 0 <= start < end <= len(document.body):
            raise InvalidInput(
                f"Choose a range inside the document: 0 <= start < end <= {len(document.body)} (got {start}..{end})."
            )
        text = clean_text(document.body[start:end], field="excerpt", max_chars=MAX_NOTE, multiline=True)
        return self._add_one(
            user, board_id, token, "script", (x, y, w, h), text=text, document_id=document.id, range_start=start,
            range_end=end, color=color, caption=document.title if caption is None else caption,
        )

    # -- changing -----------------------------------------------------------------------
    def update_item(
        self, user: User | None, board_id: str, item_id: str, *, text: str | None = None,
        caption: str | None = None, color: str | None = None, url: str | None = None, token: str | None = None,
    ) -> BoardItem:
        """Change an item's text (notes, headings, link titles), caption, colour ('' clears it) or link."""
        values: dict[str, Any] = {}
        if caption is not None:
            values["caption"] = clean_text(caption, field="caption", max_chars=MAX_CAPTION, multiline=True)
        if color is not None:
            values["color"] = clean_color(color)
        if url is not None:
            values["url"] = clean_url(url)
        if not values and text is None:
            raise InvalidInput("Nothing to change: give a text, caption, colour or link.")

        def build(cur: Tx, access: Access, now: datetime) -> Change[BoardItem]:
            before = _existing(cur, board_id, [item_id], access.actor)
            item = before[item_id]
            if url is not None and item.kind != "link":
                raise InvalidInput("Only link items have a web address.")
            if text is not None:
                limits = {"note": (MAX_NOTE, True), "heading": (MAX_HEADING, False), "link": (MAX_HEADING, False)}
                if item.kind not in limits:
                    raise InvalidInput(f"A {item.kind} item's text cannot be edited; change its caption instead.")
                limit, multiline = limits[item.kind]
                values["text"] = clean_text(text, field=item.kind, max_chars=limit, multiline=multiline)
            payload, inverse = set_ops(before, {item_id: values})
            apply_ops(cur, board_id, payload, now)
            updated = load_items(cur, board_id, [item_id])[0]
            return Change(updated, "update", {"ids": [item_id], "fields": sorted(values), "ops": payload},
                          inverse, record=bool(payload))

        return self._change(user, board_id, token, need="edit", action="change it", build=build)

    def color_items(self, user: User | None, board_id: str, item_ids: Iterable[str], color: str, *,
                    token: str | None = None) -> list[BoardItem]:
        """Give the selected cards one colour (``#rrggbb``; '' takes it off), as one undoable step."""
        ids = _ids(item_ids)
        changes = {item_id: {"color": clean_color(color)} for item_id in ids}

        def build(cur: Tx, access: Access, now: datetime) -> Change[list[BoardItem]]:
            payload, inverse = set_ops(_existing(cur, board_id, ids, access.actor), changes)
            apply_ops(cur, board_id, payload, now)
            return Change(load_items(cur, board_id, ids), "update", {"ids": ids, "fields": ["color"], "ops": payload},
                          inverse, record=bool(payload))

        return self._change(user, board_id, token, need="edit", action="change it", build=build)

    def replace_image(self, user: User | None, board_id: str, item_id: str, image_id: str, *,
                      token: str | None = None) -> BoardItem:
        """Show another library still in an image card (a storyboard frame keeps its place, size and caption).

        A frame still waiting for its picture (a note starting with :data:`PLACEHOLDER`) becomes a picture card.

        Only an image the acting person can see in the library can go in; undo brings the old one back.
        """
        self._access(user, board_id, token, need="edit", action="change it")
        image = self._library.get_many([image_id]).get(image_id)
        if image is None or image.status == "deleting" or not self._library.can_see(user, image):
            raise NotFound(f"No image {image_id} in your library.")

        def build(cur: Tx, access: Access, now: datetime) -> Change[BoardItem]:
            before = _existing(cur, board_id, [item_id], access.actor)
            if before[item_id].placeholder:  # a frame waiting for its still becomes a picture card in its place
                values: dict[str, Any] = {"kind": "image", "image_id": image.id, "text": ""}
            elif before[item_id].kind == "image":
                values = {"image_id": image.id}
            else:
                raise InvalidInput("Only a picture card (or a frame still waiting for one) can show a still.")
            payload, inverse = set_ops(before, {item_id: values})
            apply_ops(cur, board_id, payload, now)
            return Change(load_items(cur, board_id, [item_id])[0], "update",
                          {"ids": [item_id], "fields": sorted(values), "ops": payload}, inverse, record=bool(payload))

        return self._change(user, board_id, token, need="edit", action="change it", build=build)

    def move_items(
        self, user: User | None, board_id: str, moves: Sequence[ItemMove], *, token: str | None = None,
    ) -> list[BoardItem]:
        """Move and/or resize items: one call (and one history step) for a whole multi-select drag.

        >>> wb.boards.move_items(me, board.id, [ItemMove(a.id, 0, 0), ItemMove(b.id, 260, 0, w=300, h=200)])
        >>> wb.boards.move_items(me, board.id, [ItemMove(a.id, None, None, w=320, h=240)])  # resize in place
        """
        changes: dict[str, dict[str, Any]] = {}
        for move in moves:
            values: dict[str, Any] = {}
            if move.x is not None or move.y is not None:
                values["x"], values["y"] = check_point(move.x, move.y)
            if move.w is not None or move.h is not None:
                values["w"], values["h"] = check_size(move.w, move.h)
            if not values:
                raise InvalidInput("A move needs a place (x, y), a size (w, h) or both.")
            changes[move.id] = values
        ids = _ids(changes)

        def build(cur: Tx, access: Access, now: datetime) -> Change[list[BoardItem]]:
            before = _existing(cur, board_id, ids, access.actor)
            payload, inverse = set_ops(before, changes)
            apply_ops(cur, board_id, payload, now)
            return Change(load_items(cur, board_id, ids), "move", {"ids": ids, "ops": payload}, inverse,
                          record=bool(payload))

        return self._change(user, board_id, token, need="edit", action="move items", build=build)

    def _restack(self, user: User | None, board_id: str, item_ids: Iterable[str], token: str | None,
                 front: bool) -> list[BoardItem]:
        ids = _ids(item_ids)

        def build(cur: Tx, access: Access, now: datetime) -> Change[list[BoardItem]]:
            before = _existing(cur, board_id, ids, access.actor)
            row = cur.execute("SELECT min(z), max(z) FROM board_items WHERE board_id = ?", [board_id]).fetchone()
            low, high = (int(row[0]), int(row[1])) if row and row[0] is not None else (0, 0)
            ordered = sorted(before.values(), key=lambda i: (i.z, i.id))  # keep their stacking among themselves
            start = high + 1 if front else low - len(ordered)
            changes = {item.id: {"z": start + n} for n, item in enumerate(ordered)}
            payload, inverse = set_ops(before, changes)
            apply_ops(cur, board_id, payload, now)
            where = "front" if front else "back"
            return Change(load_items(cur, board_id, ids), "reorder", {"ids": ids, "to": where, "ops": payload},
                          inverse)

        return self._change(user, board_id, token, need="edit", action="restack items", build=build)

    def bring_to_front(self, user: User | None, board_id: str, item_ids: Iterable[str], *,
                       token: str | None = None) -> list[BoardItem]:
        """Stack the selected items above everything else (keeping their order among themselves)."""
        return self._restack(user, board_id, item_ids, token, front=True)

    def send_to_back(self, user: User | None, board_id: str, item_ids: Iterable[str], *,
                     token: str | None = None) -> list[BoardItem]:
        """Stack the selected items below everything else."""
        return self._restack(user, board_id, item_ids, token, front=False)

    def remove_items(self, user: User | None, board_id: str, item_ids: Iterable[str], *,
                     token: str | None = None) -> int:
        """Take items off the board (the library images stay in the library); returns how many."""
        ids = _ids(item_ids)

        def build(cur: Tx, access: Access, now: datetime) -> Change[int]:
            before = _existing(cur, board_id, ids, access.actor)
            payload, inverse = delete_ops([before[i] for i in ids])
            apply_ops(cur, board_id, payload, now)
            return Change(len(ids), "remove", {"ids": ids, "count": len(ids), "ops": payload}, inverse)

        return self._change(user, board_id, token, need="edit", action="remove items", build=build)

    # -- images seen through a board ----------------------------------------------------------
    def board_image(
        self, user: User | None, board_id: str, image_id: str, *, token: str | None = None, original: bool = False,
    ) -> bytes:
        """The thumbnail (WebP) or original bytes of an image on a board the viewer may open.

        Anyone who may view the board sees its pictures, even ones private to
        another library; an image that is not on the board is NotFound.
        """
        self._access(user, board_id, token)
        on_board = self._db.scalar(
            "SELECT count(*) FROM board_items WHERE board_id = ? AND kind = 'image' AND image_id = ?",
            [board_id, image_id],
        )
        image = self._library.get_many([image_id]).get(image_id) if on_board else None
        if image is None or image.status == "deleting":
            raise NotFound(f"No image {image_id} on this board.")
        if original:  # handed out without location, even from a library stored before that rule
            return self._library.clean_original(image)
        with open_thumbnail(self._library, image) as stream:
            return bytes(stream.read())
