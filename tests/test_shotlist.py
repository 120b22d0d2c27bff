"""Shot-list files (issue #22 part 4) on their own: CSV a spreadsheet opens safely, a PDF table over pages.

The storyboard-to-shot-list path is tested in tests/test_storyboards.py; these
cases feed the writers directly so long lists and odd text are cheap to try.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from pypdf import PdfReader

from tests.helpers import png_bytes
from workbench.shotlist import CSV_COLUMNS, Shot, write_csv, write_pdf


def _shots(n: int) -> list[Shot]:
    return [Shot(str(i // 3 + 1), f"INT. ROOM {i // 3 + 1} - DAY", f"{i // 3 + 1}.{i % 3 + 1}",
                 f"Beat number {i}: a long description " + "of rain on glass " * 8, f"img_{i % 4}" if i % 5 else None,
                 37 + i, 10 + i, 12 + i, "cut" if i == n - 1 else "live") for i in range(n)]


def test_csv_has_every_shot_and_no_cell_runs_as_a_formula(tmp_path: Path) -> None:
    shots = _shots(7)
    shots[2] = Shot("1", "INT. ROOM", "1.3", "=HYPERLINK(\"http://evil\")", None, 5, 1, 2, "live")
    out = tmp_path / "shots.csv"
    write_csv(shots, out)
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert tuple(rows[0]) == CSV_COLUMNS and [r["shot"] for r in rows] == [s.shot for s in shots]
    assert rows[2]["description"].startswith("'=")
    assert rows[0]["lines"] == "10-12" and rows[-1]["status"] == "cut"
    assert rows[1]["thumbnail"] == "/media/thumb/img_1" and rows[0]["thumbnail"] == ""


def test_pdf_table_spans_pages_and_prints_every_shot_even_with_hostile_text() -> None:
    shots = _shots(40)
    shots[0] = Shot("1", "<font size=90>INT. ROOM</font>", "1.1", "<b>bold?</b> \x00 nul", "img_1", 61, 1, 2,
                    "live")
    pictures = {f"img_{i}": png_bytes((40 * i, 90, 120), size=(160, 90), seed=i) for i in range(1, 4)}
    out = io.BytesIO()
    write_pdf(shots, "Night Ferry", lambda image_id: pictures.get(image_id), out)  # img_0 has no picture
    pdf = PdfReader(io.BytesIO(out.getvalue()))
    assert len(pdf.pages) > 1
    text = "".join(page.extract_text() for page in pdf.pages)
    for shot in shots:
        assert shot.shot in text
    assert "<font size=90>INT." in text and "1:01" in text and "40 shots" in text
    assert sum(len(page.images) for page in pdf.pages) >= 3
