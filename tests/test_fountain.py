"""The Fountain reader and writer, element by element, against https://fountain.io/syntax."""

from __future__ import annotations

import random
import re
import time
from pathlib import Path

import pytest

from tests.helpers import png_bytes
from workbench.errors import InvalidInput
from workbench.writing.fountain import (
    BOLD,
    ITALIC,
    UNDERLINE,
    Element,
    Screenplay,
    Styled,
    emphasis_spans,
    format,
    parse,
    strip_notes,
    to_plain_text,
)
from workbench.writing.fountain_import import MAX_FOUNTAIN_BYTES, read_fountain

SAMPLE = Path(__file__).parent / "data" / "three_pages.fountain"


def kinds(text: str) -> list[str]:
    return [element.kind for element in parse(text).elements]


def only(text: str) -> Element:
    elements = parse(text).elements
    assert len(elements) == 1, elements
    return elements[0]


# ---------------------------------------------------------------- title page


def test_title_page_reads_single_and_indented_multi_line_values():
    play = parse(
        "Title:\n    _**BRICK & STEEL**_\n    _**FULL RETIRED**_\nCredit: Written by\n"
        "Author: Stu Maschwitz\nDraft date: 1/27/2012\nContact:\n    Next Level Productions\n"
        "    1588 Mission Dr.\n\nINT. HOUSE - DAY\n\nIt rains.\n"
    )
    assert play.title_page == {
        "Title": "_**BRICK & STEEL**_\n_**FULL RETIRED**_",
        "Credit": "Written by",
        "Author": "Stu Maschwitz",
        "Draft date": "1/27/2012",
        "Contact": "Next Level Productions\n1588 Mission Dr.",
    }
    assert play.title_field("draft DATE") == "1/27/2012"
    assert play.title_field("source") is None
    assert [e.kind for e in play.elements] == ["scene_heading", "action"]


def test_title_page_only_at_the_top():
    play = parse("INT. HOUSE - DAY\n\nTitle: not a title page\n")
    assert play.title_page == {}
    assert play.elements[1] == Element("action", "Title: not a title page")


def test_fade_in_at_the_top_is_not_a_title_page():
    play = parse("FADE IN:\n\nEXT. HARBOUR - NIGHT\n\nFog.\n")
    assert play.title_page == {}
    assert play.elements[0] == Element("action", "FADE IN:")
    assert format(play).startswith("FADE IN:\n")


def test_repeated_title_key_keeps_every_value():
    assert parse("Author: Ann\nAuthor: Bo\n").title_page == {"Author": "Ann\nBo"}


# ---------------------------------------------------------------- scene headings


@pytest.mark.parametrize(
    "line",
    [
        "INT. HOUSE - DAY",
        "EXT. BRICK'S POOL - DAY",
        "EST. CITY SKYLINE - NIGHT",
        "INT./EXT. CAR - MOVING",
        "INT/EXT CAR - MOVING",
        "I/E CAR - MOVING",
        "int. lowercase works too",
        "EXT HOUSE - SPACE NOT DOT",
    ],
)
def test_scene_heading_prefixes(line):
    assert only(f"\n{line}\n\n") == Element("scene_heading", line)


def test_scene_heading_needs_a_blank_line_after():
    # Followed by a line, an all-caps line is a character cue, as the spec reads.
    assert kinds("INT. HOUSE - DAY\nShe runs.\n") == ["character", "dialogue"]
    assert kinds("Int. house - day\nShe runs.\n") == ["action"]
    assert kinds("She runs.\nINT. HOUSE - DAY\n\n") == ["action"]


def test_interior_word_is_not_a_heading():
    assert kinds("\nINTERIOR DESIGN MAGAZINES EVERYWHERE.\n\n") == ["action"]


def test_forced_scene_heading_with_a_period():
    assert only("\n.SNIPER SCOPE POV\n\n") == Element("scene_heading", "SNIPER SCOPE POV")


def test_leading_ellipsis_is_not_a_forced_heading():
    assert only("\n...and then they kissed.\n\n") == Element("action", "...and then they kissed.")


@pytest.mark.parametrize("number", ["1", "1A", "1a", "A1", "I-1-A", "110A", "1.1"])
def test_scene_numbers(number):
    heading = only(f"INT. HOUSE - DAY #{number}#\n")
    assert (heading.text, heading.scene_number) == ("INT. HOUSE - DAY", number)


def test_forced_heading_can_carry_a_scene_number():
    assert only(".FLASHBACK #12#\n") == Element("scene_heading", "FLASHBACK", scene_number="12")


