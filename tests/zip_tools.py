"""Building and doctoring ZIP archives byte by byte for the board-import tests, and reading
every store of a workbench so a test can prove a refused import left nothing behind."""

from __future__ import annotations

import io
import json
import struct
import warnings
import zipfile
from typing import Any

from workbench import Workbench

LOCAL, CENTRAL = b"PK\x03\x04", b"PK\x01\x02"
# Offsets inside the local header and the central directory entry (APPNOTE 4.3.7 / 4.3.12).
_LOCAL_AT = {"flag": 6, "method": 8, "compress_size": 18, "file_size": 22}
_CENTRAL_AT = {"flag": 8, "method": 10, "compress_size": 20, "file_size": 24, "external_attr": 38}
_WIDTH = {"flag": "<H", "method": "<H", "compress_size": "<L", "file_size": "<L", "external_attr": "<L"}


def build_zip(entries: list[tuple[str | zipfile.ZipInfo, bytes]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """An archive of ``(name or ZipInfo, bytes)`` in order; a name may repeat (zipfile only warns)."""
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name": wanted here
        with zipfile.ZipFile(out, "w", compression=compression) as archive:
            for name, data in entries:
                info = name if isinstance(name, zipfile.ZipInfo) else zipfile.ZipInfo(name)
                if not isinstance(name, zipfile.ZipInfo):
                    info.compress_type = compression
                archive.writestr(info, data)
    return out.getvalue()


def headers(data: bytes) -> list[tuple[str, int, int]]:
    """``(name, local header offset, central entry offset)`` of every entry, read from the bytes."""
    end = data.rindex(b"PK\x05\x06")
    count, _size, start = struct.unpack("<HLL", data[end + 10:end + 20])
    found, at = [], start
    for _ in range(count):
        assert data[at:at + 4] == CENTRAL
        name_len, extra_len, comment_len = struct.unpack("<HHH", data[at + 28:at + 34])
        local = struct.unpack("<L", data[at + 42:at + 46])[0]
        found.append((data[at + 46:at + 46 + name_len].decode("utf-8", "replace"), local, at))
        at += 46 + name_len + extra_len + comment_len
    return found


def patch(data: bytes, name: str, **fields: int) -> bytes:
    """Overwrite header fields of entry ``name`` in both its local header and its central entry.

    ``flag_or`` ORs bits into the general-purpose flags; ``flag``, ``method``,
    ``compress_size``, ``file_size`` and ``external_attr`` (central only) are set.
    """
    out = bytearray(data)
    for entry, local, central in headers(data):
        if entry != name:
            continue
        for key, value in fields.items():
            field = "flag" if key == "flag_or" else key
            for base, offsets in ((local, _LOCAL_AT), (central, _CENTRAL_AT)):
                if field not in offsets:
                    continue
                at, fmt = base + offsets[field], _WIDTH[field]
                old = struct.unpack_from(fmt, out, at)[0]
                struct.pack_into(fmt, out, at, old | value if key == "flag_or" else value)
    return bytes(out)


def rename(data: bytes, old: bytes, new: bytes) -> bytes:
    """Replace a name by another of the same length wherever the headers spell it (e.g. to put a NUL in)."""
    assert len(old) == len(new)
    return data.replace(old, new)


def manifest_of(data: bytes) -> dict[str, Any]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        value: dict[str, Any] = json.loads(archive.read("board.json"))
        return value


def with_manifest(data: bytes, board_json: bytes | str | dict[str, Any]) -> bytes:
    """The same archive (same entries, same order) with another ``board.json``."""
    if isinstance(board_json, dict):
        board_json = json.dumps(board_json)
    if isinstance(board_json, str):
        board_json = board_json.encode("utf-8", "surrogatepass")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        entries = [(info.filename, board_json if info.filename == "board.json" else archive.read(info))
                   for info in archive.infolist()]
    return build_zip(entries)


def store_contents(wb: Workbench) -> dict[str, Any]:
    """Everything a board import could add: rows of every table it touches, blob files, vectors."""

    def rows(sql: str) -> list[tuple[Any, ...]]:
        return sorted(tuple(str(v) for v in row.values()) for row in wb.db.query(sql))

    table = wb.pipeline.table
    return {
        "boards": rows("SELECT id, title, revision FROM boards"),
        "items": rows("SELECT id, board_id FROM board_items"),
        "events": rows("SELECT id FROM board_events"),
        "images": rows("SELECT id, status FROM images"),
        "tags": rows("SELECT image_id, tag FROM image_tags"),
        "outbox": rows("SELECT id, status FROM outbox"),
        "blobs": sorted(wb.blobs.keys()),
        "vectors": sorted(wb.vectors.ids(table)) if table in wb.vectors.table_names() else [],
    }
