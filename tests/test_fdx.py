"""Final Draft interchange (issue #22 part 5): Fountain -> FDX -> Fountain keeps every element; hostile FDX is refused."""

from __future__ import annotations

import io
from pathlib import Path

import defusedxml.ElementTree as SafeET
import pytest

from tests.helpers import open_wb
from workbench import InvalidInput
from workbench.writing import fountain
from workbench.writing.fdx import MAX_DEPTH, MAX_FDX_BYTES, fdx_to_fountain, fountain_to_fdx

SAMPLE = (Path(__file__).parent / "data" / "three_pages.fountain").read_text(encoding="utf-8")
EXTRAS = """
[[Rosa's cap should be the one from the photograph.]]

INT. ENGINE ROOM - NIGHT #6A#

MECHANIC (V.O.)
(over the intercom)
She's running *hot*, Captain. **Really** hot.

ROSA
Hold her steady.

MECHANIC ^
Aye.

===

~Row, row, row your boat

# Act Two

= The sale goes through.

>THE END?<

Grease on a snake_case label, two \\*stars\\* and a _line_ under it.

SMASH CUT TO:
"""
FULL = SAMPLE + EXTRAS
KINDS = {"scene_heading", "action", "character", "parenthetical", "dialogue", "transition", "note", "page_break",
         "lyric", "section", "synopsis", "centered"}


def _round_trip(text: str) -> fountain.Screenplay:
    return fountain.parse(fdx_to_fountain(fountain_to_fdx(text)))


def test_fountain_to_fdx_and_back_keeps_every_element() -> None:
    original = fountain.parse(FULL)
    assert {e.kind for e in original.elements} == KINDS  # the script really has all of them
    assert any(e.dual == "left" for e in original.elements) and any(e.dual == "right" for e in original.elements)
    back = _round_trip(FULL)
    assert back.title_page == original.title_page
    assert back.elements == original.elements  # headings with numbers, dual dialogue, notes, emphasis...


def test_the_fdx_is_final_draft_shaped() -> None:
    root = SafeET.fromstring(fountain_to_fdx(FULL))
    assert root.tag == "FinalDraft" and root.get("DocumentType") == "Script"
    paragraphs = root.findall("./Content/Paragraph")
    headings = [p for p in paragraphs if p.get("Type") == "Scene Heading"]
    assert [h.get("Number") for h in headings] == ["1", "2", "3", "4", "5", "6A"]
    assert headings[0].find("Text").text == "EXT. PORTSIDE HARBOUR - NIGHT"
    dual = root.findall("./Content/Paragraph/DualDialogue")
    assert len(dual) == 2  # THEO ^ in the sample, MECHANIC ^ in the extras
    # MECHANIC ^ speaks at once with the speech before his: Rosa's
    assert [(p.get("Type"), p.find("Text").text) for p in dual[1]] == [
        ("Character", "ROSA"), ("Dialogue", "Hold her steady."), ("Character", "MECHANIC"), ("Dialogue", "Aye.")]
    styles = {t.get("Style") for t in root.iter("Text") if t.get("Style")}
    assert {"Italic", "Bold", "Bold+Underline"} <= styles
    notes = root.findall("./ScriptNotes/ScriptNote")
    assert [n.find("Paragraph/Text").text for n in notes] == ["Rosa's cap should be the one from the photograph."]
    title = {p.get("Field"): p.find("Text").text for p in root.findall("./TitlePage/Content/Paragraph")}
    assert title["Credit"] == "Written by" and title["Title"] == "NIGHT FERRY"
    assert any(p.get("StartsNewPage") == "Yes" for p in paragraphs)
    assert any(p.get("Type") == "Transition" and p.find("Text").text == "CUT TO:" for p in paragraphs)


