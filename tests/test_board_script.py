"""A storyboard's script read beside the board (issue #22, part 6): scenes as they read now, where each card points.

Real parts: the embedded default (DuckDB, LanceDB, files) with an empty
library, so every frame is a placeholder note; the links are the same.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import open_wb
from workbench import NotFound, Workbench
from workbench.writing.scene_lines import scene_spans

SAMPLE = (Path(__file__).parent / "data" / "three_pages.fountain").read_text(encoding="utf-8")
GALLEY = "INT. FERRY GALLEY - NIGHT\n\nA kettle rattles on the stove. Steam fogs the porthole.\n"

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def wb(tmp_path_factory: pytest.TempPathFactory) -> Workbench:
    bench = open_wb(tmp_path_factory.mktemp("board_script"))
    yield bench
    bench.close()


@pytest.fixture(scope="module")
def me(wb: Workbench):
    return wb.accounts.create_user("writer@example.com")


def _storyboard(wb: Workbench, me, body: str = SAMPLE) -> tuple[str, str]:
    doc = wb.writing.create(me, "screenplay", "Night Ferry", body)
    return doc.id, wb.storyboards.create(me, doc.id, frames_per_scene=2).storyboard.board_id


def test_the_script_splits_into_scenes_and_every_card_points_at_its_lines(wb: Workbench, me) -> None:
    doc_id, board_id = _storyboard(wb, me)
    script = wb.storyboards.board_script(me, board_id)
    assert script is not None and script.selected is None
    assert (script.document_id, script.version, script.synced_version, script.behind) == (doc_id, 1, 1, False)
    assert script.version_label == "Night Ferry · version 1"
    lines = SAMPLE.split("\n")
    spans = scene_spans(SAMPLE)
    assert [(s.label, s.heading, s.first_line, s.last_line) for s in script.scenes] == [
        (sp.number, sp.heading, sp.first_line, sp.last_line) for sp in spans]
    for scene in script.scenes:
        assert list(scene.lines) == lines[scene.first_line - 1 : scene.last_line]
        assert scene.lines[0].startswith(scene.heading)
    board = wb.storyboards.get(me, board_id)
    for row in board.scenes:
        heading = script.place(row.heading_item or "")
        assert heading is not None and heading.kind == "scene" and heading.in_script and not heading.cut
        assert (heading.first_line, heading.last_line) == (row.first_line, row.last_line)
        for frame in row.frames:
            place = script.place(frame.item_id)
            assert place is not None and place.kind == "frame" and place.shot == frame.shot
            assert place.scene_index == heading.scene_index and place.heading == row.heading
            assert "\n".join(lines[place.first_line - 1 : place.last_line]) == frame.beat
    frame = board.scenes[1].frames[0]
    chosen = wb.storyboards.board_script(me, board_id, frame.item_id)
    assert chosen is not None and chosen.selected == script.place(frame.item_id)
    # A selection of a heading and a frame shows the frame; a card of no scene (a note someone added) shows nothing.
    note = wb.boards.add_note(me, board_id, "Lighting: all practicals")
    assert script.choose([board.scenes[0].heading_item or "", frame.item_id]).item_id == frame.item_id
    assert script.choose([note.id]) is None and wb.storyboards.board_script(me, board_id, note.id).selected is None


def test_a_newer_script_version_is_read_as_it_is_now_and_cut_scenes_say_so(wb: Workbench, me) -> None:
    doc_id, board_id = _storyboard(wb, me)
    spans = scene_spans(SAMPLE)
    lines = SAMPLE.split("\n")
    # A new scene before scene 2, and scene 4 taken out.
    gone = spans[3]
    new_lines = lines[: spans[1].start] + GALLEY.split("\n") + lines[spans[1].start : gone.start] + lines[gone.end :]
    body = "\n".join(new_lines)
    wb.writing.save(me, doc_id, body, note="galley in, scene 4 out")
    script = wb.storyboards.board_script(me, board_id)
    assert script is not None and script.behind and (script.version, script.synced_version) == (2, 1)
    assert [s.heading for s in script.scenes] == [s.heading for s in scene_spans(body)]
    board = wb.storyboards.get(me, board_id)
    now = body.split("\n")
    for row in board.scenes:
        for frame in row.frames:
            place = script.place(frame.item_id)
            assert place is not None and not place.cut
            if row.heading == gone.heading:
                assert not place.in_script and place.first_line is None  # not cut yet: the board was not updated
                continue
            # Lines moved down under the new scene; each frame still lands on its own paragraph.
            assert script.scenes[place.scene_index].heading == row.heading
            assert "\n".join(now[place.first_line - 1 : place.last_line]) == frame.beat
    wb.storyboards.update_from_script(me, board_id)
    script = wb.storyboards.board_script(me, board_id)
    assert script is not None and not script.behind
    cut = [p for p in script.places.values() if p.cut]
    assert cut and {p.heading for p in cut} == {gone.heading} and not any(p.in_script for p in cut)
    assert {p.kind for p in cut} == {"scene", "frame"}


def test_only_the_scripts_writer_reads_it_beside_the_board(wb: Workbench, me) -> None:
    doc_id, board_id = _storyboard(wb, me)
    plain = wb.boards.create(me, "Not a storyboard")
    assert wb.storyboards.board_script(me, plain.id) is None
    # Members and link holders open the board but not the screenplay (documents are their writer's).
    editor = wb.accounts.create_user("editor@example.com")
    wb.boards.share_with(me, board_id, editor, "edit")
    assert wb.storyboards.board_script(editor, board_id) is None
    _, token = wb.boards.create_link(me, board_id, "view")
    assert wb.storyboards.board_script(None, board_id, token=token) is None
    assert wb.storyboards.board_script(me, board_id, token=token) is not None  # the owner, whatever the link
    stranger = wb.accounts.create_user("stranger@example.com")
    with pytest.raises(NotFound):
        wb.storyboards.board_script(stranger, board_id)
    with pytest.raises(NotFound):
        wb.storyboards.board_script(None, board_id)
    # The script deleted: the board stays, with nothing to read beside it.
    wb.writing.delete(me, doc_id)
    assert wb.storyboards.board_script(me, board_id) is None
