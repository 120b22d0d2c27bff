"""Putting many cards on a board as one change: one event, one step for undo.

A Magic Board's twelve frames and their caption cards, a pasted set of notes:
:meth:`BoardBatch.add_items` checks every card by the same rules as the single
``add_*`` calls, then places them all in one transaction with one ``add`` event,
so co-editors see them arrive together and one undo takes them all back.

    >>> wb.boards.add_items(me, board.id, [
    ...     {"kind": "image", "image_id": still.id, "x": 0, "y": 0, "caption": "1. Dawn"},
    ...     {"kind": "note", "text": "Shot: wide", "x": 0, "y": 250},
    ... ])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from workbench.accounts import User
from workbench.boards.items import DEFAULT_SIZES, BoardCanvas, _image_size
from workbench.boards.model import MAX_HEADING, MAX_ITEMS, MAX_NOTE, BoardItem, clean_url
from workbench.errors import InvalidInput, NotFound
from workbench.text import clean_text

__all__ = ["BoardBatch", "BATCH_KINDS"]

BATCH_KINDS = ("image", "note", "heading", "link")
_PLACE = {"x", "y", "w", "h", "color", "caption"}
_FIELDS = {"image": {"image_id"}, "note": {"text"}, "heading": {"text"}, "link": {"url", "title"}}


class BoardBatch(BoardCanvas):
    """Batch placement of :class:`~workbench.boards.Boards`."""

    def add_items(self, user: User | None, board_id: str, specs: Sequence[Mapping[str, Any]], *,
                  token: str | None = None) -> list[BoardItem]:
        """Place several cards of any kind as one change (one event; one undo takes them all back).

        Each spec is a mapping with ``kind`` (``image``, ``note``, ``heading`` or ``link``)
        and that kind's fields: ``image_id`` (a library image the acting person can see),
        ``text`` (note, heading), ``url`` and ``title`` (link); plus, for any kind, ``x``,
        ``y`` (none: the next free grid cells), ``w``, ``h``, ``color`` and ``caption``.
        Returns the new items in the order of ``specs``. Script excerpts go one at a time
        (:meth:`add_script_excerpt`), since each quotes a document.
        """
        self._access(user, board_id, token, need="edit", action="add to it")
        if isinstance(specs, (str, bytes, Mapping)) or not isinstance(specs, Sequence) or not specs:
            raise InvalidInput("Give a list of cards to add (at least one).")
        if len(specs) > MAX_ITEMS:
            raise InvalidInput(f"A board holds at most {MAX_ITEMS} items; add fewer at once.")
        wanted = [str(s.get("image_id")) for s in specs if isinstance(s, Mapping) and s.get("kind") == "image"]
        images = self._library.get_many(list(dict.fromkeys(wanted))) if wanted else {}
        cleaned = [self._batch_spec(user, n, spec, images) for n, spec in enumerate(specs, start=1)]
        return self._add(user, board_id, token, cleaned)

    def _batch_spec(self, user: User | None, n: int, spec: Any, images: dict[str, Any]) -> dict[str, Any]:
        """One card's spec checked and in the form ``_add`` takes (its text cleaned by the one rule)."""
        if not isinstance(spec, Mapping):
            raise InvalidInput(f"Card {n} must be a mapping such as {{'kind': 'note', 'text': '...'}}.")
        kind = spec.get("kind")
        if kind not in BATCH_KINDS:
            raise InvalidInput(f"Card {n}: the kind must be one of {', '.join(BATCH_KINDS)}, not {kind!r}.")
        unknown = set(spec) - {"kind"} - _PLACE - _FIELDS[kind]
        if unknown:
            raise InvalidInput(f"Card {n} ({kind}) has fields it cannot take: {', '.join(sorted(map(str, unknown)))}.")
        out: dict[str, Any] = {"kind": kind, "x": spec.get("x"), "y": spec.get("y"),
                               "color": spec.get("color", ""), "caption": spec.get("caption", "")}
        size: tuple[float, float] = DEFAULT_SIZES[kind]
        if kind == "image":
            image = images.get(str(spec.get("image_id")))
            if image is None or image.status == "deleting" or not self._library.can_see(user, image):
                raise NotFound(f"Card {n}: no image {spec.get('image_id')} in your library.")
            out["image_id"] = image.id
            size = _image_size(image)
        elif kind == "note":
            out["text"] = clean_text(spec.get("text", ""), field="note", max_chars=MAX_NOTE, multiline=True)
        elif kind == "heading":
            out["text"] = clean_text(spec.get("text", ""), field="heading", max_chars=MAX_HEADING).strip()
            if not out["text"]:
                raise InvalidInput(f"Card {n}: a heading needs some text.")
        else:
            out["url"] = clean_url(spec.get("url"))
            out["text"] = clean_text(spec.get("title", ""), field="link title", max_chars=MAX_HEADING)
        w, h = spec.get("w"), spec.get("h")
        out["size"] = (w if w is not None else size[0], h if h is not None else size[1])
        return out
