"""Script to storyboard and back (issue #22): the sample script storyboarded offline, kept in sync both ways.

Real parts throughout: the embedded default (DuckDB, LanceDB, files), the
offline embedder over the public-domain sample stills, the offline image backend.
"""

from __future__ import annotations

import csv
import difflib
import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from server.live_board import LiveBoard
from tests.helpers import sampled_wb
from workbench import Conflict, InsufficientCredits, InvalidInput, Workbench
from workbench.boards import PLACEHOLDER, ItemMove
from workbench.storyboard_frames import row_y
from workbench.storyboard_model import CUT_COLOR, ROW_H
from workbench.writing import fountain
from workbench.writing.scene_lines import scene_spans

SAMPLE = (Path(__file__).parent / "data" / "three_pages.fountain").read_text(encoding="utf-8")
GALLEY = "INT. FERRY GALLEY - NIGHT\n\nA kettle rattles on the stove. Steam fogs the porthole.\n"

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def wb(tmp_path_factory: pytest.TempPathFactory) -> Workbench:
    bench = sampled_wb(tmp_path_factory.mktemp("storyboards"))
    yield bench
    bench.close()


@pytest.fixture(scope="module")
def me(wb: Workbench):
    return wb.accounts.create_user("writer@example.com", plan="premium")


def _script(wb: Workbench, me, body: str = SAMPLE) -> str:
    return wb.writing.create(me, "screenplay", "Night Ferry", body).id


def _chunks(body: str) -> tuple[list[str], list[str]]:
    """The lines above the first scene, and each scene's text (heading to the next heading)."""
    lines = body.split("\n")
    spans = scene_spans(body)
    return lines[: spans[0].start], ["\n".join(lines[s.start : s.end]).rstrip("\n") for s in spans]


def _rows(wb: Workbench, me, board_id: str) -> list[str]:
    """Scene headings of the live rows, top to bottom as the board shows them."""
    board = wb.storyboards.get(me, board_id)
    items = {i.id: i for i in wb.boards.get(me, board_id).items}
    live = sorted(board.live_scenes, key=lambda s: items[s.heading_item].y)
    return [s.heading for s in live]


def test_the_sample_script_storyboards_offline_one_row_per_scene(wb: Workbench, me) -> None:
    doc = _script(wb, me)
    ledger = [(e.id, e.amount) for e in wb.accounts.ledger(me)]
    estimate = wb.storyboards.estimate(me, doc)
    assert estimate.scenes == 5 and estimate.credits == 0 and estimate.to_generate == 0
    made = wb.storyboards.create(me, doc)
    board = made.storyboard
    spans = scene_spans(SAMPLE)
    assert [s.heading for s in board.live_scenes] == [s.heading for s in spans]
    assert made.frames == estimate.frames == len(board.frames) and made.generated == 0
    assert made.matched == estimate.matched > 0 and made.credits_spent == made.credits_refunded == 0
    view = wb.boards.get(me, board.board_id)
    items = {i.id: i for i in view.items}
    lines = SAMPLE.split("\n")
    for row, (scene, span) in enumerate(zip(board.live_scenes, spans, strict=True)):
        heading = items[scene.heading_item]
        assert heading.kind == "heading" and heading.text == f"{span.number}. {span.heading}"
        assert heading.y == row_y(row) and (scene.first_line, scene.last_line) == (span.first_line, span.last_line)
        stills = [f.image_id for f in scene.frames if f.image_id]
        assert len(stills) == len(set(stills)), "a still repeated in one row"
        for frame in scene.frames:
            card = items[frame.item_id]
            assert card.y == heading.y and card.x > heading.x
            # every frame is linked to lines of its own scene, and those lines are its beat
            assert span.first_line < frame.first_line <= frame.last_line <= span.last_line
            assert "\n".join(lines[frame.first_line - 1 : frame.last_line]) == frame.beat
            assert card.caption.startswith(f"{span.number}.{frame.shot} · ")
            if frame.source == "library":
                assert card.kind == "image" and card.image_id == frame.image_id
                assert f"match {frame.score:.2f}" in card.caption  # the score is on the card
            else:
                assert card.kind == "note" and frame.image_id is None
    frames = board.frames
    for before, after in zip(frames, frames[1:], strict=False):
        assert before.image_id is None or before.image_id != after.image_id, "adjacent frames share a still"
    assert [(e.id, e.amount) for e in wb.accounts.ledger(me)] == ledger  # nothing generated, nothing spent
    assert [s.board_id for s in wb.storyboards.for_document(me, doc)] == [board.board_id]