def test_a_hash_that_is_not_a_scene_number_stays_in_the_heading():
    assert only("INT. ROOM #2 - DAY\n").text == "INT. ROOM #2 - DAY"


# ---------------------------------------------------------------- action


def test_action_keeps_line_breaks_and_indentation():
    text = "They fight.\n\tA tab indent.\n    Four spaces.\nLast line."
    assert only(text + "\n") == Element("action", text)


def test_forced_action_with_exclamation_mark():
    assert kinds("\n!SCANNING THE AISLES...\nWhere is that pit boss?\n") == ["action"]
    assert only("!SCANNING THE AISLES...\nWhere is that pit boss?\n").text == (
        "SCANNING THE AISLES...\nWhere is that pit boss?"
    )
    assert only("\n!INT. NOT A HEADING\n\n") == Element("action", "INT. NOT A HEADING")


def test_two_spaces_keep_an_action_paragraph_together():
    assert only("He waits.\n  \nAnd waits.\n") == Element("action", "He waits.\n\nAnd waits.")


def test_blank_line_starts_a_new_action_paragraph():
    assert [e.text for e in parse("One.\n\nTwo.\n").elements] == ["One.", "Two."]


# ---------------------------------------------------------------- speech


def test_character_dialogue_and_parenthetical():
    play = parse("\nSTEEL\n(starting the engine)\nSo much for retirement!\nNow we drive.\n")
    assert play.elements == [
        Element("character", "STEEL"),
        Element("parenthetical", "(starting the engine)"),
        Element("dialogue", "So much for retirement!\nNow we drive."),
    ]


@pytest.mark.parametrize("extension", ["(V.O.)", "(O.S.)", "(CONT'D)", "(on the radio)", "(V.O.) (CONT'D)"])
def test_character_extensions(extension):
    character = parse(f"\nMOM {extension}\nLuke! Come down for supper!\n").elements[0]
    assert (character.kind, character.text, character.extension) == ("character", "MOM", extension)


def test_forced_character_keeps_its_case():
    play = parse("\n@McCLANE\nYippie ki-yay!\n")
    assert play.elements[0] == Element("character", "McCLANE")
    assert play.elements[1] == Element("dialogue", "Yippie ki-yay!")
    assert play.characters() == ["McCLANE"]


def test_character_needs_a_letter_blank_before_and_a_line_after():
    assert kinds("\n23\nSkidoo.\n") == ["action"]
    assert kinds("\nR2D2\nBeep.\n") == ["character", "dialogue"]
    assert kinds("Some action.\nBOB\nHello.\n") == ["action"]
    assert kinds("\nBOB\n\nHello.\n") == ["action", "action"]


def test_mixed_case_line_is_not_a_character():
    assert kinds("\nBob\nHello.\n") == ["action"]


def test_two_spaces_keep_dialogue_going():
    said = parse("\nDEALER\nTen.\nFour.\n  \nDealer gets a seven.\n").elements[1]
    assert said == Element("dialogue", "Ten.\nFour.\n\nDealer gets a seven.")


def test_parenthetical_mid_speech():
    assert kinds("\nBOB\nWell.\n(beat)\nNo.\n") == ["character", "dialogue", "parenthetical", "dialogue"]


def test_a_parenthetical_outside_a_speech_is_action():
    assert kinds("\n(beat)\n\n") == ["action"]


def test_dual_dialogue_with_caret():
    play = parse("\nBRICK\nScrew retirement.\n\nSTEEL ^\nScrew retirement.\n")
    brick, _, steel, _ = play.elements
    assert (brick.dual, steel.dual, steel.text) == ("left", "right", "STEEL")


def test_caret_without_a_speech_before_is_not_dual():
    play = parse("\nHe waits.\n\nSTEEL ^\nHello.\n")
    assert play.elements[1] == Element("character", "STEEL")


# ---------------------------------------------------------------- other elements


def test_lyrics_standalone_and_inside_a_speech():
    assert only("~Willy Wonka! Willy Wonka!\n~The amazing chocolatier!\n") == Element(
        "lyric", "Willy Wonka! Willy Wonka!\nThe amazing chocolatier!"
    )
    play = parse("\nWONKA\n~Pure imagination.\n")
    assert play.elements[1] == Element("lyric", "Pure imagination.", in_speech=True)


