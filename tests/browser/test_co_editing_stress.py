"""Co-editing under load (issue #20): 10 sessions, 1,000 random operations, every view equal to the stored board.

Eight service-layer sessions (the owner, two named editors, three edit-link guests,
a comment-link guest and a view-link guest) each keep their own copy of the board
by applying the events ``wb.boards.watch`` gives them, with the code the board page
uses (``server.live_board.LiveBoard``). Seven of them make random changes from their
own threads at once (add, move one to three cards, edit, caption, colour, bring to
front, remove, undo, redo, rename, comment); two real board pages in Chromium (the
owner's, and a guest's through another edit link) nudge cards and add notes at the
same time. At the end every copy, and each browser page's DOM (card ids, places,
sizes, stacking and note texts), equals the board as stored.

The first test checks the same apply code alone, fast, against the real service layer.
``CO_EDITING_SEED=<n>`` runs the stress test with other random operations (the seed is in
its failure messages); without it the operations are the same every run.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.live_board import LiveBoard
from tests.browser.conftest import Visit, serve_workbench
from tests.helpers import open_wb
from workbench import Conflict, Forbidden, InvalidInput, NotFound, User, Workbench
from workbench.boards import BoardItem, ItemMove
from workbench.limits import RateLimited

SERVICE_OPS = 940   # by the seven writing service-layer sessions
BROWSER_OPS = 60    # gestures in the two browser pages (1,000 in all)
# Refused changes count as operations: refusing them is part of the rules (comments are also rate-limited).
REFUSED = (Conflict, NotFound, InvalidInput, Forbidden, RateLimited)
SEED = int(os.environ.get("CO_EDITING_SEED") or 0)


def js_number(value: float) -> str:
    """A number as JavaScript prints it in ``${x}px``."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def snapshot(items: list[BoardItem]) -> list[tuple[Any, ...]]:
    return [(i.id, i.kind, i.x, i.y, i.w, i.h, i.z, i.text, i.caption, i.color, i.url, i.image_id) for i in items]


class Session:
    """One service-layer view: a LiveBoard kept by the events its watch delivers."""

    def __init__(self, wb: Workbench, name: str, user: User | None, board_id: str, token: str | None = None) -> None:
        self.wb, self.name, self.user, self.board_id, self.token = wb, name, user, board_id, token
        self.lock = threading.Lock()
        self.live = LiveBoard.from_view(wb.boards.get(user, board_id, token=token))
        self.heard = 0
        self.repaired = 0
        self.stop = wb.boards.watch(user, board_id, self.take, token=token, since=self.live.revision)

    def take(self, event: Any) -> None:
        with self.lock:
            self.heard += 1
            if self.live.seen(event):
                return
            if not self.live.follows(event):  # the page's rule: a gap is read back, never skipped
                self.repaired += 1
                for earlier in self.wb.boards.events_since(self.user, self.board_id, self.live.revision,
                                                           token=self.token):
                    self.live.apply(earlier)
                self.live.skip_to(event.seq)
                return
            self.live.apply(event)

    def act(self, rng: random.Random) -> None:
        """One random change, as this person (a refused one counts: refusing is part of the rules)."""
        boards, me, board_id, token = self.wb.boards, self.user, self.board_id, self.token
        with self.lock:
            items = self.live.items
        ids = [i.id for i in items]
        notes = [i.id for i in items if i.kind == "note"]
        roll = rng.random()
        try:
            if self.name == "commenter":
                threads = boards.comments.list(me, board_id, token=token)
                if threads and roll < 0.7:  # resolving and reopening are not rate-limited like new comments
                    thread = rng.choice(threads)
                    flip = boards.comments.reopen if thread.resolved else boards.comments.resolve
                    flip(me, board_id, thread.id, token=token)
                elif threads and roll < 0.8:
                    boards.comments.add(me, board_id, "Agreed.", token=token, parent_id=rng.choice(threads).id,
                                        display_name="Dee")
                else:
                    boards.comments.add(me, board_id, f"Look at this one ({rng.randint(1, 99)})", token=token,
                                        item_id=rng.choice(ids) if ids else None, display_name="Dee")
            elif not ids or roll < 0.16 or (len(ids) < 8 and roll < 0.3):
                boards.add_note(me, board_id, f"Note {rng.randint(1, 9999)}", x=rng.randint(0, 1100),
                                y=rng.randint(0, 700), token=token)
            elif roll < 0.2:
                boards.add_heading(me, board_id, f"Scene {rng.randint(1, 99)}", x=rng.randint(0, 900),
                                   y=rng.randint(0, 700), token=token)
            elif roll < 0.5:
                moved = rng.sample(ids, min(len(ids), rng.randint(1, 3)))
                boards.move_items(me, board_id, [ItemMove(i, rng.randint(0, 1100), rng.randint(0, 700))
                                                 for i in moved], token=token)
            elif roll < 0.58 and notes:
                boards.update_item(me, board_id, rng.choice(notes), text=f"Rewritten {rng.randint(1, 9999)}",
                                   token=token)
            elif roll < 0.62:
                boards.update_item(me, board_id, rng.choice(ids), caption=f"Take {rng.randint(1, 9)}", token=token)
            elif roll < 0.67:
                boards.color_items(me, board_id, rng.sample(ids, min(len(ids), 2)),
                                   rng.choice(["#d64541", "#27ae60", ""]), token=token)
            elif roll < 0.73:
                boards.bring_to_front(me, board_id, [rng.choice(ids)], token=token)
            elif roll < 0.82 or len(ids) > 60:
                boards.remove_items(me, board_id, [rng.choice(ids)], token=token)
            elif roll < 0.92:
                boards.undo(me, board_id, token=token)
            elif roll < 0.97:
                boards.redo(me, board_id, token=token)
            else:
                boards.rename(me, board_id, f"Stress board {rng.randint(1, 99)}", token=token)
        except REFUSED:
            pass


