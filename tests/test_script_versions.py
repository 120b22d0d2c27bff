"""Versions you can compare (issue #22, part 3): the scene-aware diff of two script versions, and restore.

Real parts: the embedded default (DuckDB), the sample script, the lossless
Fountain parser and the scene line map that storyboards use.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import open_wb
from workbench import Forbidden, InvalidInput, NotFound, Workbench
from workbench.writing.scene_lines import reorder_scenes, scene_spans

SAMPLE = (Path(__file__).parent / "data" / "three_pages.fountain").read_text(encoding="utf-8")
GALLEY = "INT. FERRY GALLEY - NIGHT\n\nA kettle rattles on the stove. Steam fogs the porthole.\n"

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def wb(tmp_path_factory: pytest.TempPathFactory) -> Workbench:
    bench = open_wb(tmp_path_factory.mktemp("script_versions"))
    yield bench
    bench.close()


@pytest.fixture(scope="module")
def me(wb: Workbench):
    return wb.accounts.create_user("versions@example.com", plan="premium")


def _two_versions(wb: Workbench, me, new_body: str) -> tuple[str, int, int]:
    doc = wb.writing.create(me, "screenplay", "Night Ferry", SAMPLE)
    saved = wb.writing.save(me, doc.id, new_body)
    return doc.id, 1, saved.version


def _kinds(diff) -> list[tuple[str, str]]:
    return [(c.kind, c.label) for c in diff.changes]


def test_a_moved_scene_is_reported_as_moved_only(wb: Workbench, me) -> None:
    moved = reorder_scenes(SAMPLE, scene_spans(SAMPLE), [0, 2, 3, 1, 4])  # scene 2 after scene 4
    doc_id, old, new = _two_versions(wb, me, moved)
    diff = wb.writing.compare(me, doc_id, old, new)
    assert _kinds(diff) == [("moved", "2")]
    change = diff.changes[0]
    assert change.heading == "INT. MARGARET ANNE - WHEELHOUSE - CONTINUOUS"
    assert change.description == ("Scene 2 (INT. MARGARET ANNE - WHEELHOUSE - CONTINUOUS) moved after "
                                  "scene 4 (INT. MARGARET ANNE - WHEELHOUSE - NIGHT)")
    assert change.old_position == 1 and change.new_position == 3
    # Nothing inside any scene changed, so no line is shown as changed.
    assert diff.scenes == [] and not diff.same


def test_an_edited_line_shows_that_line_only(wb: Workbench, me) -> None:
    old_line = "A DOCKHAND (20s) coils rope, yawning."
    new_line = "A DOCKHAND (20s) coils rope, humming a shanty."
    doc_id, old, new = _two_versions(wb, me, SAMPLE.replace(old_line, new_line))
    diff = wb.writing.compare(me, doc_id, old, new)
    assert _kinds(diff) == [("edited", "1")]
    assert diff.changes[0].lines_changed == 1 and "1 line changed" in diff.changes[0].description
    [scene] = diff.scenes
    changed = [r for r in scene.rows if r.kind != "same"]
    number = SAMPLE.split("\n").index(old_line) + 1
    assert [(r.kind, r.old_text, r.new_text, r.old_number, r.new_number) for r in changed] == [
        ("changed", old_line, new_line, number, number)]
    # One line of context on each side, and the inline form: the old line, then the new.
    assert [r.kind for r in scene.rows] == ["same", "changed", "same"]
    assert changed[0].inline() == [("removed", number, old_line), ("added", number, new_line)]


def test_a_reheaded_scene_is_reported_as_reheaded(wb: Workbench, me) -> None:
    body = SAMPLE.replace("EXT. ISLAND DOCK - CONTINUOUS #5#", "EXT. ISLAND PIER - DAWN #5#")
    doc_id, old, new = _two_versions(wb, me, body)
    diff = wb.writing.compare(me, doc_id, old, new)
    assert _kinds(diff) == [("reheaded", "5")]
    assert diff.changes[0].description == "Scene 5 re-headed: EXT. ISLAND DOCK - CONTINUOUS -> EXT. ISLAND PIER - DAWN"
    [scene] = diff.scenes
    assert [(r.old_text, r.new_text) for r in scene.rows if r.kind != "same"] == [
        ("EXT. ISLAND DOCK - CONTINUOUS #5#", "EXT. ISLAND PIER - DAWN #5#")]


def test_an_added_and_a_removed_scene(wb: Workbench, me) -> None:
    spans = scene_spans(SAMPLE)
    lines = SAMPLE.split("\n")
    third = spans[2]
    # Scene 3 out, a galley scene in after scene 1.
    body_lines = lines[: spans[1].start] + GALLEY.split("\n") + lines[spans[1].start : third.start] + lines[third.end :]
    doc_id, old, new = _two_versions(wb, me, "\n".join(body_lines))
    diff = wb.writing.compare(me, doc_id, old, new)
    assert sorted(_kinds(diff)) == [("added", "2"), ("removed", "3")]
    added, removed = diff.of_kind("added")[0], diff.of_kind("removed")[0]
    assert added.heading == "INT. FERRY GALLEY - NIGHT" and added.description.endswith("was added")
    assert removed.heading == "EXT. MARGARET ANNE - DECK - LATER"
    rows = {s.heading: s.rows for s in diff.scenes}
    assert {r.kind for r in rows["INT. FERRY GALLEY - NIGHT"]} == {"added"}
    assert {r.kind for r in rows["EXT. MARGARET ANNE - DECK - LATER"]} == {"removed"}
    assert len(rows["EXT. MARGARET ANNE - DECK - LATER"]) == third.content_end - third.start


def test_a_moved_and_edited_scene_reports_both_and_the_title_page_change(wb: Workbench, me) -> None:
    moved = reorder_scenes(SAMPLE, scene_spans(SAMPLE), [1, 0, 2, 3, 4])
    body = moved.replace("Draft date: 2026-01-15", "Draft date: 2026-02-01").replace(
        "She steps aboard.", "She steps aboard, slowly.")
    doc_id, old, new = _two_versions(wb, me, body)
    diff = wb.writing.compare(me, doc_id, old, new)
    assert _kinds(diff) == [("moved", "1"), ("edited", "1")]
    opening = diff.scenes[0]
    assert opening.heading == "Title page and opening"
    assert [(r.old_text, r.new_text) for r in opening.rows if r.kind != "same"] == [
        ("Draft date: 2026-01-15", "Draft date: 2026-02-01")]


def test_same_versions_and_either_order(wb: Workbench, me) -> None:
    doc = wb.writing.create(me, "screenplay", "Unchanged", SAMPLE)
    wb.writing.rename(me, doc.id, "Unchanged, renamed")
    assert wb.writing.compare(me, doc.id, 1, 2).same
    body = SAMPLE.replace("Last run, Captain?", "Last run?")
    wb.writing.save(me, doc.id, body)
    backwards = wb.writing.compare(me, doc.id, 3, 1)
    assert backwards.old_version == 3 and backwards.new_version == 1
    [row] = [r for s in backwards.scenes for r in s.rows if r.kind != "same"]
    assert (row.old_text, row.new_text) == ("Last run?", "Last run, Captain?")


def test_hostile_text_stays_raw_in_the_diff(wb: Workbench, me) -> None:
    """The diff carries the writer's text as written; escaping is the page's job (and is tested there)."""
    hostile = "<script>alert(1)</script> & <img src=x onerror=alert(2)>"
    doc_id, old, new = _two_versions(wb, me, SAMPLE.replace("Last run, Captain?", hostile))
    [row] = [r for s in wb.writing.compare(me, doc_id, old, new).scenes for r in s.rows if r.kind != "same"]
    assert row.new_text == hostile


def test_restore_writes_a_new_version_and_loses_nothing(wb: Workbench, me) -> None:
    moved = reorder_scenes(SAMPLE, scene_spans(SAMPLE), [0, 2, 3, 1, 4])
    doc_id, _, latest = _two_versions(wb, me, moved)
    restored = wb.writing.restore(me, doc_id, 1)
    assert restored.version == latest + 1 and restored.body == SAMPLE
    versions = wb.writing.versions(me, doc_id)
    assert [v.version for v in versions] == [3, 2, 1]
    assert versions[0].note == "restored version 1" and versions[1].body == moved  # the moved draft is kept
    assert wb.writing.compare(me, doc_id, 1, 3).same
    assert _kinds(wb.writing.compare(me, doc_id, 2, 3)) == [("moved", "2")]


def test_compare_refuses_what_it_cannot_compare(wb: Workbench, me) -> None:
    doc = wb.writing.create(me, "screenplay", "Short", SAMPLE)
    with pytest.raises(NotFound, match="no version 9"):
        wb.writing.compare(me, doc.id, 1, 9)
    with pytest.raises(InvalidInput, match="version number"):
        wb.writing.compare(me, doc.id, 1, "2")  # type: ignore[arg-type]
    with pytest.raises(NotFound, match="no version 5"):
        wb.writing.restore(me, doc.id, 5)
    other = wb.accounts.create_user("other-versions@example.com")
    with pytest.raises(NotFound):
        wb.writing.compare(other, doc.id, 1, 1)
    with pytest.raises(NotFound):
        wb.writing.compare(None, doc.id, 1, 1)  # type: ignore[arg-type]


def test_fdx_lives_on_writing_and_storyboards_calls_it(wb: Workbench, me) -> None:
    doc = wb.writing.create(me, "screenplay", "Night Ferry", SAMPLE)
    fdx = wb.writing.export_fdx(me, doc.id)
    assert fdx == wb.storyboards.export_fdx(me, doc.id) and fdx.startswith(b"<?xml")
    back = wb.writing.import_fdx(me, fdx, title="From Final Draft")
    assert back.kind == "screenplay" and back.title == "From Final Draft"
    assert _kinds(wb.writing.compare(me, back.id, 1, 1)) == []
    note = wb.writing.create(me, "note", "A note", "words")
    with pytest.raises(InvalidInput, match="only screenplays export to Final Draft"):
        wb.writing.export_fdx(me, note.id)
    with pytest.raises(Forbidden):
        wb.writing.import_fdx(None, fdx)  # type: ignore[arg-type]