def test_transitions_natural_and_forced():
    assert only("\nCUT TO:\n\n") == Element("transition", "CUT TO:")
    assert only("\nSMASH CUT TO:\n") == Element("transition", "SMASH CUT TO:")
    assert only(">Burn to White.\n") == Element("transition", "Burn to White.")
    assert kinds("\ncut to:\n\n") == ["action"]
    assert kinds("Then\nCUT TO:\n\n") == ["action"]


def test_centered_text():
    assert only(">THE END<\n") == Element("centered", "THE END")
    assert only("> THE END <\n") == Element("centered", "THE END")
    assert only(">ONE<\n>TWO<\n") == Element("centered", "ONE\nTWO")


@pytest.mark.parametrize("line", ["===", "=====", "  ===  "])
def test_page_breaks(line):
    assert kinds(f"One.\n\n{line}\n\nTwo.\n") == ["action", "page_break", "action"]


def test_notes_inline_and_standalone():
    assert only("He opens the door. [[Check the lock.]]\n") == Element(
        "action", "He opens the door. [[Check the lock.]]"
    )
    assert only("\n[[A note on its own.]]\n") == Element("note", "A note on its own.")
    note = only("\n[[This note\n  \ngoes on after a kept blank line.]]\n")
    assert note == Element("note", "This note\n\ngoes on after a kept blank line.")


def test_boneyard_hides_whole_paragraphs_and_inline_text():
    play = parse("Kept.\n\n/*\nINT. CUT SCENE - DAY\n\nBOB\nGone.\n*/\n\nAlso /* not this */kept.\n")
    assert play.elements == [
        Element("action", "Kept."),
        Element("boneyard", "\nINT. CUT SCENE - DAY\n\nBOB\nGone.\n"),
        Element("action", "Also kept."),
    ]


def test_unclosed_boneyard_is_text():
    assert only("A /* dangling opener.\n").text == "A /* dangling opener."


def test_sections_and_synopses():
    play = parse("# ACT I\n\n## Sequence\n\n### Beat\n\n= Set up the heist.\n")
    assert [(e.kind, e.text, e.depth) for e in play.elements] == [
        ("section", "ACT I", 1),
        ("section", "Sequence", 2),
        ("section", "Beat", 3),
        ("synopsis", "Set up the heist.", 0),
    ]


# ---------------------------------------------------------------- emphasis


def test_emphasis_styles():
    assert emphasis_spans("*italic* **bold** ***both*** _under_") == [
        Styled("italic", ITALIC),
        Styled(" ", 0),
        Styled("bold", BOLD),
        Styled(" ", 0),
        Styled("both", BOLD | ITALIC),
        Styled(" ", 0),
        Styled("under", UNDERLINE),
    ]


def test_emphasis_combines():
    assert emphasis_spans("_**BRICK**_") == [Styled("BRICK", BOLD | UNDERLINE)]
    assert emphasis_spans("**bold *and italic* bold**") == [
        Styled("bold ", BOLD),
        Styled("and italic", BOLD | ITALIC),
        Styled(" bold", BOLD),
    ]


def test_escaped_asterisks_print_literally():
    assert emphasis_spans("Steel enters the code: **\\*9765\\***") == [
        Styled("Steel enters the code: ", 0),
        Styled("*9765*", BOLD),
    ]


def test_spacing_decides_emphasis():
    line = "He dialed *69 and then *23, and then hung up."
    assert emphasis_spans(line) == [Styled(line, 0)]
    assert emphasis_spans("He dialed *69 and then 23*, and then hung up.")[1] == Styled(
        "69 and then 23", ITALIC
    )


def test_unmatched_markers_stay():
    assert emphasis_spans("a * b ** c _") == [Styled("a * b ** c _", 0)]


def test_strip_notes():
    assert strip_notes("One [[note\nover lines]] two [[unclosed") == "One  two [[unclosed"


# ---------------------------------------------------------------- screenplay helpers


def test_scenes_and_characters_of_the_sample():
    play = parse(SAMPLE.read_text())
    scenes = play.scenes()
    assert [s.number for s in scenes] == ["1", "2", "3", "4", "5"]
    assert scenes[0].heading.text == "EXT. PORTSIDE HARBOUR - NIGHT"
    assert scenes[0].elements[0].kind == "action"
    assert all(e.kind != "scene_heading" for s in scenes for e in s.elements)
    assert play.characters() == ["DOCKHAND", "ROSA", "THEO", "AUNT JUNE"]
    assert play.title_field("title") == "_**NIGHT FERRY**_"


def test_characters_merge_case_and_drop_extensions():
    play = parse("\nMCCLANE (V.O.)\nHi.\n\n@McClane\nHi.\n\nHANS\nHello.\n")
    assert play.characters() == ["MCCLANE", "HANS"]