def test_a_range_of_scenes_and_bad_requests(wb: Workbench, me) -> None:
    doc = _script(wb, me)
    made = wb.storyboards.create(me, doc, scenes=(2, 4), frames_per_scene=1, title="Middle")
    assert [s.label for s in made.storyboard.live_scenes] == ["2", "3", "4"]
    assert wb.boards.get(me, made.storyboard.board_id).board.title == "Middle"
    for bad in ((0, 2), (3, 2), (1, 9)):
        with pytest.raises(InvalidInput, match="Choose scenes"):
            wb.storyboards.create(me, doc, scenes=bad)
    with pytest.raises(InvalidInput, match="frames per scene"):
        wb.storyboards.create(me, doc, frames_per_scene=0)
    with pytest.raises(InvalidInput, match="first, last"):
        wb.storyboards.create(me, doc, scenes=3)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="match score"):
        wb.storyboards.estimate(me, doc, min_score=float("nan"))
    with pytest.raises(InvalidInput, match="board title is 201"):
        wb.storyboards.create(me, doc, title="x" * 201)
    idea = wb.writing.create(me, "idea", "An idea", "A ferry.").id
    with pytest.raises(InvalidInput, match="only screenplays"):
        wb.storyboards.create(me, idea)
    with pytest.raises(InvalidInput, match="no scene headings"):
        wb.storyboards.create(me, _script(wb, me, "Just some words.\n"))


def test_generation_is_priced_reserved_up_front_and_refunded_for_what_was_not_made(wb: Workbench, me) -> None:
    doc = _script(wb, me)
    before = wb.accounts.balance(me)
    estimate = wb.storyboards.estimate(me, doc, frames_per_scene=1, min_score=0.99, generate=True)
    assert estimate.to_generate == 5 and estimate.credits == 5 * wb.accounts.price("image")
    made = wb.storyboards.create(me, doc, frames_per_scene=1, min_score=0.99, generate=True)
    # The offline image backend makes nothing: every frame stays a placeholder and all is refunded.
    assert made.generated == 0 and made.placeholders == 5 and made.credits_spent == 0
    assert made.credits_refunded == estimate.credits and wb.accounts.balance(me) == before
    entries = [e for e in wb.accounts.ledger(me) if e.action == "image"]
    assert [e.entry for e in entries][-3:] == ["reserve", "commit", "refund"]
    assert entries[-3].amount == -estimate.credits
    poor = wb.accounts.create_user("poor@example.com", plan="free")
    poor_doc = _script(wb, poor)
    with pytest.raises(InsufficientCredits):
        wb.storyboards.create(poor, poor_doc, min_score=0.99, generate=True)
    assert wb.boards.list(poor) == []  # refused before any board was made


