"""The printed screenplay: positions, pagination rules and the look of a real page."""

from __future__ import annotations

import io
import random
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pypdfium2
import pytest
from pypdf import PdfReader

from workbench.errors import InvalidInput
from workbench.writing.fountain import Element, Screenplay, parse
from workbench.writing.screenplay_pdf import LINES_PER_PAGE, MAX_PDF_PAGES, render_pdf, render_pdf_bytes

SAMPLE = Path(__file__).parent / "data" / "three_pages.fountain"
ARTIFACTS = Path(__file__).parent / "artifacts"
INCH = 72.0
CHAR = 7.2
TOL = 0.5
HEADING = re.compile(r"^(INT|EXT|EST|I/E)[ .]")


@dataclass
class Printed:
    page: int
    x: float
    y: float
    text: str
    font: str

    @property
    def right(self) -> float:
        return self.x + len(self.text) * CHAR


def printed(pdf: bytes) -> list[Printed]:
    """Every string drawn on every page, with its position and font."""
    out: list[Printed] = []
    for number, page in enumerate(PdfReader(io.BytesIO(pdf)).pages):

        def visit(text, cm, tm, font, size, number=number):
            if text.strip():
                name = str(font.get("/BaseFont", "")).lstrip("/") if font else ""
                # pypdf may glue a space or newline onto a string; positions come from tm.
                out.append(Printed(number, tm[4], tm[5], text.strip(), name))

        page.extract_text(visitor_text=visit)
    return out


def find(items: list[Printed], text: str) -> Printed:
    hits = [item for item in items if item.text == text]
    assert hits, f"{text!r} is not printed"
    return hits[0]


def lines_of(items: list[Printed], page: int) -> list[list[Printed]]:
    """The page's printed lines top to bottom (pieces on one baseline form a line)."""
    rows: dict[float, list[Printed]] = {}
    for item in items:
        if item.page == page:
            rows.setdefault(round(item.y, 1), []).append(item)
    return [sorted(rows[y], key=lambda i: i.x) for y in sorted(rows, reverse=True)]


def body_lines(items: list[Printed], page: int) -> list[list[Printed]]:
    """Lines below the page-number band."""
    return [line for line in lines_of(items, page) if line[0].y < 792 - INCH + 1]


@pytest.fixture(scope="module")
def sample() -> Screenplay:
    return parse(SAMPLE.read_text())


@pytest.fixture(scope="module")
def sample_pdf(sample) -> bytes:
    return render_pdf_bytes(sample)


@pytest.fixture(scope="module")
def items(sample_pdf) -> list[Printed]:
    return printed(sample_pdf)


def test_page_count_and_paper(sample_pdf):
    reader = PdfReader(io.BytesIO(sample_pdf))
    assert 3 <= len(reader.pages) <= 5
    assert len(reader.pages) == 4  # title page and three pages of script
    for page in reader.pages:
        assert (float(page.mediabox.width), float(page.mediabox.height)) == (612, 792)
    assert reader.metadata.title == "NIGHT FERRY"


def test_title_page(items):
    title = find(items, "NIGHT FERRY")
    assert title.page == 0
    assert title.font == "Courier-Bold"
    assert (title.x + title.right) / 2 == pytest.approx(4.5 * INCH, abs=CHAR)
    assert 5 * INCH < title.y < 8 * INCH
    credit, author = find(items, "Written by"), find(items, "Workbench Test Writers")
    assert title.y > credit.y > author.y
    contact = find(items, "42 Harbour Lane")
    assert contact.page == 0 and contact.x == pytest.approx(1.5 * INCH, abs=TOL) and contact.y < 2 * INCH
    assert find(items, "2026-01-15").right == pytest.approx(7.5 * INCH, abs=TOL)


def test_page_numbers_from_the_second_page(items):
    tops = {p: [i.text for i in items if i.page == p and i.y > 792 - INCH] for p in (1, 2, 3)}
    assert tops[1] == []
    for page, label in ((2, "2."), (3, "3.")):
        assert tops[page] == [label]
        number = find([i for i in items if i.page == page], label)
        assert number.right == pytest.approx(7.5 * INCH, abs=TOL)
        assert number.y == pytest.approx(792 - 0.5 * INCH - 9, abs=2)