# ---------------------------------------------------------------- writing back


def test_format_writes_canonical_fountain():
    play = Screenplay(
        {"Title": "Night Ferry", "Contact": "Rosa\n42 Harbour Lane"},
        [
            Element("scene_heading", "INT. WHEELHOUSE - NIGHT", scene_number="2"),
            Element("scene_heading", "SNIPER POV"),
            Element("action", "She waits.\n\nAnd waits."),
            Element("action", "BOB"),
            Element("character", "McCLANE", extension="(V.O.)"),
            Element("parenthetical", "(quietly)"),
            Element("dialogue", "Come out.\n\nPlease."),
            Element("transition", "CUT TO:"),
            Element("transition", "Fade out."),
            Element("centered", "THE END"),
        ],
    )
    assert format(play) == (
        "Title: Night Ferry\nContact:\n    Rosa\n    42 Harbour Lane\n\n"
        "INT. WHEELHOUSE - NIGHT #2#\n\n.SNIPER POV\n\nShe waits.\n  \nAnd waits.\n\nBOB\n\n"
        "@McCLANE (V.O.)\n(quietly)\nCome out.\n  \nPlease.\n\nCUT TO:\n\n>Fade out.\n\n>THE END<\n"
    )
    assert parse(format(play)) == play


def test_format_forces_action_that_would_read_as_something_else():
    play = Screenplay({}, [Element("action", "BOB\nHello there.")])
    assert format(play) == "!BOB\nHello there.\n"
    assert parse(format(play)) == play


def test_format_protects_a_first_line_that_looks_like_a_title_key():
    play = Screenplay({}, [Element("action", "Note: the cat is asleep.")])
    assert parse(format(play)) == play


def test_round_trip_of_the_sample_and_every_construct():
    for text in [SAMPLE.read_text(), SPEC_TOUR]:
        play = parse(text)
        assert parse(format(play)) == play
        assert format(parse(format(play))) == format(play)


SPEC_TOUR = """Title: Tour
Author: Test

# Act

= Synopsis.

EXT. POOL - DAY #1#

.FORCED HEADING

...not a heading

!FORCED ACTION
\tindented

BRICK
(beat)
Line one.
  
Line two.

STEEL ^
Together.

@McCLANE (V.O.)
~Sung line

CUT TO:

>FADE OUT.

>THE END<

===

[[note
  
more]]

/* bones */

~Lyric

**bold** *it* _u_ \\*esc\\*
"""


def test_plain_text_drops_markup_notes_and_structure():
    plain = to_plain_text(parse(SPEC_TOUR))
    assert "bold it u *esc*" in plain
    assert "McCLANE (V.O.)\nSung line" in plain
    for hidden in ("Synopsis.", "# Act", "note", "bones", "**", "[["):
        assert hidden not in plain
    assert plain.startswith("Title: Tour\nAuthor: Test\n\nEXT. POOL - DAY #1#")


# ---------------------------------------------------------------- hostile input


_PIECES = [
    "INT. HOUSE", "EXT. ROAD #1#", ".FORCED", "..dots", "!BOB", "@McBob", "BOB", "BOB (V.O.)", "ALICE ^",
    "(beat)", "Hello there.", "CUT TO:", ">FADE OUT", ">THE END<", "===", "[[note", "]]", "[[n]]", "/*", "*/",
    "# sec", "= syn", "~lyric", "  ", "", "", "Title: X", "    indented", "\tTab", "*it* **b** _u_ \\*", "^",
    "@", "!", ">", "<", "><", ". #1#", "#", "=", "~", "\x00", "\r", "\ufeff", "é€😀", "Note: x", "(", ")",
]  # fmt: skip


def _garbage(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(0, 30)):
        if rng.random() < 0.2:
            parts.append("".join(chr(rng.randint(0, 0x2FF)) for _ in range(rng.randint(0, 10))))
        else:
            parts.append(rng.choice(_PIECES))
    return rng.choice(["\n", "\n", "\r\n", " "]).join(parts)


def test_any_text_parses_and_round_trips():
    rng = random.Random(20260115)
    for _ in range(3000):
        text = _garbage(rng)
        play = parse(text)
        assert parse(format(play)) == play, text
        assert isinstance(to_plain_text(play), str)