def test_a_frame_waiting_for_its_still_takes_one_from_the_library_and_undo_brings_the_note_back(
        wb: Workbench, me) -> None:
    doc = _script(wb, me)
    made = wb.storyboards.create(me, doc, frames_per_scene=1, min_score=0.99)  # nothing matches that well
    board_id = made.storyboard.board_id
    frame = made.storyboard.frames[0]
    note = next(i for i in wb.boards.get(me, board_id).items if i.id == frame.item_id)
    assert note.kind == "note" and note.placeholder and note.text.startswith(PLACEHOLDER)
    hits = wb.magic.replacements(me, board_id, note.id)  # the library's best stills for the frame's beat
    assert hits
    page = LiveBoard.from_view(wb.boards.get(me, board_id))  # an open board page's copy follows the events
    filled = wb.boards.replace_image(me, board_id, note.id, hits[0].image.id)
    assert (filled.kind, filled.image_id, filled.text) == ("image", hits[0].image.id, "")
    for event in wb.boards.events_since(me, board_id, page.board.revision):
        page.apply(event)
    assert page.item(note.id).columns() == filled.columns()  # kind, image and text as stored
    assert (filled.x, filled.y, filled.caption) == (note.x, note.y, note.caption)  # same place, same caption
    wb.boards.undo(me, board_id)
    back = next(i for i in wb.boards.get(me, board_id).items if i.id == note.id)
    assert (back.kind, back.image_id, back.text) == ("note", None, note.text)
    heading = next(i for i in wb.boards.get(me, board_id).items if i.kind == "heading")
    with pytest.raises(InvalidInput):
        wb.boards.replace_image(me, board_id, heading.id, hits[0].image.id)  # a heading is no frame


def test_a_storyboard_that_fails_half_way_leaves_no_half_built_board(wb: Workbench, me) -> None:
    doc = _script(wb, me)
    boards_before = {b.id for b in wb.boards.list(me)}
    balance = wb.accounts.balance(me)

    def gone_at_the_third_scene(done: int, total: int, text: str) -> None:
        if done == 2:  # the page that asked went away: its progress callback raises
            raise ConnectionResetError("the page closed")

    with pytest.raises(ConnectionResetError):
        wb.storyboards.create(me, doc, frames_per_scene=1, min_score=0.99, generate=True,
                              progress=gone_at_the_third_scene)
    assert {b.id for b in wb.boards.list(me)} == boards_before  # not listed as a board
    trashed = [b for b in wb.boards.trash(me) if b.title == "Storyboard: Night Ferry"]
    assert trashed and wb.storyboards.for_document(me, doc) == []  # in the trash, restorable; no storyboard
    assert wb.accounts.balance(me) == balance  # the offline backend made nothing: every credit is back