def test_a_live_copy_follows_every_kind_of_change(tmp_path: Path) -> None:
    wb = open_wb(tmp_path)
    try:
        me = wb.accounts.local_user()
        board = wb.boards.create(me, "Apply check")
        view = Session(wb, "owner", me, board.id)
        first = wb.boards.add_note(me, board.id, "One", x=10, y=10)
        second = wb.boards.add_heading(me, board.id, "Two", x=300, y=10)
        wb.boards.move_items(me, board.id, [ItemMove(first.id, 50, 60, 300, 200)])
        wb.boards.bring_to_front(me, board.id, [first.id])
        wb.boards.update_item(me, board.id, first.id, text="One, rewritten", caption="A caption")
        wb.boards.color_items(me, board.id, [first.id, second.id], "#27ae60")
        wb.boards.rename(me, board.id, "Apply check, renamed")
        wb.boards.remove_items(me, board.id, [second.id])
        wb.boards.undo(me, board.id)   # the heading comes back
        wb.boards.undo(me, board.id)   # the rename is taken back
        wb.boards.redo(me, board.id)
        wb.boards.comments.add(me, board.id, "A comment is an event without a card", item_id=first.id)
        stored = wb.boards.get(me, board.id)
        with view.lock:
            assert snapshot(view.live.items) == snapshot(stored.items)
            assert (view.live.board.title, view.live.revision) == (stored.board.title, stored.board.revision)
        assert view.repaired == 0
        view.stop()
    finally:
        wb.close()


def test_a_view_that_fell_behind_sees_the_gap_and_catches_up_from_its_revision(tmp_path: Path) -> None:
    wb = open_wb(tmp_path)
    try:
        me = wb.accounts.local_user()
        board = wb.boards.create(me, "Catch-up check")
        note = wb.boards.add_note(me, board.id, "Before the tunnel", x=10, y=10)
        behind = LiveBoard.from_view(wb.boards.get(me, board.id))  # e.g. a laptop going into a tunnel
        wb.boards.move_items(me, board.id, [ItemMove(note.id, 400, 300)])
        wb.boards.update_item(me, board.id, note.id, text="After the tunnel")
        later = wb.boards.add_heading(me, board.id, "Scene 2", x=0, y=500)
        latest = wb.boards.events_since(me, board.id, behind.revision)[-1]
        assert not behind.follows(latest) and not behind.seen(latest)  # a gap: never applied as it is
        for event in wb.boards.events_since(me, board.id, behind.revision):
            assert behind.follows(event)
            behind.apply(event)
        stored = wb.boards.get(me, board.id)
        assert snapshot(behind.items) == snapshot(stored.items)
        assert behind.revision == stored.board.revision and later.id in behind
        assert behind.apply(latest).empty  # a repeat changes nothing
    finally:
        wb.close()