@pytest.mark.parametrize(
    "text",
    [
        "/* " * 50_000,
        "[[ " * 50_000,
        "*a " * 50_000,
        "_*" * 50_000,
        "INT. X #" + "1" * 100_000 + "# x#",
        "\n\n[[x\n" + "y\n" * 50_000,
        "BOB\n" + "hello\n" * 50_000,
    ],
    ids=["openers", "notes", "stars", "mixed", "hashes", "open-note", "long-speech"],
)
def test_pathological_input_stays_fast(text):
    started = time.perf_counter()
    play = parse(text)
    to_plain_text(play)
    assert parse(format(play)) == play
    assert time.perf_counter() - started < 10


def test_empty_and_blank_input():
    assert parse("") == Screenplay()
    assert parse("\n \n\t\n") == Screenplay()
    assert format(Screenplay()) == ""
    assert to_plain_text(Screenplay()) == ""


# ---------------------------------------------------------------- reading files

SCRIPT = "Title: Ça va\n\nINT. CAFÉ - NUIT\n\nMAË\nBonjour. 🎬\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32",
                                      "utf-32-le", "utf-32-be"])
def test_files_read_by_their_byte_order_mark_or_their_shape(encoding):
    assert read_fountain(SCRIPT.encode(encoding)) == SCRIPT


def test_an_old_windows_file_keeps_its_accents():
    assert read_fountain("INT. CAFÉ - NUIT\n\nMAË\nÇa va.\n".encode("cp1252")) == "INT. CAFÉ - NUIT\n\nMAË\nÇa va.\n"


def test_a_utf8_file_with_one_damaged_byte_keeps_the_rest():
    data = "INT. CAFÉ - NUIT\n".encode() + b"\xff" + "Voilà.\n".encode()
    assert read_fountain(data) == "INT. CAFÉ - NUIT\n\ufffdVoilà.\n"


def test_windows_line_ends_become_newlines():
    assert read_fountain(b"INT. A - DAY\r\n\r\nRain.\r") == "INT. A - DAY\n\nRain.\n"


def test_a_png_renamed_fountain_is_refused_by_name():
    with pytest.raises(InvalidInput, match="This file is a PNG image, not a Fountain screenplay"):
        read_fountain(png_bytes())


@pytest.mark.parametrize(("data", "kind"), [
    (b"%PDF-1.7\n%\xe2\xe3\n1 0 obj", "a PDF document"),
    (b"PK\x03\x04\x14\x00\x06\x00word/document.xml", "a ZIP archive"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "a JPEG image"),
    (b"{\\rtf1\\ansi INT. HOUSE", "an RTF document"),
])
def test_other_known_files_are_refused_by_name(data, kind):
    with pytest.raises(InvalidInput, match=f"This file is {re.escape(kind)}"):
        read_fountain(data)


def test_binary_data_is_refused():
    with pytest.raises(InvalidInput, match="binary data"):
        read_fountain(b"INT. A - DAY\n\x00\x00\x00\x01")
    noise = bytes(random.Random(3).randrange(1, 32) for _ in range(4000))
    with pytest.raises(InvalidInput, match="control characters"):
        read_fountain(noise)


def test_a_stray_control_character_is_still_text():
    assert read_fountain(b"INT. A - DAY\n\nRain\x07.\n") == "INT. A - DAY\n\nRain\x07.\n"


def test_lone_surrogates_are_dropped_and_pairs_joined():
    assert read_fountain("INT. A\ud800 - DAY \ud83c\udfac\n") == "INT. A - DAY 🎬\n"


def test_a_file_past_the_size_limit_is_refused():
    with pytest.raises(InvalidInput, match=r"10\.0 MB; a Fountain import handles up to 10\.0 MB"):
        read_fountain(b"a" * (MAX_FOUNTAIN_BYTES + 1))


@pytest.mark.timeout(60)
@pytest.mark.parametrize("shape", ["cues", "one line", "scenes", "nested notes", "boneyards", "emphasis",
                                   "note paragraphs"])
def test_hostile_shapes_parse_format_and_read_back_in_time(shape):
    text = {
        "cues": "\n".join(["BOB"] * 100_000),
        "one line": "word " * 200_000,
        "scenes": "\n\n".join(f"INT. ROOM {n} - DAY #{n}#" for n in range(10_000)),
        "nested notes": "[[" * 250_000 + "x" + "]]" * 250_000,
        "boneyards": "/*" * 250_000 + "*/" * 250_000,
        "emphasis": "*a* _b_ **c** " * 70_000,
        "note paragraphs": "\n\n".join(["[[a"] * 100_000),
    }[shape]
    play = parse(text)
    assert parse(format(play)) == play
    assert isinstance(to_plain_text(play), str)