def test_update_from_script_takes_inserted_deleted_moved_and_reheaded_scenes(wb: Workbench, me) -> None:
    doc = _script(wb, me)
    board = wb.storyboards.create(me, doc, frames_per_scene=2).storyboard
    head, scenes = _chunks(SAMPLE)
    one, two, three, four, five = scenes
    three = three.replace("EXT. MARGARET ANNE - DECK - LATER", "EXT. MARGARET ANNE - BOW - LATER")
    # a new scene after 1, scene 5 moved before 2, scene 3 re-headed, scene 4 deleted
    body = "\n".join(head) + "\n" + "\n\n\n".join([one, GALLEY.rstrip("\n"), five, two, three]) + "\n"
    wb.writing.save(me, doc, body)
    changes = wb.storyboards.script_changes(me, board.board_id)
    assert [c.heading for c in changes.of_kind("new")] == ["INT. FERRY GALLEY - NIGHT"]
    assert [c.heading for c in changes.of_kind("removed")] == ["INT. MARGARET ANNE - WHEELHOUSE - NIGHT"]
    assert [c.heading for c in changes.of_kind("moved")] == ["EXT. ISLAND DOCK - CONTINUOUS"]
    assert [(c.old_heading, c.heading) for c in changes.of_kind("reheaded")] == [
        ("EXT. MARGARET ANNE - DECK - LATER", "EXT. MARGARET ANNE - BOW - LATER")]
    assert "moved after scene 1" in changes.of_kind("moved")[0].description
    cut = next(s for s in board.scenes if s.heading == "INT. MARGARET ANNE - WHEELHOUSE - NIGHT")
    items_before = {i.id for i in wb.boards.get(me, board.board_id).items}

    applied = wb.storyboards.update_from_script(me, board.board_id)
    assert applied.changes == changes.changes
    after = wb.storyboards.get(me, board.board_id)
    wanted = [s.heading for s in scene_spans(body)]
    assert [s.heading for s in after.live_scenes] == wanted == _rows(wb, me, board.board_id)
    items = {i.id: i for i in wb.boards.get(me, board.board_id).items}
    assert items_before <= set(items), "no card was deleted"
    gone = next(s for s in after.scenes if s.scene_id == cut.scene_id)
    assert gone.status == "cut" and items[gone.heading_item].text.startswith("CUT · ")
    for frame in gone.frames:
        assert frame.status == "cut" and items[frame.item_id].caption.startswith("[CUT] ")
        assert items[frame.item_id].color == CUT_COLOR
        assert items[frame.item_id].y > max(items[s.heading_item].y for s in after.live_scenes)
    galley = next(s for s in after.live_scenes if s.heading == "INT. FERRY GALLEY - NIGHT")
    assert galley.frames and items[galley.heading_item].text == "2. INT. FERRY GALLEY - NIGHT"
    bow = next(s for s in after.live_scenes if "BOW" in s.heading)
    assert items[bow.heading_item].text == "3. EXT. MARGARET ANNE - BOW - LATER"
    spans = {s.heading: s for s in scene_spans(body)}
    for scene in after.live_scenes:  # every frame still points into its scene's current lines
        span = spans[scene.heading]
        assert (scene.first_line, scene.last_line) == (span.first_line, span.last_line)
        assert all(span.first_line <= f.first_line <= f.last_line <= span.last_line for f in scene.frames)
    assert wb.storyboards.script_changes(me, board.board_id).changes == []
    assert after.version == wb.writing.get(me, doc).version


def test_board_order_goes_back_to_the_script_losslessly_and_the_diff_is_the_moved_scene(wb: Workbench, me) -> None:
    doc = _script(wb, me)
    board = wb.storyboards.create(me, doc, frames_per_scene=1).storyboard
    assert not wb.storyboards.board_order_changes(me, board.board_id).changed
    last = board.live_scenes[-1]  # scene 5 goes to the top row
    wb.boards.move_items(me, board.board_id, [ItemMove(last.heading_item, 0, -ROW_H)] +
                         [ItemMove(f.item_id, 300, -ROW_H) for f in last.frames])
    preview = wb.storyboards.board_order_changes(me, board.board_id)
    assert [c.heading for c in preview.moved] == ["EXT. ISLAND DOCK - CONTINUOUS"]
    assert preview.changed and wb.writing.get(me, doc).body == SAMPLE  # a preview saves nothing

    order = wb.storyboards.apply_board_order(me, board.board_id)
    saved = wb.writing.get(me, doc)
    assert order.version == saved.version == 2 and order.diff == preview.diff
    assert [s.heading.text for s in fountain.parse(saved.body).scenes()] == order.order
    assert order.order[0] == "EXT. ISLAND DOCK - CONTINUOUS"
    head, before = _chunks(SAMPLE)
    new_head, after = _chunks(saved.body)
    assert new_head == head and after == [before[4], *before[:4]]  # every scene's lines unchanged
    assert sorted(line for line in saved.body.split("\n") if line) == sorted(line for line in SAMPLE.split("\n")
                                                                              if line)
    changed = [line[1:] for line in difflib.unified_diff(SAMPLE.split("\n"), saved.body.split("\n"), lineterm="")
               if line[:1] in "+-" and not line.startswith(("+++", "---")) and line[1:].strip()]
    moved_lines = [line for line in before[4].split("\n") if line.strip()]
    assert sorted(changed) == sorted(moved_lines * 2)  # removed below, added on top: nothing else
    assert wb.storyboards.script_changes(me, board.board_id).changes == []
    assert _rows(wb, me, board.board_id) == order.order
    assert not wb.storyboards.board_order_changes(me, board.board_id).changed
    # the script changed behind the board's back: refused until the board is updated
    wb.writing.save(me, doc, "\n".join(new_head) + "\n" + "\n\n".join(after[:4]) + "\n")
    with pytest.raises(Conflict, match="Update from script"):
        wb.storyboards.apply_board_order(me, board.board_id)


