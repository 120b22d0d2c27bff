"""The ZIP side of a board import: what a board archive may hold, read without trusting it.

A board archive holds what :meth:`~workbench.boards.Boards.export_zip` writes and
nothing else. Anything outside this policy is refused with
:class:`~workbench.errors.InvalidInput` before a byte of it is stored:

- at most :data:`MAX_ENTRIES` entries, and a central directory (the ZIP's table
  of contents) under :data:`MAX_DIRECTORY_BYTES`, checked while zipfile reads it;
- entries stored or deflated, nothing else. bzip2 and LZMA are refused because
  zipfile inflates a whole read chunk of them at once: 905 bytes of bzip2 became
  2.2 GB in memory however small the chunks asked for (measured, Python 3.11).
  Deflate64 and the rarer methods zipfile cannot read at all;
- no encrypted, "patched" or strong-encrypted entries (in the directory or in the
  entry's own header, which must agree), no symbolic links, device files or
  pipes, no name twice;
- every name safe to unpack anywhere: relative, ``/``-separated, no ``.`` or
  ``..`` parts, no empty parts, no drive letter, no backslash, no control
  character (NUL included), at most :data:`MAX_NAME` characters;
- sizes: :data:`MAX_ENTRY_BYTES` per entry, :data:`MAX_UNPACKED_BYTES` in all,
  at most :data:`MAX_RATIO` times what an entry weighs packed (a zip bomb), and
  entries that together weigh more than the archive (entries sharing bytes, the
  "overlapping" bomb). Header sizes are only a first filter: every entry is read
  through :func:`read_entry`, which counts what really comes out;
- every entry is ``board.json``, ``notes.md``, the ``images/`` or ``thumbnails/``
  folder, or a file that ``board.json`` names; every file it names is present.
"""

from __future__ import annotations

import io
import stat
import struct
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, BinaryIO

from workbench.boards.model import MAX_ITEMS
from workbench.errors import InvalidInput

__all__ = [
    "MAX_ARCHIVE_BYTES", "MAX_UNPACKED_BYTES", "MAX_ENTRY_BYTES", "MAX_ENTRIES", "MAX_RATIO",
    "MAX_DIRECTORY_BYTES", "MAX_NAME", "OWN_FILES", "check_name", "check_entries", "check_local_headers",
    "check_references",
    "open_zip", "read_entry", "shown", "spool", "verify_entries",
]

MAX_ARCHIVE_BYTES = 2 * 1024**3        # what an upload of a board may weigh
MAX_UNPACKED_BYTES = 4 * 1024**3       # everything inside it, unpacked
MAX_ENTRY_BYTES = 64 * 1024**2         # one file inside (the library has its own, lower, image limit)
MAX_TEXT_BYTES = 32 * 1024**2          # board.json, notes.md and comments.json
MAX_RATIO = 100                        # unpacked/packed: pictures barely compress, text does ~10x
MAX_ENTRIES = 2 * MAX_ITEMS + 16       # two files per image of a full board, and a few more
MAX_DIRECTORY_BYTES = MAX_ENTRIES * 1024
MAX_NAME = 255
OWN_FILES = ("board.json", "notes.md", "comments.json")
FOLDERS = ("images/", "thumbnails/")
CHUNK = 1024 * 1024
_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}
_METHOD_NAMES = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "LZMA", 9: "deflate64", 6: "implode"}
_ENCRYPTED, _PATCHED, _STRONG = 0x1, 0x20, 0x40
# Everything zipfile (and the decompressors under it) raises on a damaged or
# hostile archive; MemoryError is deliberately absent: the checks prevent it.
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, struct.error,
               NotImplementedError, RuntimeError, OverflowError, IndexError, KeyError, zlib.error)


def shown(name: str) -> str:
    """A name as it can be printed in a message: control characters as ``?``, at most 80 characters."""
    clean = "".join("?" if unicodedata.category(c)[0] == "C" else c for c in name)
    return clean if len(clean) <= 80 else clean[:77] + "..."


def check_name(name: str, what: str = "The archive contains") -> None:
    """Refuse a name that could land outside the folder it is unpacked into, or hide what it is."""
    parts = name.split("/")
    inner = parts[:-1] if name.endswith("/") else parts  # a folder entry ends with one "/"
    unsafe = (
        not name or len(name) > MAX_NAME or name.startswith("/") or "\\" in name
        or any(part in ("", ".", "..") for part in inner)
        or (len(parts[0]) >= 2 and parts[0][1] == ":")
        or any(unicodedata.category(c)[0] == "C" for c in name)
    )
    if unsafe:
        raise InvalidInput(f"{what} an unsafe file name ({shown(name)!r}); it was not imported.")


