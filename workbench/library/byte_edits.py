"""Editing a file as byte ranges: read its structure here and there, then stream it out changed.

:mod:`workbench.library.location` decides *what* to change in an image file;
this module holds the plumbing: random-access reads on a seekable stream, the
edit list, and a copy that applies the edits 1 MB at a time, so cleaning a 25 MB
original on its way into a ZIP never holds it whole.
"""

from __future__ import annotations

import io
from typing import IO

__all__ = ["Edit", "Source", "UnreadableMetadata", "merged", "edited_size", "write_edited", "CHUNK"]

CHUNK = 1024 * 1024

# (start, end, replacement): bytes, or None for "as many zero bytes as the range is long".
Edit = tuple[int, int, "bytes | None"]


class UnreadableMetadata(ValueError):
    """The file's metadata structure cannot be walked safely (the caller re-encodes instead)."""


class Source:
    """Random-access reads on a seekable stream."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.size = stream.seek(0, io.SEEK_END)

    def read(self, at: int, n: int) -> bytes:
        """Exactly ``n`` bytes at ``at``; a range outside the file raises :class:`UnreadableMetadata`."""
        if at < 0 or n < 0 or at + n > self.size:
            raise UnreadableMetadata("offset outside the file")
        self.stream.seek(at)
        data = self.stream.read(n)
        if len(data) != n:
            raise UnreadableMetadata("short read")
        return data

    def scan(self, needles: list[bytes], any_case: tuple[bytes, ...]) -> tuple[dict[bytes, list[int]], list[int]]:
        """Where each needle occurs, and where any of ``any_case`` (lower case) occurs in any case,
        reading the stream once in 1 MB pieces."""
        found: dict[bytes, set[int]] = {n: set() for n in needles}
        markers: set[int] = set()
        overlap = max([len(n) for n in (*needles, *any_case)]) - 1
        self.stream.seek(0)
        base, tail = 0, b""
        while piece := self.stream.read(CHUNK):
            window = tail + piece
            start = base - len(tail)
            for needle in needles:
                at = window.find(needle)
                while at != -1:
                    found[needle].add(start + at)  # a set: the overlap between pieces finds some twice
                    at = window.find(needle, at + 1)
            lowered = window.lower()  # bytes.find on a lowered copy: many times faster than a regex
            for marker in any_case:
                at = lowered.find(marker)
                while at != -1:
                    markers.add(start + at)
                    at = lowered.find(marker, at + 1)
            base += len(piece)
            tail = window[-overlap:]
        return {n: sorted(at) for n, at in found.items()}, sorted(markers)

    def find_from(self, needle: bytes, at: int) -> int:
        """The first place ``needle`` occurs at or after ``at`` (-1: nowhere), read in 1 MB pieces."""
        self.stream.seek(at)
        tail = b""
        while piece := self.stream.read(CHUNK):
            window = tail + piece
            found = window.find(needle)
            if found != -1:
                return at - len(tail) + found
            at += len(piece)
            tail = window[-(len(needle) - 1):]
        return -1


def merged(edits: list[Edit]) -> list[Edit]:
    """Edits in file order; two that overlap mean a hostile structure (the caller re-encodes)."""
    ordered = sorted(edits, key=lambda e: (e[0], e[1]))
    for before, after in zip(ordered, ordered[1:], strict=False):
        if after[0] < before[1]:
            raise UnreadableMetadata("metadata blocks overlap")
    return ordered


def edited_size(size: int, edits: list[Edit]) -> int:
    """How long the file is once the edits are applied."""
    return size + sum((end - start if r is None else len(r)) - (end - start) for start, end, r in edits)


def write_edited(stream: IO[bytes], edits: list[Edit], out: IO[bytes]) -> int:
    """Copy ``stream`` to ``out`` with the edits applied, 1 MB at a time; returns the bytes written."""
    written, at = 0, 0
    stream.seek(0)

    def copy(stop: int | None) -> int:
        done = 0
        while stop is None or at + done < stop:
            piece = stream.read(CHUNK if stop is None else min(CHUNK, stop - at - done))
            if not piece:
                break
            out.write(piece)
            done += len(piece)
        return done

    for start, end, replacement in edits:
        at += (copied := copy(start))
        written += copied
        if replacement is None:
            for offset in range(0, end - start, CHUNK):
                out.write(bytes(min(CHUNK, end - start - offset)))
            written += end - start
        else:
            out.write(replacement)
            written += len(replacement)
        stream.seek(end)
        at = end
    return written + copy(None)
