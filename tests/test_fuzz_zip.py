"""Fuzzing the board ZIP importer (issue 15): hostile archives only ever get a typed refusal.

Hypothesis is not installed in the project's environment, so the cases come from a
seeded generator (``random.Random``): every run tries the same cases, and a failure
names the family and case number that reproduce it. Raise ``CASES`` locally to
search wider.

Every case starts from a real export of a real board (every item kind, tagged and
captioned images, a picture lost from storage) and goes through the real
:meth:`~workbench.boards.Boards.import_zip` of a real workbench. Each asserts:

- only a :class:`~workbench.errors.WorkbenchError` escapes (anything else fails the
  test with the case that raised it);
- the call finishes (``pytest.mark.timeout`` is the hang guard);
- memory stays bounded on bombs and giant JSON (tracemalloc peak under a generous cap);
- a refused import leaves every store exactly as it was: boards, items, events,
  image rows and tags, outbox jobs, blob files and vectors.

The importer is a fresh person with an empty library, so a case that gets as far as
adding pictures also proves that a late failure takes them back; after an import
that succeeds, the next case gets another fresh person.
"""

from __future__ import annotations

import io
import json
import random
import stat
import struct
import tracemalloc
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import open_wb, png_bytes
from tests.zip_tools import build_zip, headers, manifest_of, patch, rename, store_contents, with_manifest
from workbench import User
from workbench.errors import WorkbenchError

SEED = 20150
CASES = 40                    # per random family
MEMORY_CAP = 300 * 1024**2    # generous: the importer reads at most one 64 MB entry at a time


class Bench:
    """A workbench, a real export of a full board, and a supply of fresh importers."""

    def __init__(self, home: Path) -> None:
        self.wb = open_wb(home)
        self.people = 0
        ana = self.wb.accounts.create_user("ana@example.com")
        lib, boards = self.wb.library, self.wb.boards
        red = lib.ingest(ana, png_bytes((220, 20, 20), seed=1), filename="red.png", tags=["noir", "rain"],
                         caption="the red room", wait=True)
        blue = lib.ingest(ana, png_bytes((20, 20, 220), size=(40, 60), seed=2), filename="blue.png", wait=True)
        lost = lib.ingest(ana, png_bytes((9, 9, 9), seed=3), filename="lost.png", wait=True)
        board = boards.create(ana, "Night shoot", "Neon and rain")
        boards.add_heading(ana, board.id, "Act one", x=0, y=0)
        boards.add_image(ana, board.id, red.id, x=0, y=80, w=480, h=360, caption="wide")
        boards.add_image(ana, board.id, blue.id, x=520, y=80)
        boards.add_image(ana, board.id, lost.id, x=900, y=80)
        boards.add_note(ana, board.id, "Shoot at dusk.\nBring haze.", x=520, y=360, color="#ffee88")
        boards.add_link(ana, board.id, "https://example.com/lookbook", title="Lookbook", x=800, y=80)
        script = self.wb.writing.create(ana, "screenplay", "Diner", "INT. DINER - NIGHT\n\nRain on glass.")
        boards.add_script_excerpt(ana, board.id, script.id, 20, 34, x=800, y=200)
        self.wb.blobs.delete(lost.blob_key)  # exported as "missing": true
        out = io.BytesIO()
        boards.export_zip(ana, board.id, out)
        self.export = out.getvalue()
        self.importer = self.person()

    def person(self) -> User:
        self.people += 1
        return self.wb.accounts.create_user(f"importer{self.people}@example.com")

    def attempt(self, label: str, data: bytes) -> WorkbenchError | None:
        """Import ``data``; a refusal must be typed and leave nothing behind. Returns the refusal."""
        self.wb.pipeline.run_jobs()
        before = store_contents(self.wb)
        try:
            self.wb.boards.import_zip(self.importer, data)
        except WorkbenchError as error:
            self.wb.pipeline.run_jobs()  # a job left queued by the failed import would write a vector now
            after = store_contents(self.wb)
            changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
            assert not changed, f"{label}: refused ({error}) but left behind {changed}"
            return error
        except Exception as error:  # anything else escaped: the bug this file hunts
            raise AssertionError(f"{label}: {type(error).__name__} escaped the import: {error}") from error
        self.importer = self.person()  # their library now holds the pictures: start afresh
        return None


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    made = Bench(tmp_path_factory.mktemp("fuzz-zip"))
    yield made
    made.wb.close()


def _rng(family: str) -> random.Random:
    return random.Random(f"{SEED}-{family}")


@pytest.mark.timeout(120)
def test_the_export_itself_imports(bench: Bench) -> None:
    assert bench.attempt("export", bench.export) is None
    assert {i["kind"] for i in manifest_of(bench.export)["items"]} == {"heading", "image", "note", "link", "script"}