def spool(source: BinaryIO | bytes | str | Path) -> tuple[IO[bytes], bool, int]:
    """A seekable handle on the archive (zipfile needs one), whether we opened it, and its size."""
    if isinstance(source, (bytes, bytearray)):
        if len(source) > MAX_ARCHIVE_BYTES:
            raise InvalidInput("The archive is larger than 2 GB.")
        return io.BytesIO(source), True, len(source)
    if isinstance(source, (str, Path)):
        path = Path(source).expanduser()
        if not path.is_file():
            raise InvalidInput(f"{path} is not a file.")
        size = path.stat().st_size
        if size > MAX_ARCHIVE_BYTES:
            raise InvalidInput(f"{path.name} is larger than 2 GB.")
        return path.open("rb"), True, size
    if hasattr(source, "seekable") and source.seekable():
        start = source.tell()
        size = source.seek(0, io.SEEK_END) - start
        source.seek(start)
        if size > MAX_ARCHIVE_BYTES:
            raise InvalidInput("The archive is larger than 2 GB.")
        return source, False, size
    spooled = tempfile.SpooledTemporaryFile(max_size=64 * 1024**2)  # an upload stream: keep big ones on disk
    copied = 0
    while chunk := source.read(CHUNK):
        copied += len(chunk)
        if copied > MAX_ARCHIVE_BYTES:
            spooled.close()
            raise InvalidInput("The archive is larger than 2 GB.")
        spooled.write(chunk)
    spooled.seek(0)
    return spooled, True, copied


class _DirectoryTooLarge(Exception):
    pass


class _ReadGuard(io.RawIOBase):
    """The archive handle, refusing any single read larger than the central directory may be.

    While zipfile opens an archive, its only large read is the central directory,
    which it then parses into one object per entry: a directory of millions of
    entries would cost gigabytes before we could count them.
    """

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__()
        self._raw = raw

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            position = self._raw.tell()
            size = self._raw.seek(0, io.SEEK_END) - position
            self._raw.seek(position)
        if size > MAX_DIRECTORY_BYTES:
            raise _DirectoryTooLarge
        return self._raw.read(size)


def open_zip(handle: IO[bytes]) -> zipfile.ZipFile:
    """Read the archive's table of contents (bounded); a damaged or foreign file is refused."""
    try:
        # The guard stays in place: entries are then read in chunks of 1 MB, far below its limit.
        archive = zipfile.ZipFile(_ReadGuard(handle))
    except _DirectoryTooLarge:
        raise InvalidInput(f"The archive lists far more files than a board export (at most {MAX_ENTRIES:,}); "
                           "it was not imported.") from None
    except _ZIP_ERRORS:
        raise InvalidInput("That file is not a ZIP archive, or it is damaged; export the board again.") from None
    return archive


def _check_entry(entry: zipfile.ZipInfo) -> None:
    check_name(entry.orig_filename)  # zipfile cuts .filename at a NUL; the raw name keeps it
    name = shown(entry.filename)
    if entry.flag_bits & _ENCRYPTED:
        raise InvalidInput(f"{name} in the archive is password-protected; board imports cannot open encrypted ZIPs.")
    if entry.flag_bits & (_PATCHED | _STRONG):
        raise InvalidInput(f"{name} in the archive uses a ZIP feature board imports do not read; "
                           "export the board again.")
    if entry.compress_type not in _METHODS:
        method = _METHOD_NAMES.get(entry.compress_type, f"method {entry.compress_type}")
        raise InvalidInput(f"{name} in the archive is compressed with {method}; board imports read only "
                           "ordinary (deflate) ZIPs, like the ones the workbench exports.")
    kind = stat.S_IFMT(entry.external_attr >> 16)
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise InvalidInput(f"{name} in the archive is a symbolic link or a special file; it was not imported.")
    if entry.is_dir() and (entry.filename not in FOLDERS or entry.file_size):
        raise InvalidInput(f"The archive holds the folder {name!r}, which a board export does not have.")
    if entry.file_size > MAX_ENTRY_BYTES:
        raise InvalidInput(f"{name} in the archive is too large to import "
                           f"({entry.file_size / 1024**2:,.0f} MB; the limit is {MAX_ENTRY_BYTES // 1024**2} MB).")
    if entry.filename not in OWN_FILES and entry.file_size > CHUNK \
            and entry.file_size > MAX_RATIO * max(entry.compress_size, 1):
        raise InvalidInput(f"{name} unpacks to far more than it weighs (a zip bomb?); not imported.")
    if entry.filename in OWN_FILES and entry.file_size > MAX_TEXT_BYTES:
        raise InvalidInput(f"{name} in the archive is too large (over {MAX_TEXT_BYTES // 1024**2} MB).")