def test_element_columns(items):
    script = [i for i in items if i.page > 0]
    for heading in (i for i in script if HEADING.match(i.text)):
        assert heading.x == pytest.approx(1.5 * INCH, abs=TOL)
    assert find(script, "FADE IN:").x == pytest.approx(1.5 * INCH, abs=TOL)
    for name in ("DOCKHAND", "ROSA", "ROSA (CONT'D)"):
        assert find(script, name).x == pytest.approx(3.7 * INCH, abs=TOL)
    assert find(script, "Last run, Captain?").x == pytest.approx(2.5 * INCH, abs=TOL)
    assert find(script, "(not looking up)").x == pytest.approx(3.1 * INCH, abs=TOL)
    for transition in ("CUT TO:", "FADE OUT."):
        assert find(script, transition).right == pytest.approx(7.5 * INCH, abs=TOL)
    end = find(script, "THE END")
    assert (end.x + end.right) / 2 == pytest.approx(4.5 * INCH, abs=CHAR)
    # Scene numbers sit in both margins.
    numbers = [i for i in script if i.text == "1"]
    assert [n.x < 1.5 * INCH for n in numbers] == [True, False]


def test_dialogue_wraps_within_its_column(items):
    dialogue = [i for i in items if i.page > 0 and i.x == pytest.approx(2.5 * INCH, abs=TOL)]
    assert len(dialogue) > 30
    assert max(len(i.text) for i in dialogue) <= 35
    action = [i for i in items if i.page > 0 and i.x == pytest.approx(1.5 * INCH, abs=TOL)]
    assert max(len(i.text) for i in action) <= 60


def test_long_speech_breaks_at_a_sentence_with_more_and_contd(items):
    more = find(items, "(MORE)")
    assert more.x == pytest.approx(3.7 * INCH, abs=TOL)
    page = body_lines(items, more.page)
    assert page[-1][0] is more
    last_words = page[-2][0]
    assert last_words.x == pytest.approx(2.5 * INCH, abs=TOL)
    assert last_words.text.rstrip().endswith((".", "!", "?"))
    following = body_lines(items, more.page + 1)
    assert following[0][0].text == "ROSA (CONT'D)"
    assert following[1][0].x == pytest.approx(2.5 * INCH, abs=TOL)


def test_no_scene_heading_ends_a_page(items, sample_pdf):
    pages = len(PdfReader(io.BytesIO(sample_pdf)).pages)
    for page in range(1, pages):
        last = body_lines(items, page)[-1]
        assert not any(HEADING.match(piece.text) for piece in last), last


def test_every_page_stays_inside_the_margins(items):
    for page in (1, 2, 3):
        lines = body_lines(items, page)
        assert len(lines) <= LINES_PER_PAGE
        top = 792 - INCH
        for line in lines:
            assert INCH - 1 <= line[0].y <= top
            # 6 lines per inch: every baseline sits on the 12 pt grid.
            assert (top - line[0].y - 9) % 12 == pytest.approx(0, abs=0.01)
            assert all(0.5 * INCH < piece.x and piece.right <= 8 * INCH for piece in line)


def test_notes_sections_synopses_and_boneyard_do_not_print():
    play = parse(
        "# ACT ONE\n\n= The synopsis.\n\nINT. ROOM - DAY\n\nShe waits. [[secret note]]\n\n"
        "[[standalone note]]\n\n/* buried scene */\n\nEnd.\n"
    )
    text = " ".join(i.text for i in printed(render_pdf_bytes(play)))
    assert "She waits." in text and "End." in text
    for hidden in ("ACT ONE", "synopsis", "secret", "standalone", "buried"):
        assert hidden not in text


def test_emphasis_uses_courier_styles(items):
    assert find(items, "MARGARET ANNE").font == "Courier-Oblique"
    assert find(items, "thump").font == "Courier-Oblique"
    assert find(items, "Fog rolls off black water. The ferry").font == "Courier"
    play = parse("**Bold** ***both*** _under_\n")
    fonts = {i.text: i.font for i in printed(render_pdf_bytes(play))}
    assert fonts["Bold"] == "Courier-Bold"
    assert fonts["both"] == "Courier-BoldOblique"
    assert fonts["under"] == "Courier"


