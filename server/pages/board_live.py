"""Live changes on an open board page: other people's edits appear without a reload.

The page hears every event of its board that its viewer may receive
(``wb.boards.watch``), applies each event's operations in sequence order to its own copy of the board (:class:`server.live_board.LiveBoard`)
and sends the canvas only the cards that changed (one ``patch`` message). An event
that is not the next one means the page missed something: it reads what it missed
with ``events_since`` and applies that, and when even that fails (or it is too far
behind) it reads the whole board again. Nothing is ever silently skipped.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import TYPE_CHECKING, Any

from server.components.canvas import canvas_entry
from server.components.presence import viewer_connected
from server.live_board import Applied, LiveBoard
from server.session import launch
from workbench.boards import ACCESS_ENDED, BoardEvent, BoardView
from workbench.boards.export import frame_numbers
from workbench.errors import WorkbenchError
from workbench.magic import frame_beat

if TYPE_CHECKING:
    from server.pages.board import BoardPage

__all__ = ["LiveCanvas", "CATCH_UP_LIMIT"]

log = logging.getLogger(__name__)

CATCH_UP_LIMIT = 500   # missed events re-read and applied one by one; further behind, one read of the board is cheaper
QUEUE_LIMIT = 2000     # events kept for a page whose browser is away; beyond that it reloads when it drains


def _deletes(event: BoardEvent) -> set[str]:
    """The cards an event's operations delete."""
    payload = event.payload if isinstance(event.payload, dict) else {}
    return {str(op.get("id")) for op in payload.get("ops") or [] if isinstance(op, dict) and op.get("op") == "delete"}


