"""Fuzzing Fountain import and PDF export on a real workbench: only typed errors, always finished, nothing left.

Hypothesis is not installed in this environment, so the inputs come from a
seeded generator (the same every run, so a failure reproduces): random bytes,
real scripts mutated byte by byte, re-encoded, truncated or given a foreign
header, and the hostile shapes that once hung the export, scaled down.
"""

from __future__ import annotations

import codecs
import io
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import open_wb, png_bytes
from workbench import Workbench
from workbench.errors import InvalidInput, WorkbenchError

SAMPLE = (Path(__file__).parent / "data" / "three_pages.fountain").read_bytes()
PIECES = ["INT. DINER - NIGHT", "EXT. ROAD - DAY #4A#", "MAE", "MAE ^", "@mae (V.O.)", "(beat)", "Rain.", "Go. Now!",
          "Mr. Dr. St. vs.", "===", "~la la", ">THE END<", "CUT TO:", "# Act", "= synopsis", "[[note", "]]", "/*", "*/",
          "*italic*", "**bold**", "_under_", "\\*", "  ", "", "\t", "\u2003", "🎬", "Ça va", "x" * 300]


@pytest.fixture(scope="module")
def wb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workbench]:
    bench = open_wb(tmp_path_factory.mktemp("fuzz-fountain"))
    yield bench
    bench.close()


def _script(rng: random.Random) -> str:
    lines = [rng.choice(PIECES) for _ in range(rng.randint(0, 80))]
    if rng.random() < 0.3:  # a long speech or a long line somewhere
        lines.insert(rng.randint(0, len(lines)), "BOB\n" + " ".join(["Go now."] * rng.randint(100, 3000)))
    return "\n".join(lines)


def _mutated(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 20)):
        if not out:
            break
        at = rng.randrange(len(out))
        move = rng.random()
        if move < 0.4:
            out[at] = rng.randrange(256)
        elif move < 0.7:
            out[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        else:
            del out[at : at + rng.randint(1, 50)]
    return bytes(out)


def _inputs(seed: int) -> Iterator[bytes | str]:
    rng = random.Random(seed)
    for _ in range(12):
        yield rng.randbytes(rng.randint(0, 3000))
    for _ in range(12):
        yield _mutated(rng, SAMPLE)
    for _ in range(12):
        text = _script(rng)
        encoding = rng.choice(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "cp1252"])
        data = text.encode(encoding, errors="replace")
        yield _mutated(rng, data) if rng.random() < 0.3 else data
    for header in (png_bytes()[:64], b"%PDF-1.4\n", b"PK\x03\x04", codecs.BOM_UTF16_LE, codecs.BOM_UTF32_BE):
        yield header + SAMPLE[: rng.randint(0, 400)]
    yield SAMPLE[: rng.randint(0, len(SAMPLE))]  # a file cut short
    yield "INT. A - DAY\ud800\n\nMAE\nHi\udfff.\n"  # lone surrogates in pasted text
    yield "".join(rng.choice(PIECES) + rng.choice(["\n", "\n\n", " "]) for _ in range(2000))


def _documents(wb: Workbench) -> int:
    return int(wb.db.scalar("SELECT count(*) FROM documents"))


def _import_and_export(wb: Workbench, me, source: bytes | str) -> None:  # noqa: ANN001 - a User
    before = _documents(wb)
    try:
        doc = wb.writing.import_fountain(me, source)
    except WorkbenchError:
        assert _documents(wb) == before, "a refused import left a document behind"
        return
    assert _documents(wb) == before + 1
    out = io.BytesIO()
    try:
        wb.writing.export_pdf(me, doc.id, out)
    except WorkbenchError:
        assert out.getvalue() == b""  # a refused export writes nothing
    else:
        assert out.getvalue().startswith(b"%PDF-")


@pytest.mark.timeout(240)
@pytest.mark.parametrize("seed", range(4))
def test_fuzzed_fountain_files_import_and_print_or_raise_typed_errors(wb: Workbench, seed: int) -> None:
    me = wb.accounts.create_user(f"fuzz{seed}@example.com")
    for source in _inputs(seed):
        _import_and_export(wb, me, source)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("shape", ["cues", "speech", "scenes", "lines", "markers", "nested notes", "utf-16 cues"])
def test_hostile_shapes_import_and_print_or_are_refused(wb: Workbench, shape: str) -> None:
    me = wb.accounts.create_user(f"shape-{shape.replace(' ', '-')}@example.com")
    source: bytes | str = {
        "cues": "\n".join(f"BOB{n}" for n in range(30_000)),
        "speech": "INT. ROOM - DAY\n\nBOB\n" + "Go now. " * 60_000,
        "scenes": "".join(f"INT. ROOM {n} - DAY\n\nShe waits.\n\n" for n in range(3_000)),
        "lines": "INT. ROOM - DAY\n\n" + "a\n" * 150_000,
        "markers": "*a* _b_ " * 60_000,
        "nested notes": "[[" * 100_000 + "x" + "]]" * 100_000,
        "utf-16 cues": "\n".join(f"BOB{n}" for n in range(20_000)).encode("utf-16-le"),
    }[shape]
    _import_and_export(wb, me, source)


def test_a_png_renamed_fountain_is_refused_and_stores_nothing(wb: Workbench, tmp_path: Path) -> None:
    me = wb.accounts.create_user("png@example.com")
    path = tmp_path / "script.fountain"
    path.write_bytes(png_bytes())
    before = _documents(wb)
    with pytest.raises(InvalidInput, match="This file is a PNG image, not a Fountain screenplay"):
        wb.writing.import_fountain(me, path)
    assert _documents(wb) == before


def test_a_utf16_fountain_imports_as_text(wb: Workbench, tmp_path: Path) -> None:
    me = wb.accounts.create_user("utf16@example.com")
    text = SAMPLE.decode()
    for encoding in ("utf-16", "utf-16-le", "utf-32"):
        path = tmp_path / f"{encoding}.fountain"
        path.write_bytes(text.encode(encoding))
        doc = wb.writing.import_fountain(me, path)
        assert doc.body == text.replace("\r\n", "\n") and "\x00" not in doc.body


def test_an_oversized_file_is_refused_before_it_is_read(wb: Workbench, tmp_path: Path) -> None:
    me = wb.accounts.create_user("big@example.com")
    path = tmp_path / "huge.fountain"
    with path.open("wb") as f:
        f.truncate(50_000_000)  # sparse: the import must refuse it from its size alone
    with pytest.raises(InvalidInput, match=r"50\.0 MB; a Fountain import handles up to 10\.0 MB"):
        wb.writing.import_fountain(me, path)
    with pytest.raises(InvalidInput, match="characters; a document holds up to 2,000,000"):
        wb.writing.import_fountain(me, "INT. A - DAY\n\n" + "word " * 500_000)