def test_dual_dialogue_side_by_side(items):
    june, theo = find(items, "AUNT JUNE"), [i for i in items if i.text == "THEO"][-1]
    assert june.y == theo.y and theo.x - june.x > 2.5 * INCH
    left, right = find(items, "Theodore Pike!"), find(items, "I can explain!")
    assert left.y == right.y
    assert left.x == pytest.approx(1.5 * INCH, abs=TOL) and right.x > 4.5 * INCH


def test_page_break_forces_a_new_page():
    items = printed(render_pdf_bytes(parse("One.\n\n===\n\nTwo.\n")))
    assert (find(items, "One.").page, find(items, "Two.").page) == (0, 1)


def test_a_page_holds_54_lines_of_action():
    play = Screenplay({}, [Element("action", "\n".join(f"Line {n}." for n in range(120)))])
    items = printed(render_pdf_bytes(play))
    assert [len(body_lines(items, page)) for page in range(3)] == [54, 54, 12]


def test_heading_that_would_end_a_page_moves_to_the_next():
    play = Screenplay(
        {},
        [
            Element("action", "\n".join(f"Line {n}." for n in range(51))),
            Element("scene_heading", "INT. NEXT ROOM - DAY"),
            Element("action", "Something happens."),
        ],
    )
    items = printed(render_pdf_bytes(play))
    heading = find(items, "INT. NEXT ROOM - DAY")
    assert heading.page == 1
    assert body_lines(items, 1)[0][0] is heading


def test_speech_longer_than_a_page_breaks_mid_sentence_when_it_must():
    play = parse("\nBOB\n" + "word " * 1500 + "\n")
    items = printed(render_pdf_bytes(play))
    assert sum(i.text == "(MORE)" for i in items) == sum(i.text == "BOB (CONT'D)" for i in items) >= 2


def test_typed_text_is_never_read_as_markup():
    hostile = '<b>x</b> &amp; <font color="red"> <br/> \\) ( %PDF'
    items = printed(render_pdf_bytes(parse(f"Title: {hostile}\n\n{hostile}\n")))
    assert [i.text for i in items if "<b>" in i.text] == [hostile, hostile]


def test_render_to_a_path_and_a_stream_give_the_same_bytes(tmp_path, sample, sample_pdf):
    render_pdf(sample, tmp_path / "night.pdf")
    render_pdf(sample, str(tmp_path / "night2.pdf"))
    stream = io.BytesIO()
    render_pdf(sample, stream)
    assert (tmp_path / "night.pdf").read_bytes() == (tmp_path / "night2.pdf").read_bytes()
    assert stream.getvalue() == sample_pdf


def test_empty_screenplay_prints_one_blank_page():
    reader = PdfReader(io.BytesIO(render_pdf_bytes(Screenplay())))
    assert len(reader.pages) == 1
    assert reader.pages[0].extract_text().strip() == ""


def test_garbage_screenplays_render():
    rng = random.Random(7)
    pieces = ["INT. A", "BOB", "Hi.", "(beat)", "A ^", "===", "~la", ">X<", "CUT TO:", "", "", "*a* _b_"]
    for _ in range(60):
        lines = [rng.choice(pieces) for _ in range(rng.randint(0, 60))]
        lines += ["".join(chr(rng.randint(0, 0x3FF)) for _ in range(rng.randint(0, 80)))]
        pdf = render_pdf_bytes(parse("\n".join(lines)))
        assert pdf.startswith(b"%PDF-")