def check_entries(archive: zipfile.ZipFile, archive_bytes: int) -> dict[str, zipfile.ZipInfo]:
    """Every entry by name, after the checks of the module's policy that need no unpacking."""
    entries = archive.infolist()
    if len(entries) > MAX_ENTRIES:
        raise InvalidInput(f"The archive holds {len(entries):,} files; a board export has at most {MAX_ENTRIES:,}.")
    by_name: dict[str, zipfile.ZipInfo] = {}
    seen: set[str] = set()
    unpacked = packed = 0
    for entry in entries:
        _check_entry(entry)
        folded = unicodedata.normalize("NFC", entry.filename)  # two spellings of one name unpack onto one file
        if folded in seen:
            raise InvalidInput(f"The archive holds {shown(entry.filename)!r} twice; it was not imported.")
        seen.add(folded)
        by_name[entry.filename] = entry
        unpacked += entry.file_size
        packed += entry.compress_size
    if unpacked > MAX_UNPACKED_BYTES:
        raise InvalidInput("The archive unpacks to more than 4 GB; split the board before exporting it.")
    if packed > archive_bytes:
        raise InvalidInput("The archive's entries claim more bytes than the file holds (entries overlap: "
                           "a zip bomb?); not imported.")
    if unpacked > CHUNK and unpacked > MAX_RATIO * archive_bytes:
        raise InvalidInput("The archive unpacks to far more than it weighs (a zip bomb?); not imported.")
    return by_name


def check_local_headers(handle: IO[bytes], entries: Iterable[zipfile.ZipInfo]) -> None:
    """Each entry's own (local) header agrees with the directory on encryption and method.

    zipfile reads flags and method from the directory only; an unzip tool that
    trusts the local header would see another archive than the one checked here.
    """
    for entry in entries:
        handle.seek(entry.header_offset)
        header = handle.read(30)
        if len(header) != 30 or header[:4] != b"PK\x03\x04":
            raise InvalidInput(f"The archive is damaged ({shown(entry.filename)} is not where its directory says); "
                               "export the board again.")
        flags, method = struct.unpack("<HH", header[6:10])
        if flags & (_ENCRYPTED | _STRONG):
            raise InvalidInput(f"{shown(entry.filename)} in the archive is password-protected; "
                               "board imports cannot open encrypted ZIPs.")
        if flags & _PATCHED or method != entry.compress_type:
            raise InvalidInput(f"The archive is damaged (the two headers of {shown(entry.filename)} disagree); "
                               "export the board again.")


def check_references(entries: Iterable[str], named: Iterable[str]) -> None:
    """Every entry is one a board export writes, and every file ``board.json`` names is there."""
    present, wanted = set(entries), set(named)
    for name in sorted(present - wanted - set(OWN_FILES) - set(FOLDERS)):
        raise InvalidInput(f"The archive holds {shown(name)!r}, which board.json does not reference; "
                           "only the files of a board export can be imported.")
    for name in sorted(wanted - present):
        raise InvalidInput(f"board.json names {shown(name)!r}, which is missing from the archive.")


@contextmanager
def reading(name: str) -> Iterator[None]:
    """Turn whatever zipfile raises while unpacking ``name`` into a message the filmmaker can act on."""
    try:
        yield
    except _ZIP_ERRORS as error:
        # A damaged entry, or one whose header lies about its size, fails its CRC check or ends early.
        raise InvalidInput(f"The archive is damaged ({shown(name)}: {shown(str(error))}); "
                           "export the board again.") from None


def _chunks(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, limit: int) -> Iterator[bytes]:
    """The entry's bytes in chunks of at most 1 MB, stopping as soon as more comes out than allowed."""
    allowed = min(limit, entry.file_size)
    produced = 0
    with reading(entry.filename), archive.open(entry) as stream:
        while chunk := stream.read(CHUNK):
            produced += len(chunk)
            if produced > allowed:
                raise InvalidInput(f"{shown(entry.filename)} in the archive unpacks to more than its header "
                                   "says (a zip bomb?); not imported.")
            yield chunk
    if produced != entry.file_size:  # zipfile checks the CRC but not the length the header promised
        raise InvalidInput(f"The archive is damaged ({shown(entry.filename)} is shorter than its header says); "
                           "export the board again.")
    if entry.filename not in OWN_FILES and produced > CHUNK and produced > MAX_RATIO * max(entry.compress_size, 1):
        raise InvalidInput(f"{shown(entry.filename)} unpacks to far more than it weighs (a zip bomb?); not imported.")


def read_entry(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, limit: int = MAX_ENTRY_BYTES) -> bytes:
    """All of one entry (checked against its CRC), never more than ``limit`` bytes."""
    return b"".join(_chunks(archive, entry, limit))


def verify_entries(archive: zipfile.ZipFile, entries: Iterable[zipfile.ZipInfo]) -> None:
    """Unpack every entry once, keeping nothing, so a damaged archive is refused before anything is stored."""
    total = 0
    for entry in entries:
        for chunk in _chunks(archive, entry, MAX_TEXT_BYTES if entry.filename in OWN_FILES else MAX_ENTRY_BYTES):
            total += len(chunk)
            if total > MAX_UNPACKED_BYTES:
                raise InvalidInput("The archive unpacks to more than 4 GB; split the board before exporting it.")