class LiveCanvas:
    """Keeps one board page's canvas in step with the stored board, change by change."""

    def __init__(self, page: BoardPage) -> None:
        self.page = page
        self.live: LiveBoard | None = None
        self.sent: dict[str, dict[str, Any]] = {}   # what the canvas shows, as far as this page knows
        self.order: list[str] = []
        self.shown = -1   # the revision of the last full list or patch sent to the canvas
        self._queue: list[BoardEvent] = []
        self._guard = threading.Lock()   # the queue is filled on the thread that made or heard a change
        self._scheduled = False
        self._stale = False
        self._turn = asyncio.Lock()      # one drain or reload at a time, in order
        self._doc: Any = None

    # -- the full picture -----------------------------------------------------------------
    def reset(self, view: BoardView) -> list[dict[str, Any]]:
        """Start over from a fresh read; returns every card, back to front, for the canvas."""
        self.live = LiveBoard.from_view(view)
        numbers = frame_numbers(view.items)
        self.sent = {i.id: self._entry(i.id, numbers.get(i.id)) for i in view.items}
        self.order = [i.id for i in view.items]
        self.shown = view.board.revision
        return [self.sent[i] for i in self.order]

    def _entry(self, item_id: str, frame: int | None) -> dict[str, Any]:
        assert self.live is not None
        item = self.live.item(item_id)
        assert item is not None
        # canvas_entry reads the board id and the images only; the items list is not needed.
        shell = BoardView(board=self.live.board, items=[], role=self.live.role, images=self.live.images)
        return canvas_entry(item, shell, self.page.grant(), frame=frame, match=self.page.matches().get(item_id))

    # -- hearing changes -------------------------------------------------------------------
    def follow(self) -> None:
        """Hear this board's events for as long as the page's session lives."""
        import panel as pn  # the page's session; this module's logic stays testable without a server

        doc = pn.state.curdoc
        if doc is None or doc.session_context is None or self.live is None:
            return
        self._doc = doc
        page = self.page
        # The service filters the stream for this viewer (sharing events are the owner's), keeps it in
        # order and replays what came after ``since``; the checks in drain() are the page's own guard.
        try:
            stop = page.session.wb.boards.watch(page.session.user, page.board_id, self.heard, token=page.token,
                                                since=self.live.revision)
        except WorkbenchError as error:  # access ended between the read and now: the next action says so
            log.info("board %s: cannot follow changes: %s", page.board_id, error)
            return
        pn.state.on_session_destroyed(lambda context: stop())

    def heard(self, event: BoardEvent) -> None:
        """Note one event (on whichever thread made or heard it) and hand over to the page's loop."""
        with self._guard:
            if len(self._queue) >= QUEUE_LIMIT:
                self._queue.clear()
                self._stale = True
            self._queue.append(event)
            # A closed tab's session lingers before Bokeh discards it: drawing a busy board for it would
            # only slow the open ones down (its queue is kept, bounded, in case the browser reconnects).
            if self._scheduled or self._doc is None or not viewer_connected(self._doc):
                return
            self._scheduled = True
        # Bokeh runs a coroutine callback on this session's loop, under its lock.
        self._doc.add_next_tick_callback(self.drain)

    async def drain(self) -> None:
        """Apply every event heard so far, in sequence order, and send the canvas what changed."""
        async with self._turn:
            with self._guard:
                events, self._queue, self._scheduled = sorted(self._queue, key=lambda e: e.seq), [], False
                stale, self._stale = self._stale, False
            live = self.live
            if live is None or self.page.link_gone:
                return  # a dead link's page is read-only and says so; nothing more to draw
            if stale:
                await self._reload()
                return
            applied = Applied()
            deleted: set[str] = set()   # every card a delete operation named, whether this copy had it or not
            for event in events:
                if event.kind == ACCESS_ENDED:
                    applied.merge(live.apply(event))
                    break
                if live.seen(event):
                    continue  # a repeat, or already read with the missed events
                if not live.follows(event):
                    missed = await self._missed()
                    if missed is None:
                        await self._reload()
                        return
                    for earlier in missed:
                        if not live.seen(earlier):
                            deleted |= _deletes(earlier)
                            applied.merge(live.apply(earlier))
                    live.skip_to(event.seq)  # what the read left out is not for this viewer (sharing)
                    continue
                deleted |= _deletes(event)
                applied.merge(live.apply(event))
            if applied.ended:
                self.page.access_ended(applied.ended)
            elif applied.reload:
                await self._reload()
            elif events:
                await self._publish(applied, deleted)

    async def _missed(self) -> list[BoardEvent] | None:
        """The events after this view's revision, or None when only a full read will do."""
        assert self.live is not None
        page = self.page
        try:
            missed = await page.session.run(page.session.wb.boards.events_since, page.session.user, page.board_id,
                                            self.live.revision, limit=CATCH_UP_LIMIT, token=page.token)
        except Exception as error:  # noqa: BLE001 - the full read that follows reports it in this session
            log.info("board %s: catching up from #%s failed (%s); reading the board", page.board_id,
                     self.live.revision, error)
            return None
        return None if len(missed) >= CATCH_UP_LIMIT else missed

    async def reload(self) -> None:
        """Read the whole board again and redraw it (after a refused change, a gap that could not be
        repaired, or a change to what the viewer may see)."""
        async with self._turn:
            await self._reload()

    async def _reload(self) -> None:
        await self.page.redraw()

    # -- sending what changed -----------------------------------------------------------------
    async def _publish(self, applied: Applied, deleted: set[str] | None = None) -> None:
        assert self.live is not None
        live, session = self.live, self.page.session
        images = live.missing_images(applied.upserted)
        if images:
            try:
                live.images.update(await session.run(self._pictures, images))
            except WorkbenchError as error:  # drawn as missing pictures; the next full read fixes it
                log.info("board %s: could not read pictures %s: %s", self.page.board_id, images, error)
        frames_before = self._frames()
        self.send(applied.upserted, applied.removed, by=applied.by, deleted=deleted)
        self.page.followed(applied)
        if self._frames() != frames_before:
            launch(self._rescore())

    def _pictures(self, image_ids: list[str]) -> dict[str, Any]:
        # The pictures a board shows, as wb.boards.get reads them (one being deleted shows as missing).
        found = self.page.session.wb.library.get_many(image_ids)
        return {k: v for k, v in found.items() if v.status != "deleting"}

    def send(self, upserted: set[str], removed: set[str], *, by: str = "", force: bool = False,
             recheck: set[str] | None = None, deleted: set[str] | None = None) -> None:
        """Send the canvas the cards changes touched (``upserted``, ``removed``), and those of ``recheck``
        that differ from what it shows (``force``: send removals and a patch whatever it shows).
        ``deleted``: cards the events deleted; each goes as a removal even when this copy never had it."""
        live = self.live
        if live is None:
            return
        recheck = set(recheck or ())
        touched = set(upserted) | set(removed)
        numbers: dict[str, int] | None = None
        if any(self.sent.get(i, {}).get("kind") == "image" or ((it := live.item(i)) is not None and it.kind == "image")
               for i in touched | recheck):
            # A picture moved, came or went: the storyboard numbers of the others may change too.
            numbers = frame_numbers(live.items)
            recheck |= set(numbers)
        upserts, gone = [], []
        for item_id in sorted(set(upserted) | recheck):
            item = live.item(item_id)
            if item is None:
                continue
            frame = numbers.get(item_id) if numbers is not None else self.sent.get(item_id, {}).get("frame")
            entry = self._entry(item_id, frame)
            # A touched card goes even when this copy ends as it was (a move put back by someone else
            # before this page heard either): the canvas may show this page's own gesture instead,
            # drawn before the server had it, which ``sent`` never knew (tests/browser/test_co_editing_own_echo.py).
            if force or item_id in upserted or entry != self.sent.get(item_id):
                upserts.append(entry)
                self.sent[item_id] = entry
        deleted = set(deleted or ())
        for item_id in sorted(set(removed) | deleted):
            # A deleted card always goes: the canvas may show one this copy never had (a full list read
            # after the delete, with an older patch for that card reaching the browser after it), and a
            # removal of a card it does not show changes nothing there.
            known = self.sent.pop(item_id, None) is not None
            if item_id not in live and (force or known or item_id in deleted):
                gone.append(item_id)
        order = [i.id for i in live.items]
        changed_order = order != self.order
        self.order = order
        # A change off the canvas (a comment, a rename) still moves the revision the canvas says it shows.
        if upserts or gone or changed_order or force or live.revision != self.shown:
            self.page.canvas.patch(live.revision, upserts, gone, order if changed_order else None, by=by)
            self.shown = live.revision

    def restore(self, ids: list[str]) -> None:
        """Put these cards back as stored (a refused gesture): the canvas snaps back."""
        self.send(set(ids), set(ids), force=True)

    # -- storyboard match scores --------------------------------------------------------------
    def _frames(self) -> tuple[tuple[str, str, str], ...]:
        live = self.live
        return tuple((i.id, i.image_id or "", i.caption) for i in (live.items if live else [])
                     if i.kind == "image" and frame_beat(i.caption))

    async def _rescore(self) -> None:
        """Frames changed (a still swapped, a beat rewritten): score them again, then redraw their badges."""
        try:
            await self.page.rescore(self._frames())
        except Exception as error:  # noqa: BLE001 - a badge is not worth an error message
            log.info("board %s: rescoring frames failed: %s", self.page.board_id, error)
            return
        live = self.live
        if live is not None:
            self.send(set(), set(), recheck={i.id for i in live.items if i.kind == "image"})