def test_first_script_page_looks_like_a_screenplay(sample_pdf):
    """Saves tests/artifacts/first_script_page.png for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    document = pypdfium2.PdfDocument(sample_pdf)
    image = document[1].render(scale=1).to_pil().convert("L")
    image.save(ARTIFACTS / "first_script_page.png")
    ink = np.asarray(image) < 128
    assert ink.shape == (792, 612)
    assert not ink[: int(0.9 * INCH)].any()  # no page number on the first page
    assert not ink[-int(0.9 * INCH) :].any()  # bottom margin stays clear
    columns = np.flatnonzero(ink.any(axis=0))
    assert columns.min() >= int(0.9 * INCH)  # only scene numbers reach into the left margin
    text_columns = np.flatnonzero(ink[:, int(1.45 * INCH) : int(1.55 * INCH)].any(axis=0))
    assert text_columns.size  # headings and action start at 1.5in


# ---------------------------------------------------------------- hostile sizes
# Each of these never finished before pagination measured a speech a page at a
# time; the hang guard proves they finish, bench/export.py measures how fast.


def _words(count: int) -> list[str]:
    return [f"w{n}" for n in range(count)]


def _dialogue_printed(pdf: bytes) -> list[str]:
    """The words printed in the dialogue column, in reading order."""
    said: list[str] = []
    for item in printed(pdf):
        if item.x == pytest.approx(2.5 * INCH, abs=TOL):
            said += item.text.split()
    return said


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_a_speech_of_a_megabyte_on_one_line_breaks_over_hundreds_of_pages_and_keeps_every_word():
    words = _words(170_000)  # about 1 MB of dialogue with no line break
    pdf = render_pdf_bytes(parse("INT. ROOM - DAY\n\nBOB\n" + " ".join(words) + "\n"))
    pages = PdfReader(io.BytesIO(pdf)).pages
    assert len(pages) > 400
    assert _dialogue_printed(pdf) == words
    first, later = pages[0].extract_text(), pages[1].extract_text()
    assert "(MORE)" in first and "BOB (CONT'D)" in later


@pytest.mark.timeout(60)
def test_a_megabyte_word_breaks_at_the_column_width():
    pdf = render_pdf_bytes(parse("BOB\n" + "x" * 1_000_000 + "\n"))
    lines = [i.text for i in printed(pdf) if i.x == pytest.approx(2.5 * INCH, abs=TOL)]
    assert "".join(lines) == "x" * 1_000_000 and max(map(len, lines)) == 35


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_a_hundred_thousand_cue_lines_print_as_one_long_speech():
    # Every line after the first cue is dialogue: one speech of 99,999 lines.
    pdf = render_pdf_bytes(parse("\n".join(f"BOB{n}" for n in range(100_000)) + "\n"))
    assert 1_800 < len(PdfReader(io.BytesIO(pdf)).pages) <= MAX_PDF_PAGES
    said = _dialogue_printed(pdf)
    assert said[0] == "BOB1" and said[-1] == "BOB99999" and len(said) == 99_999


@pytest.mark.timeout(60)
def test_ten_thousand_scenes_keep_each_heading_with_its_scene():
    script = "".join(f"INT. ROOM {n} - DAY\n\nShe waits.\n\n" for n in range(10_000))
    pdf = render_pdf_bytes(parse(script))
    items = printed(pdf)
    headings = [i for i in items if HEADING.match(i.text)]
    assert len(headings) == 10_000
    # A heading is never the last line of a page.
    last_on_page = {i.page: i for i in sorted(items, key=lambda i: (i.page, -i.y))}
    assert not any(HEADING.match(i.text) for i in last_on_page.values())


def test_a_script_past_the_page_limit_is_refused_with_its_page_count():
    # Few lines (each wraps to three rows), so the count comes from laying it out.
    paragraph = " ".join(["rain"] * 26)
    play = parse("\n\n".join([paragraph] * 45_000) + "\n")
    with pytest.raises(InvalidInput, match=r"would be [\d,]+ pages; the PDF export handles up to 2,000\. Split"):
        render_pdf_bytes(play)


def test_a_script_of_a_million_lines_is_refused_before_layout():
    with pytest.raises(InvalidInput, match=r"prints 1,000,000 lines, about 18,518 pages; .* up to 2,000 pages"):
        render_pdf_bytes(parse("INT. ROOM - DAY\n\n" + "a\n" * 999_999))


def test_a_script_full_of_emphasis_markers_is_refused_with_a_hint():
    with pytest.raises(InvalidInput, match=r"250,000 \* and _ emphasis markers.*Look for stray"):
        render_pdf_bytes(parse("*a* _b_ " * 62_500))
    assert render_pdf_bytes(parse("[[" + "*" * 250_000 + "]]\n")).startswith(b"%PDF-")  # notes never print


def test_a_refused_export_writes_nothing(tmp_path: Path):
    out = tmp_path / "script.pdf"
    with pytest.raises(InvalidInput):
        render_pdf(parse("a\n" * 200_000), out)
    assert not out.exists()