def test_captions_edited_on_the_board_become_notes_in_the_scene(wb: Workbench, me) -> None:
    doc = _script(wb, me)
    board = wb.storyboards.create(me, doc, frames_per_scene=1).storyboard
    frame = board.live_scenes[1].frames[0]
    assert wb.storyboards.write_captions_to_script(me, board.board_id).written == 0
    wb.boards.update_item(me, board.board_id, frame.item_id, caption="2.1 · Low angle from inside the locker")
    notes = wb.storyboards.write_captions_to_script(me, board.board_id)
    saved = wb.writing.get(me, doc)
    assert notes.written == 1 and notes.version == saved.version
    scene = fountain.parse(saved.body).scenes()[1]
    assert [e.text for e in scene.elements if e.kind == "note"] == ["Low angle from inside the locker"]
    lines = saved.body.split("\n")
    assert lines[frame.last_line + 1] == "[[Low angle from inside the locker]]"  # under its paragraph
    assert lines[: frame.last_line] + lines[frame.last_line + 2 :] == SAMPLE.split("\n")  # only the note added
    wb.boards.update_item(me, board.board_id, frame.item_id, caption="2.1 · A wide shot instead")
    wb.storyboards.write_captions_to_script(me, board.board_id)
    again = wb.writing.get(me, doc).body
    assert "[[A wide shot instead]]" in again and "locker]]" not in again  # replaced, not added twice
    assert wb.storyboards.script_changes(me, board.board_id).structural == []


def test_the_shot_list_lists_every_frame_as_csv_and_pdf(wb: Workbench, me) -> None:
    doc = _script(wb, me)
    board = wb.storyboards.create(me, doc).storyboard
    shots = wb.storyboards.shot_list(me, board.board_id)
    assert [s.shot for s in shots] == [f"{sc.label}.{f.shot}" for sc in board.live_scenes for f in sc.frames]
    assert all(s.seconds > 0 for s in shots)
    # about a page a minute: the three pages run about three minutes
    assert 120 <= sum(s.seconds for s in shots) <= 260
    text = io.StringIO()
    wb.storyboards.export_shot_list_csv(me, board.board_id, text)
    rows = list(csv.DictReader(io.StringIO(text.getvalue())))
    assert [r["shot"] for r in rows] == [s.shot for s in shots]
    assert all(r["thumbnail"].startswith("/media/thumb/") == bool(s.image_id) for r, s in zip(rows, shots,
                                                                                          strict=True))
    out = io.BytesIO()
    wb.storyboards.export_shot_list_pdf(me, board.board_id, out)
    pdf = PdfReader(io.BytesIO(out.getvalue()))
    printed = "".join(page.extract_text() for page in pdf.pages)
    for shot in shots:
        assert shot.shot in printed
    # every still is drawn (reportlab embeds a picture used twice on a page once)
    assert sum(len(page.images) for page in pdf.pages) >= len({s.image_id for s in shots if s.image_id}) > 0


def test_fdx_round_trip_through_the_workbench(wb: Workbench, me) -> None:
    doc = _script(wb, me)
    data = wb.storyboards.export_fdx(me, doc)
    imported = wb.storyboards.import_fdx(me, data, title="Night Ferry (from Final Draft)")
    assert imported.kind == "screenplay" and imported.title == "Night Ferry (from Final Draft)"
    assert fountain.parse(imported.body) == fountain.parse(SAMPLE)