@pytest.mark.timeout(300)
def test_bit_flips(bench: Bench) -> None:
    rng = _rng("flips")
    for case in range(3 * CASES):
        data = bytearray(bench.export)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] ^= rng.randint(1, 255)
        bench.attempt(f"flips #{case}", bytes(data))


@pytest.mark.timeout(300)
def test_truncation_and_garbage(bench: Bench) -> None:
    rng = _rng("cuts")
    data = bench.export
    cuts = [0, 1, 4, 22, len(data) - 22, len(data) - 1, data.rindex(b"PK\x01\x02") + 10]
    cuts += [rng.randrange(len(data)) for _ in range(CASES)]
    for cut in cuts:
        bench.attempt(f"cut at {cut}", data[:cut])
    for case in range(CASES // 4):
        start = rng.randrange(len(data))
        junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 200)))
        bench.attempt(f"garbage #{case}", data[:start] + junk + data[start + len(junk):])


@pytest.mark.timeout(300)
def test_doctored_headers(bench: Bench) -> None:
    rng = _rng("headers")
    names = [name for name, _, _ in headers(bench.export)]
    choices: dict[str, list[int]] = {
        "flag_or": [0x1, 0x8, 0x20, 0x40, 0x800, 0x1 | 0x40],
        "method": [1, 2, 6, 9, 12, 14, 19, 97, 98, 99, 0xFFFF],
        "file_size": [0, 1, 1000, 2**20, 2**26 + 1, 0xFFFFFFFF],
        "compress_size": [0, 1, 1000, 2**31, 0xFFFFFFFF],
        "external_attr": [0o120777 << 16, 0o020666 << 16, 0o060666 << 16, 0o010666 << 16, 0o140777 << 16, 0x10],
    }
    for case in range(2 * CASES):
        field = rng.choice(sorted(choices))
        name, value = rng.choice(names), rng.choice(choices[field])
        refusal = bench.attempt(f"header #{case} {name} {field}={value:#x}", patch(bench.export, name, **{field: value}))
        if field == "flag_or" and value & 0x1:
            assert refusal is not None and "password-protected" in str(refusal)
        if field == "external_attr" and stat.S_IFMT(value >> 16) not in (0, stat.S_IFREG, stat.S_IFDIR):
            assert refusal is not None and "symbolic link or a special file" in str(refusal)
    for name in names:  # the encrypted flag set in one header only: central, then local
        for at in ("central", "local"):
            data = bytearray(bench.export)
            entry = next(e for e in headers(bench.export) if e[0] == name)
            offset = entry[2] + 8 if at == "central" else entry[1] + 6
            struct.pack_into("<H", data, offset, struct.unpack_from("<H", data, offset)[0] | 0x1)
            assert bench.attempt(f"encrypted {at} {name}", bytes(data)) is not None


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a JSON value: object keys and list positions, containers included."""
    if path:
        yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*path, key))
    elif isinstance(value, list):
        for n, child in enumerate(value):
            yield from _paths(child, (*path, n))


def _shown(path: tuple[Any, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _set(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    copy = json.loads(json.dumps(document))
    target = copy
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return copy


@pytest.mark.timeout(300)
def test_a_wrong_type_at_every_field_is_refused_by_name(bench: Bench) -> None:
    manifest = manifest_of(bench.export)
    paths = list(_paths(manifest))
    assert len(paths) > 100
    # Wrong for every field of the format: no field takes an object with an unknown key,
    # nor a list holding a list.
    for wrong in ({"?": 1}, [[True]]):
        for path in paths:
            refusal = bench.attempt(f"{_shown(path)} = {wrong}", with_manifest(bench.export, _set(manifest, path, wrong)))
            assert refusal is not None and f"board.json: {_shown(path)}" in str(refusal), (path, refusal)


_RAW = {  # values json.dumps cannot write, spliced into the text
    "@@NAN@@": "NaN", "@@INF@@": "-Infinity", "@@BIGINT@@": "9" * 5000, "@@BIGFLOAT@@": "1e999",
    "@@DEEP@@": "[" * 100_000 + "]" * 100_000, "@@DEEPOBJ@@": '{"a":' * 5000 + "1" + "}" * 5000,
    "@@SURROGATE@@": '"\\udc80 lone"', "@@UNCLOSED@@": '"' + "\\\"" * 1000,
}
_VALUES: list[Any] = [
    None, True, False, 0, -1, 0.5, 2**63, -(2**70), 1e308, "", "x" * 100_000, "../../etc/passwd",
    "images/../board.json", "/etc/shadow", "images/", "thumbnails/x\\y.webp", "javascript:alert(1)", "#zzzzzz",
    [], {}, [None], {"file": "images/001-red.png"}, [[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]], *_RAW,
]


@pytest.mark.timeout(300)
def test_random_values_at_random_fields(bench: Bench) -> None:
    rng = _rng("values")
    manifest = manifest_of(bench.export)
    paths = list(_paths(manifest))
    for case in range(4 * CASES):
        path, value = rng.choice(paths), rng.choice(_VALUES)
        text = json.dumps(_set(manifest, path, value))
        if isinstance(value, str) and value in _RAW:
            text = text.replace(f'"{value}"', _RAW[value])
        bench.attempt(f"values #{case} {_shown(path)} = {str(value)[:40]}", with_manifest(bench.export, text))
    for case in range(CASES):  # keys removed and keys added
        path = rng.choice(paths)
        copy = _set(manifest, path, None)
        parent = copy
        for part in path[:-1]:
            parent = parent[part]
        if isinstance(parent, dict):
            del parent[path[-1]]
            if rng.random() < 0.5:
                parent["unexpected"] = 1
        bench.attempt(f"keys #{case} {_shown(path)}", with_manifest(bench.export, copy))


def _with_zeros(manifest: dict[str, Any], name: str, size: int, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """An archive of ``board.json`` and one entry of ``size`` zeros, packed by ``method``."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("board.json", json.dumps(manifest))
        info = zipfile.ZipInfo(name)
        info.compress_type = method
        chunk = bytes(16 * 1024**2)
        with archive.open(info, "w") as target:
            for _ in range(size // len(chunk)):
                target.write(chunk)
    return out.getvalue()


def _overlapping(archive: bytes, name: str, copies: int) -> bytes:
    """The archive with its entry ``name`` listed ``copies`` times more, every listing on the same bytes."""
    found = headers(archive)
    first, mine = found[0][2], next(e for e in found if e[0] == name)[2]
    end = archive.rindex(b"PK\x05\x06")
    assert mine == max(e[2] for e in found), "the entry must be listed last"
    entry = archive[mine:end]
    digits = len(name) - len("images/") - len(".png")
    listed = [entry.replace(name.encode(), f"images/{n:0{digits}d}.png".encode()) for n in range(copies)]
    directory = archive[first:end] + b"".join(listed)
    record = bytearray(archive[end:])
    struct.pack_into("<HHL", record, 8, len(found) + copies, len(found) + copies, len(directory))
    return archive[:first] + directory + bytes(record)


def _bombs(export: bytes) -> Iterator[tuple[str, bytes]]:
    manifest = manifest_of(export)
    victim = next(i["image"]["file"] for i in manifest["items"] if i["image"])
    only = {**manifest, "items": [i for i in manifest["items"] if not i["image"] or i["image"]["file"] == victim]}
    only["items"] = [{**i, "image": {k: v for k, v in i["image"].items() if k != "thumbnail"}} if i["image"] else i
                     for i in only["items"]]
    bomb = _with_zeros(only, victim, 256 * 1024**2)  # about 250 KB
    yield "deflate bomb, honest header", bomb
    yield "deflate bomb of 48 MB, honest header", _with_zeros(only, victim, 48 * 1024**2)
    for size in (1024, 60 * 1024**2, 0xFFFFFFFF):
        yield f"deflate bomb, header says {size}", patch(bomb, victim, file_size=size)
    yield "deflate bomb, header says it is stored", patch(bomb, victim, method=0)
    for method in (zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
        yield f"method {method} bomb, header says 1000", patch(_with_zeros(only, victim, 64 * 1024**2, method),
                                                               victim, file_size=1000)
    spaces = build_zip([("board.json", b" " * (200 * 1024**2))])
    yield "board.json of 200 MB", spaces
    yield "board.json of 200 MB claiming 1 KB", patch(spaces, "board.json", file_size=1024)
    yield "board.json of 200 MB claiming 30 MB", patch(spaces, "board.json", file_size=30 * 1024**2)
    small = build_zip([("board.json", json.dumps(only).encode()), (victim, png_bytes(seed=5))], zipfile.ZIP_STORED)
    yield "overlapping entries", _overlapping(small, victim, 3000)
    many = [("board.json", json.dumps(only).encode())] + [(f"images/{n}.png", b"") for n in range(100_000)]
    yield "100,000 entries", build_zip(many, zipfile.ZIP_STORED)


def _refused_within_memory(bench: Bench, label: str, data: bytes) -> None:
    """The archive is refused, and refusing it never held more than MEMORY_CAP at once."""
    tracemalloc.start()
    try:
        refusal = bench.attempt(label, data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert refusal is not None, label
    assert peak < MEMORY_CAP, f"{label}: {peak / 1024**2:.0f} MB at once"


@pytest.mark.timeout(300)
def test_bombs_stay_bounded(bench: Bench) -> None:
    for label, data in _bombs(bench.export):
        _refused_within_memory(bench, label, data)


@pytest.mark.timeout(300)
def test_giant_and_deep_board_json_stays_bounded(bench: Bench) -> None:
    manifest = manifest_of(bench.export)
    note = next(i for i in manifest["items"] if i["kind"] == "note")
    cases = {
        "100,000 nested arrays": "[" * 100_000 + "]" * 100_000,
        "100,000 nested objects": '{"a":' * 100_000 + "1" + "}" * 100_000,
        "16 MB of escaped quotes": '{"a": "' + '\\"' * (8 * 1024**2) + '"}',
        "an unclosed string of escapes": '{"a": "' + "\\\\\\\"" * (4 * 1024**2),
        "5 million empty lists": "[" + "[]," * 5_000_000 + "[]]",
        "3,000 items": json.dumps({**manifest, "items": [note] * 3000}),
        "notes of 30 MB": json.dumps({**manifest, "items": [{**note, "text": "a" * 30_000}] * 1000}),
    }
    for label, text in cases.items():
        _refused_within_memory(bench, label, with_manifest(bench.export, text))


_NASTY = ["evil/../../x", "../board.json", "/etc/passwd", "C:\\Windows\\x.png", "images\\x.png", "images/a\0b.png",
          "images/\x1b[2J.png", "images/\u202egnp.exe", "images/./x.png", "images//x.png", ".", "..", "images/..",
          "board.json/", "notes.md\u200b", "a" * 1000, "images/" + "b" * 300, "__MACOSX/._board.json", "images/x.png "]


def _weird_name(rng: random.Random) -> str:
    alphabet = ["a", "Z", "0", "/", ".", "..", "\\", ":", " ", "\t", "\x7f", "\u202e", "\u00e9", "e\u0301", "\u4e2d",
                "images/", "thumbnails/", "\ufeff"]
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))


@pytest.mark.timeout(300)
def test_weird_names_symlinks_and_strays(bench: Bench) -> None:
    rng = _rng("names")
    manifest = manifest_of(bench.export)
    with zipfile.ZipFile(io.BytesIO(bench.export)) as archive:
        entries = [(info.filename, archive.read(info)) for info in archive.infolist()]
    victim = next(i["image"]["file"] for i in manifest["items"] if i["image"])
    names = _NASTY + [_weird_name(rng) for _ in range(CASES)]
    for name in names:
        safe = name.replace("\0", "_")  # zipfile would cut a NUL off: put it in the bytes afterwards
        stray = build_zip([*entries, (safe, b"stray")])
        if "\0" in name:
            stray = rename(stray, safe.encode(), name.encode())
        assert bench.attempt(f"stray {name!r}", stray) is not None, name
        # The same name, referenced by board.json as the picture's file.
        referenced = json.loads(json.dumps(manifest).replace(json.dumps(victim)[1:-1], json.dumps(safe)[1:-1]))
        moved = [(safe if n == victim else n, json.dumps(referenced).encode() if n == "board.json" else data)
                 for n, data in entries]
        data = build_zip(moved)
        if "\0" in name:
            data = rename(data, safe.encode(), name.encode())
        bench.attempt(f"referenced {name!r}", data)
    for mode in (0o120777, 0o020666, 0o060666, 0o010666, 0o140777):  # link, devices, pipe, socket
        for name in (victim, "images/link.png"):
            info = zipfile.ZipInfo(name)
            info.create_system, info.external_attr = 3, mode << 16
            rest = [(n, d) for n, d in entries if n != name]
            assert bench.attempt(f"mode {mode:o} {name}", build_zip([*rest, (info, b"../../../etc/passwd")])) \
                is not None
    assert bench.attempt("a duplicate board.json", build_zip([*entries, ("board.json", b"{}")])) is not None
    assert bench.attempt("a duplicate picture", build_zip([*entries, (victim, png_bytes(seed=9))])) is not None


@pytest.mark.timeout(300)
def test_damaged_pictures_inside_a_sound_archive(bench: Bench) -> None:
    """The archive is sound (CRCs match) but the last picture is not: the pictures added before
    it must be taken back out of the library."""
    rng = _rng("pictures")
    manifest = manifest_of(bench.export)
    last = [i["image"]["file"] for i in manifest["items"] if i["image"]][-1]
    with zipfile.ZipFile(io.BytesIO(bench.export)) as archive:
        entries = [(info.filename, archive.read(info)) for info in archive.infolist()]
    picture = dict(entries)[last]
    refused = 0
    for case in range(CASES):
        damaged = bytearray(picture)
        if rng.random() < 0.5:
            del damaged[rng.randrange(8, len(damaged)):]
        for _ in range(rng.randint(1, 6)):
            damaged[rng.randrange(len(damaged))] ^= rng.randint(1, 255)
        data = build_zip([(n, bytes(damaged) if n == last else d) for n, d in entries])
        refused += bench.attempt(f"picture #{case}", data) is not None
    assert refused > CASES // 4  # most damage is caught, and each refusal was checked for leftovers