def test_names_and_comments_from_guests_are_drawn_as_text(tmp_path: Path) -> None:
    from server.components.presence import presence_html
    from server.pages.board_comments import thread_html

    wb = open_wb(tmp_path)
    try:
        me = wb.accounts.local_user()
        board = wb.boards.create(me, "Escaping check")
        note = wb.boards.add_note(me, board.id, "<script>alert(1)</script> the note", x=0, y=0)
        _, token = wb.boards.create_link(me, board.id, "comment")
        hostile = '<img src=x onerror="alert(1)">'
        wb.boards.presence.join(None, board.id, token=token, session_id="tab-guest-0001", display_name=hostile)
        wb.boards.comments.add(None, board.id, f"{hostile} & more", token=token, item_id=note.id,
                               display_name=f"Dee {hostile}")
        strip = presence_html(wb.boards.presence.present(me, board.id), "another-tab")
        (thread,) = wb.boards.comments.list(me, board.id)
        drawn = thread_html(thread, {note.id: note})
        for markup in (strip, drawn):
            assert "<img" not in markup and "<script" not in markup
        assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; more" in drawn
        assert "&lt;script&gt;" in drawn  # the card label quotes the note's text, escaped too
    finally:
        wb.close()


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    served = serve_workbench(tmp_path_factory.mktemp("stress"))
    yield served
    served.stop()


@pytest.fixture
def browser(chromium: Any) -> Any:
    # The session's one Chromium (tests/browser/conftest.py): a second sync Playwright in the same
    # run would find the first one's event loop running and refuse to start.
    return chromium


def dom_cards(visit: Visit) -> list[tuple[str, ...]]:
    return [tuple(row) for row in visit.page.locator(".wb-card").evaluate_all(
        """nodes => nodes.map(n => [n.dataset.id, n.style.left, n.style.top, n.style.width, n.style.height,
               n.style.zIndex, (n.querySelector('.wb-note-text, .wb-heading-text') || {}).textContent || ''])""")]


def stored_cards(items: list[BoardItem]) -> list[tuple[str, ...]]:
    return [(i.id, f"{js_number(i.x)}px", f"{js_number(i.y)}px", f"{js_number(i.w)}px", f"{js_number(i.h)}px",
             str(i.z), i.text if i.kind in ("note", "heading") else "") for i in items]