def test_a_final_draft_file_without_our_fields_reads_sensibly() -> None:
    fdx = b"""<?xml version="1.0" encoding="UTF-8" standalone="no" ?>
<FinalDraft DocumentType="Script" Template="No" Version="4">
  <Content>
    <Paragraph Number="12" Type="Scene Heading"><SceneProperties Length="1"/><Text>INT. LAB - NIGHT</Text></Paragraph>
    <Paragraph Type="Action"><Text>Beakers </Text><Text Style="Bold">hiss</Text><Text>.</Text></Paragraph>
    <Paragraph Type="Character"><Text>DR. VANCE (O.S.)</Text></Paragraph>
    <Paragraph Type="Parenthetical"><Text>whispering</Text></Paragraph>
    <Paragraph Type="Dialogue"><Text>Not yet.</Text></Paragraph>
    <Paragraph Type="Shot"><Text>CLOSE ON THE DOOR</Text></Paragraph>
    <Paragraph Type="Transition"><Text>DISSOLVE TO:</Text></Paragraph>
  </Content>
  <TitlePage><Content>
    <Paragraph Alignment="Center" Type="Text"><Text>THE LAB</Text></Paragraph>
    <Paragraph Alignment="Center" Type="Text"><Text>Written by</Text></Paragraph>
    <Paragraph Alignment="Center" Type="Text"><Text>Ada Vance</Text></Paragraph>
    <Paragraph Alignment="Left" Type="Text"><Text>ada@example.com</Text></Paragraph>
  </Content></TitlePage>
</FinalDraft>"""
    play = fountain.parse(fdx_to_fountain(fdx))
    assert play.title_page == {"Title": "THE LAB", "Credit": "Written by", "Author": "Ada Vance",
                               "Contact": "ada@example.com"}
    kinds = [(e.kind, e.text) for e in play.elements]
    assert kinds[:3] == [("scene_heading", "INT. LAB - NIGHT"), ("action", "Beakers **hiss**."),
                         ("character", "DR. VANCE")]
    assert play.elements[0].scene_number == "12" and play.elements[2].extension == "(O.S.)"
    assert ("parenthetical", "(whispering)") in kinds and ("transition", "DISSOLVE TO:") in kinds
    assert ("action", "CLOSE ON THE DOOR") in kinds


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<FinalDraft><Content><Paragraph Type="Action"><Text>&lol3;</Text></Paragraph></Content></FinalDraft>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE FinalDraft [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<FinalDraft><Content><Paragraph Type="Action"><Text>&secret;</Text></Paragraph></Content></FinalDraft>"""
EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE FinalDraft SYSTEM "http://127.0.0.1:9/evil.dtd">
<FinalDraft><Content/></FinalDraft>"""
DEEP = (b"<FinalDraft><Content>" + b"<Paragraph>" * 100_000 + b"</Paragraph>" * 100_000
        + b"</Content></FinalDraft>")


@pytest.mark.parametrize(("data", "says"), [
    (BILLION_LAUGHS, "DTD, entities or external references"),
    (EXTERNAL, "DTD, entities or external references"),
    (EXTERNAL_DTD, "DTD, entities or external references"),
    (DEEP, f"more than {MAX_DEPTH} deep"),
    (b"<html><body>not a script</body></html>", "not a Final Draft file"),
    (b"<FinalDraft><Content><Paragraph>", "broken XML"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "broken XML"),
], ids=["entity expansion", "external entity", "external DTD", "huge nesting", "not FDX", "truncated", "binary"])
def test_hostile_or_foreign_files_are_refused_with_a_typed_error(data: bytes, says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        fdx_to_fountain(data)


def test_size_limit_and_sources(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="MB"):
        fdx_to_fountain(b"<FinalDraft>" + b" " * (MAX_FDX_BYTES + 1) + b"</FinalDraft>")
    path = tmp_path / "night.fdx"
    path.write_bytes(fountain_to_fdx(SAMPLE))
    assert fdx_to_fountain(path) == fdx_to_fountain(str(path)) == fdx_to_fountain(io.BytesIO(path.read_bytes()))
    with pytest.raises(InvalidInput, match="not a file"):
        fdx_to_fountain(tmp_path / "missing.fdx")


def test_a_refused_import_stores_nothing(tmp_path: Path) -> None:
    with open_wb(tmp_path) as wb:
        me = wb.accounts.local_user()
        with pytest.raises(InvalidInput):
            wb.storyboards.import_fdx(me, BILLION_LAUGHS)
        assert wb.writing.list(me) == []
        doc = wb.storyboards.import_fdx(me, fountain_to_fdx(SAMPLE))
        assert doc.title == "NIGHT FERRY" and fountain.parse(doc.body) == fountain.parse(SAMPLE)
        assert fountain.parse(fdx_to_fountain(wb.storyboards.export_fdx(me, doc.id))) == fountain.parse(SAMPLE)
