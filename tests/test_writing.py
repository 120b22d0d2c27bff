"""The writing domain: AI drafts saved with history, scene work, Fountain in and out."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.helpers import open_wb
from tests.openai_server import OpenAIServer, Reply
from workbench import InvalidInput, NotFound, ProviderError, Workbench
from workbench.writing import fountain

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def wb(tmp_path_factory: pytest.TempPathFactory) -> Workbench:
    bench = open_wb(tmp_path_factory.mktemp("writing"))
    yield bench
    bench.close()


@pytest.fixture(scope="module")
def me(wb: Workbench):
    return wb.accounts.create_user("writer@example.com", plan="premium")


def test_idea_to_outline_to_screenplay_offline(wb: Workbench, me) -> None:
    ideas = wb.writing.idea(me, "a lighthouse keeper hears tomorrow's news on an old radio",
                            genre="thriller", tone="tense", keywords=["lighthouse", "storm"], count=3, seed=4)
    assert len(ideas) == 3 and all(i.kind == "idea" and i.offline for i in ideas)
    assert any("lighthouse" in (i.body + i.title).lower() for i in ideas)
    outline = wb.writing.outline(me, ideas[0].id, structure="save-the-cat", seed=4)
    assert outline.kind == "outline" and len(outline.meta["beats"]) == 15
    script = wb.writing.screenplay(me, outline.id, seed=4)
    play = fountain.parse(script.body)
    assert script.kind == "screenplay" and play.scenes() and play.characters()
    versions = wb.writing.versions(me, script.id)
    assert versions[0].model == "offline-drafts/v1" and versions[0].credits == 4 and versions[0].prompt
    assert wb.accounts.balance(me) == 100 - 1 - 2 - 4


def test_logline_and_treatment(wb: Workbench, me) -> None:
    logline = wb.writing.logline(me, "a boxer protects her younger brother", count=2)
    assert logline.kind == "logline" and logline.body.count("\n\n") >= 1
    outline = wb.writing.outline(me, "a boxer protects her younger brother")
    treatment = wb.writing.treatment(me, outline.id)
    assert treatment.kind == "treatment" and "INT." in treatment.body or "EXT." in treatment.body


def test_versions_and_restore(wb: Workbench, me) -> None:
    doc = wb.writing.create(me, "screenplay", "Night Shift", "INT. DINER - NIGHT\n\nRain on the glass.\n")
    wb.writing.save(me, doc.id, doc.body + "\nA trucker enters.\n")
    wb.writing.save(me, doc.id, "EXT. ROAD - DAY\n\nNothing.\n", note="rewrite")
    restored = wb.writing.restore(me, doc.id, 2)
    assert restored.version == 4 and "trucker" in restored.body
    assert [v.version for v in wb.writing.versions(me, doc.id)] == [4, 3, 2, 1]


def test_continue_scene_streams_and_saves(wb: Workbench, me) -> None:
    start = "INT. KITCHEN - NIGHT\n\nMARA\nYou kept the key.\n\nJONAS\nI keep everything.\n"
    doc = wb.writing.create(me, "screenplay", "Key", start)
    chunks = list(wb.writing.stream_continue(me, doc.id, seed=1))
    updated = wb.writing.get(me, doc.id)
    assert len(chunks) > 1 and updated.body.startswith(start.rstrip("\n"))
    assert "".join(chunks).strip() in updated.body
    speakers = set(fountain.parse(updated.body).characters())
    assert speakers <= {"MARA", "JONAS"}


def test_stopping_a_continuation_keeps_the_words_written_so_far(wb: Workbench, me) -> None:
    start = "INT. ROOM - DAY\n\nANA\nWait.\n\nBEN\nFor what?\n"
    doc = wb.writing.create(me, "screenplay", "Stop", start)
    before = wb.accounts.balance(me)
    cancel, seen = threading.Event(), []
    for chunk in wb.writing.stream_continue(me, doc.id, cancel=cancel, seed=3):
        seen.append(chunk)
        if len(seen) == 3:
            cancel.set()  # what the Stop button does
    kept = wb.writing.get(me, doc.id)
    assert len(seen) == 3, "no word arrives after Stop"
    assert kept.version == 2 and kept.body == start.rstrip("\n") + "\n\n" + "".join(seen).strip() + "\n"
    assert wb.writing.versions(me, doc.id)[0].note == "continued scene (stopped early)"
    assert wb.accounts.balance(me) == before - wb.accounts.price("continue_scene")


def test_stopped_before_a_word_arrived_saves_nothing_and_refunds(wb: Workbench, me) -> None:
    doc = wb.writing.create(me, "screenplay", "Cancel", "INT. ROOM - DAY\n\nANA\nWait.\n")
    before = wb.accounts.balance(me)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(ProviderError, match="nothing was charged|no credits were spent"):
        list(wb.writing.stream_continue(me, doc.id, cancel=cancel))
    assert wb.writing.get(me, doc.id).version == 1
    assert wb.accounts.balance(me) == before


def test_a_rewrite_that_changes_nothing_is_not_charged(wb: Workbench, me) -> None:
    body = "INT. HALL - DAY\n\nShe walks down the hall.\n"
    doc = wb.writing.create(me, "screenplay", "Already tight", body)
    start, end = body.index("She"), body.index("hall.") + len("hall.")
    before = wb.accounts.balance(me)
    same = wb.writing.rewrite_selection(me, doc.id, start, end, mode="tighten")
    assert same.version == 1 and same.body == body
    assert list(wb.writing.stream_rewrite(me, doc.id, start, end, mode="tighten"))  # the text still streams
    assert wb.writing.get(me, doc.id).version == 1
    assert wb.accounts.balance(me) == before
    refunds = [e for e in wb.accounts.ledger(me, limit=5000) if e.action == "rewrite" and e.entry == "refund"]
    assert len(refunds) >= 2


def test_pages_from_an_outline_read_like_a_draft(wb: Workbench, me) -> None:
    ideas = wb.writing.idea(me, "a ferry captain finds a stowaway on the last night crossing", genre="thriller",
                            count=1, seed=1)
    outline = wb.writing.outline(me, ideas[0].id, seed=1)
    lead = ideas[0].meta["protagonist"].split()[0]
    assert outline.meta["protagonist"] == ideas[0].meta["protagonist"]
    script = wb.writing.screenplay(me, outline.id, seed=1)
    play = fountain.parse(script.body)
    action = " ".join(e.text for e in play.elements if e.kind == "action")
    assert "(act " not in action and "p. 1)" not in action and "Setup" not in action
    assert lead.upper() in play.characters()  # the outline's lead, not a stranger
    # Each beat is the writer's synopsis of its scene (not printed), one per scene.
    synopses = [e.text for e in play.elements if e.kind == "synopsis"]
    assert len(synopses) == len(outline.meta["beats"]) == len(play.scenes())
    lines = [e.text for e in play.elements if e.kind == "dialogue"]
    assert len(set(lines)) == len(lines), "no line of dialogue is said twice in one draft"
    treatment = wb.writing.treatment(me, outline.id, seed=1)
    assert "(act " not in treatment.body


def test_rewrite_selection_replaces_only_the_range(wb: Workbench, me) -> None:
    body = "INT. HALL - DAY\n\nShe walks very slowly down the really long hall.\n\nTHE END"
    doc = wb.writing.create(me, "screenplay", "Hall", body)
    start = body.index("She")
    end = body.index("hall.") + len("hall.")
    new = wb.writing.rewrite_selection(me, doc.id, start, end, mode="tighten")
    assert new.body.startswith("INT. HALL - DAY\n\n") and new.body.endswith("\n\nTHE END")
    assert new.body != body
    with pytest.raises(InvalidInput):
        wb.writing.rewrite_selection(me, doc.id, 0, 10_000)


def test_streaming_from_an_openai_compatible_server(tmp_path: Path) -> None:
    with OpenAIServer(default=Reply("JONAS\nThen take it back.\n", chunks=["JONAS\n", "Then take ", "it back.\n"])) as server:
        bench = open_wb(tmp_path, ai={"text_provider": "openai", "base_url": server.base_url})
        try:
            user = bench.accounts.create_user("stream@example.com", plan="premium")
            doc = bench.writing.create(user, "screenplay", "Key", "INT. KITCHEN - NIGHT\n\nMARA\nYou kept it.\n")
            chunks = list(bench.writing.stream_continue(user, doc.id))
            assert chunks == ["JONAS\n", "Then take ", "it back.\n"]
            assert bench.writing.get(user, doc.id).body.endswith("Then take it back.\n")
            assert not bench.writing.get(user, doc.id).offline
        finally:
            bench.close()


def test_stop_on_an_online_stream_keeps_what_arrived_and_closes_it(tmp_path: Path) -> None:
    chunks = ["JONAS\n", "Then take ", "it back. ", "All of it.\n"]
    with OpenAIServer(default=Reply("".join(chunks), chunks=chunks, chunk_delay=0.3)) as server:
        bench = open_wb(tmp_path, ai={"text_provider": "openai", "base_url": server.base_url})
        try:
            user = bench.accounts.create_user("stop@example.com", plan="premium")
            doc = bench.writing.create(user, "screenplay", "Key", "INT. KITCHEN - NIGHT\n\nMARA\nYou kept it.\n")
            cancel, seen = threading.Event(), []
            for chunk in bench.writing.stream_continue(user, doc.id, cancel=cancel):
                seen.append(chunk)
                if len(seen) == 2:
                    cancel.set()
            assert seen == chunks[:2]
            assert bench.writing.get(user, doc.id).body.endswith("JONAS\nThen take\n")
            assert bench.accounts.balance(user) == 100 - bench.accounts.price("continue_scene")
        finally:
            bench.close()


def test_fountain_import_export_and_pdf(wb: Workbench, me, tmp_path: Path) -> None:
    path = DATA / "three_pages.fountain"
    doc = wb.writing.import_fountain(me, path)
    assert doc.kind == "screenplay" and doc.body == path.read_text()
    assert wb.writing.export_fountain(me, doc.id) == doc.body
    out = io.BytesIO()
    wb.writing.export_pdf(me, doc.id, out)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(out.getvalue())).pages)
    heading = next(e.text for e in fountain.parse(doc.body).elements if e.kind == "scene_heading")
    assert heading.upper() in text


def test_other_users_cannot_read_documents(wb: Workbench, me) -> None:
    doc = wb.writing.create(me, "note", "Private", "secret")
    other = wb.accounts.create_user("snoop@example.com")
    with pytest.raises(NotFound):
        wb.writing.get(other, doc.id)
    with pytest.raises(NotFound):
        wb.writing.restore(other, doc.id, 1)


def test_bad_input_is_refused_without_cost(wb: Workbench, me) -> None:
    before = wb.accounts.balance(me)
    with pytest.raises(InvalidInput):
        wb.writing.idea(me, "")
    with pytest.raises(InvalidInput):
        wb.writing.create(me, "screenplay", "", "x")
    with pytest.raises(InvalidInput):
        wb.writing.outline(me, "premise", structure="five-act")
    assert wb.accounts.balance(me) == before


def test_stream_rewrite_replaces_the_range_as_it_streams(wb: Workbench, me) -> None:
    body = "INT. HALL - DAY\n\nShe walks very slowly down the really long hall.\n\nTHE END"
    doc = wb.writing.create(me, "screenplay", "Hall 2", body)
    start, end = body.index("She"), body.index("hall.") + len("hall.")
    before = wb.accounts.balance(me)
    chunks = list(wb.writing.stream_rewrite(me, doc.id, start, end, mode="tighten", seed=1))
    new = wb.writing.get(me, doc.id)
    assert len(chunks) > 1 and new.version == 2
    assert new.body == body[:start] + "".join(chunks).strip() + body[end:]
    assert wb.accounts.balance(me) == before - 1
    cancel = threading.Event()
    with pytest.raises(ProviderError):
        for _ in wb.writing.stream_rewrite(me, doc.id, start, start + 10, cancel=cancel):
            cancel.set()
    assert wb.writing.get(me, doc.id).version == 2 and wb.accounts.balance(me) == before - 1


def test_the_walkthrough_premise_gives_a_draft_a_writer_would_keep(wb: Workbench) -> None:
    """Premise -> ideas -> loglines -> outline -> pages, offline, as the walk-through types it (#18)."""
    import re

    from workbench.ai.offline_pages import place_of

    writer = wb.accounts.create_user("walkthrough-writer@example.com", plan="premium")
    premise = "A night-ferry deckhand finds a camera full of tomorrow's photos"  # tests/browser/test_walkthrough.py
    for seed in (1, 2):
        ideas = wb.writing.idea(writer, premise, seed=seed)
        cards = " ".join(i.title + "\n" + i.body for i in ideas)
        assert len({i.meta["logline"] for i in ideas}) == len(ideas) == 3
        assert not re.search(r"world of (?:tomorrow's|nursery)|camera full|photos makes|Tomorrow'S", cards), cards
        loglines = wb.writing.logline(writer, ideas[0].id, seed=seed)
        outline = wb.writing.outline(writer, ideas[0].id, seed=seed)
        told = loglines.body + "\n" + outline.body
        assert not re.search(r"world of (?!the )|photos makes|tomorrow's[,.]", told), told
        script = wb.writing.screenplay(writer, outline.id, seed=seed)
        first = next(line for line in script.body.splitlines() if line.startswith(("INT.", "EXT.")))
        place = place_of(ideas[0].meta["setting"])
        assert place and first.startswith((f"EXT. {place} - ", f"INT. {place} - ")), (first, ideas[0].meta["setting"])