def browser_gesture(visit: Visit, rng: random.Random) -> None:
    """Nudge a visible card with the keyboard (one move), or add a note with the toolbar button."""
    page = visit.page
    if rng.random() < 0.2:
        page.get_by_role("button", name="+ Note").click()
        return
    frame = page.locator(".wb-viewport").bounding_box()
    boxes = [b for b in page.locator(".wb-card").evaluate_all(
        "nodes => nodes.map(n => { const r = n.getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; })")
        if frame and frame["x"] + 10 < b[0] + b[2] / 2 < frame["x"] + frame["width"] - 10
        and frame["y"] + 10 < b[1] + 12 < frame["y"] + frame["height"] - 10]
    if not boxes:
        page.get_by_role("button", name="+ Note").click()
        return
    x, y, w, _ = rng.choice(boxes)
    page.mouse.click(x + w / 2, y + 8)
    page.keyboard.press(rng.choice(["ArrowRight", "ArrowDown", "ArrowLeft", "ArrowUp"]))
    page.wait_for_timeout(450)  # nudges settle into one move after 400 ms


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.timeout(900)
def test_ten_sessions_and_a_thousand_operations_end_with_every_view_equal_to_the_board(
        running: Any, browser: Any) -> None:
    wb = running.wb
    owner = wb.accounts.local_user()
    board = wb.boards.create(owner, "Stress board")
    for n, image in enumerate(wb.library.list(owner, scope="all", limit=4)):
        wb.boards.add_image(owner, board.id, image.id, x=40 + n * 300, y=40)
    for n in range(6):
        wb.boards.add_note(owner, board.id, f"Starting note {n}", x=40 + n * 180, y=320)
    editors = []
    for name in ("ana", "ben"):
        person = wb.accounts.find_by_email(f"{name}@stress.example") or \
            wb.accounts.create_user(f"{name}@stress.example", display_name=name.title())
        wb.boards.share_with(owner, board.id, person, "edit")
        editors.append(person)
    links = {role: [wb.boards.create_link(owner, board.id, role) for _ in range(count)]
             for role, count in (("edit", 4), ("comment", 1), ("view", 1))}
    tokens = {role: [token for _, token in made] for role, made in links.items()}
    sessions = [Session(wb, "owner", owner, board.id), Session(wb, "ana", editors[0], board.id),
                Session(wb, "ben", editors[1], board.id)]
    sessions += [Session(wb, f"guest{n}", None, board.id, token) for n, token in enumerate(tokens["edit"][:3])]
    sessions.append(Session(wb, "commenter", None, board.id, tokens["comment"][0]))
    watcher = Session(wb, "viewer", None, board.id, tokens["view"][0])
    writers = sessions
    assert len(writers) + 1 + 2 == 10  # seven writers, one view-link watcher, two browser pages

    pages = [Visit(browser, running.url), Visit(browser, running.url)]
    pages[0].open(f"/board?id={board.id}", ready=".wb-board[data-ready='1']")
    pages[1].open(f"/board?token={tokens['edit'][3]}", ready=".wb-board[data-ready='1']")

    failures: list[BaseException] = []

    def work(session: Session, count: int, seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(count):
                session.act(rng)
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            failures.append(error)

    shares = [SERVICE_OPS // len(writers) + (1 if n < SERVICE_OPS % len(writers) else 0) for n in range(len(writers))]
    threads = [threading.Thread(target=work, args=(s, k, SEED * 1000 + 20 + n), daemon=True)
               for n, (s, k) in enumerate(zip(writers, shares, strict=True))]
    for thread in threads:
        thread.start()
    rng = random.Random(SEED * 1000 + 7)
    for n in range(BROWSER_OPS - len(pages)):  # and one last gesture each, below
        browser_gesture(pages[n % 2], rng)
    for thread in threads:
        thread.join(timeout=600)
    assert not any(t.is_alive() for t in threads), "a writing session hung"
    assert not failures, failures[:3]
    assert sum(shares) + BROWSER_OPS == 1000

    # The pages' gestures queue up on a loaded machine (each page makes its changes one at a time,
    # in order): when the writers stop, several may still be on their way, and a board read then
    # looks settled while every view agrees, then changes under the checks below (seen as "the
    # owner's copy one card off"). So each page's last gesture adds a heading of its own, made
    # after every earlier gesture of that page: once both are stored, nothing else changes the board.
    for n, page in enumerate(pages):
        # A timer set now fires after the last nudge's (due 400 ms after its key), which sends that move first.
        page.page.evaluate("() => new Promise(done => setTimeout(done, 400))")
        field = page.page.get_by_placeholder("Heading — Enter adds it")
        field.fill(f"Last gesture of page {n}")
        field.press("Enter")
    last = {f"Last gesture of page {n}" for n in range(len(pages))}
    deadline = time.monotonic() + 60
    while not last <= {i.text for i in wb.boards.get(owner, board.id).items} and time.monotonic() < deadline:
        pages[0].page.wait_for_timeout(100)
    assert last <= {i.text for i in wb.boards.get(owner, board.id).items}, f"the pages' last gestures (seed {SEED})"
    page_actor = f"link:{links['edit'][3][0].id}"  # only the guest's browser page uses this link
    by_page = [e for e in wb.boards.events_since(owner, board.id, 0, limit=10_000) if e.actor == page_actor]
    assert {e.kind for e in by_page} >= {"move", "add"}, "the browser page's gestures reached the board"

    # The board is settled when every view has the revision the board is at, and that revision held
    # for a second: a page's gesture still on its way after the fence (seen once in CI: two views two
    # revisions past the board read a moment before) would otherwise change the board under the checks.
    deadline = time.monotonic() + 120
    agreed = 0
    while time.monotonic() < deadline:
        stored = wb.boards.get(owner, board.id)
        revisions = {s.live.revision for s in [*sessions, watcher]}
        shown = {p.page.locator(".wb-board").get_attribute("data-revision") for p in pages}
        agreed = agreed + 1 if revisions == {stored.board.revision} and shown == {str(stored.board.revision)} else 0
        if agreed >= 4:
            break
        pages[0].page.wait_for_timeout(250)
    late = [(e.seq, e.kind, e.actor) for e in wb.boards.events_since(owner, board.id, stored.board.revision)]
    for session in [*sessions, watcher]:
        with session.lock:
            assert snapshot(session.live.items) == snapshot(stored.items), f"{session.name} (seed {SEED})"
            assert (session.live.board.title, session.live.revision) == (stored.board.title, stored.board.revision), \
                f"{session.name} (seed {SEED}); events after the settled read: {late}"
    expected = sorted(stored_cards(stored.items))
    for page in pages:
        assert page.page.locator(".wb-board").get_attribute("data-revision") == str(stored.board.revision)
        assert sorted(dom_cards(page)) == expected, f"seed {SEED}"
        assert not page.errors, page.errors[:3]
    pages[1].screenshot("co-editing-stress-guest")
    for session in [*sessions, watcher]:
        session.stop()
    for page in pages:
        page.close()


def test_the_latency_bench_times_every_view_of_every_change() -> None:
    from bench import co_editing

    rows = {r["benchmark"]: r for r in co_editing.run(changes=4, viewers="2,3", browser=0)}
    for viewers in (2, 3):
        median = rows[f"{viewers} viewers: change to each service-layer view, median"]
        assert median["value"] > 0 and "missed 0" in median["note"]
        assert rows[f"{viewers} viewers: change to each service-layer view, p95"]["value"] >= median["value"]
