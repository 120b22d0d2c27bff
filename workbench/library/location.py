"""Taking where a picture was taken out of its file, without touching its pixels.

A phone, a drone or Lightroom writes the place three ways: the EXIF GPS block,
XMP (``exif:GPSLatitude``, ``drone-dji:GpsLatitude``, Camera Raw's copies) and
IPTC (city, country, sub-location in Photoshop's APP13 resources). A stored
original, and every copy handed out of the workbench, must carry none of them.

The rule is deliberately blunt, because a partial clean is a leak:

- EXIF: the GPS block is unlinked and its bytes zeroed; the rest (camera, lens,
  orientation, exposure) stays, edited in place so no offset moves.
- XMP: the whole packet goes (location hides in too many namespaces to pick out).
- IPTC / Photoshop resources and ImageMagick's "Raw profile" text chunks: they go.
- Bytes after the end of a JPEG, PNG or WebP (a phone's "motion photo" video,
  with its own location) go.

Pixels are never decoded here. :func:`location_edits` reads the file's structure
(random access, a little at a time) and returns byte-range edits; JPEG and TIFF
are edited in place (same length, so an MPO's offsets stay valid), PNG and WebP
lose whole chunks. :func:`write_edited` then streams the file with the edits
applied, so cleaning a 25 MB original on its way into a ZIP holds one chunk in
memory. A structure that cannot be walked raises :class:`UnreadableMetadata`;
the caller then re-encodes the pixels instead.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from typing import IO

from workbench.library.byte_edits import Edit, Source, UnreadableMetadata, edited_size, merged, write_edited

__all__ = ["strip_location", "location_edits", "write_edited", "edited_size", "Edit", "UnreadableMetadata",
           "GPS_IFD", "LOCATION_MARKERS"]

GPS_IFD = 34853
_DROPPED_TAGS = {GPS_IFD, 700, 33723, 34377}  # GPS IFD, XMP, IPTC, Photoshop resources
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8}
_MAX_IFDS = 1024  # a chain longer than this is a loop or an attack, not a multi-page scan
_MAX_BLOCK = 1024 * 1024  # an EXIF block bigger than this is dropped whole, not edited

_XMP_ID = b"http://ns.adobe.com/xap/1.0/\x00"
_XMP_EXTENSION_ID = b"http://ns.adobe.com/xmp/extension/\x00"
_PHOTOSHOP_ID = b"Photoshop 3.0\x00"
_EXIF_ID = b"Exif\x00\x00"
# An XMP packet with nothing in it; padding with whitespace is the XMP spec's own way to edit in place.
_EMPTY_XMP = (b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>'
              b'<x:xmpmeta xmlns:x="adobe:ns:meta/"></x:xmpmeta>', b'<?xpacket end="w"?>')
_EMPTY_TIFF = {b"II": b"II*\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00",
               b"MM": b"MM\x00*\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00"}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_TEXT = {b"tEXt", b"zTXt", b"iTXt"}

# A location written as words in any vocabulary. After the edits none may be left
# outside an edited range; if one is, the file is re-encoded (the last line of defence).
LOCATION_MARKERS = (b"gpslatitude", b"gpslongitude", b"gpsaltitude", b"gpscoordinates")

# -- TIFF structures (TIFF files, and the EXIF block inside JPEG, PNG and WebP) ------------
class _Tiff:
    """One TIFF structure starting at ``base``; edits come back relative to the whole file."""

    def __init__(self, read: Callable[[int, int], bytes], base: int) -> None:
        self.read, self.base = read, base
        order = read(base, 2)
        if order not in (b"II", b"MM"):
            raise UnreadableMetadata("not a TIFF structure")
        self.e = "<" if order == b"II" else ">"
        magic = self.unpack("H", 2)
        if magic not in (42, 43):
            raise UnreadableMetadata("not a TIFF structure")
        self.big = magic == 43
        self.count_size, self.entry_size, self.offset_size = (8, 20, 8) if self.big else (2, 12, 4)
        self.first = self.offset(8 if self.big else 4)

    def unpack(self, fmt: str, at: int) -> int:
        size = struct.calcsize(fmt)
        return int(struct.unpack(self.e + fmt, self.read(self.base + at, size))[0])

    def offset(self, at: int) -> int:
        return self.unpack("Q" if self.big else "I", at)

    def entries(self, ifd: int) -> list[tuple[int, int, int, int, bytes]]:
        """(tag, data size, where the data is, where the value field is, raw entry) of each entry."""
        count = self.unpack("Q" if self.big else "H", ifd)
        if count > 10_000:
            raise UnreadableMetadata("implausible IFD")
        raw = self.read(self.base + ifd + self.count_size, count * self.entry_size)
        found = []
        for n in range(count):
            entry = raw[n * self.entry_size:(n + 1) * self.entry_size]
            tag, kind = struct.unpack(self.e + "HH", entry[:4])
            number = struct.unpack(self.e + ("Q" if self.big else "I"), entry[4:4 + self.offset_size])[0]
            value_at = ifd + self.count_size + n * self.entry_size + 4 + self.offset_size
            size = _TYPE_SIZES.get(kind, 0) * number
            where = value_at if size <= self.offset_size else self.offset(value_at)
            found.append((tag, size, where, value_at, entry))
        return found

    def ifd_length(self, count: int) -> int:
        return self.count_size + count * self.entry_size + self.offset_size

    def zeroed(self, at: int, size: int, limit: int) -> Edit | None:
        stop = min(at + size, limit - self.base)
        return (self.base + at, self.base + stop, None) if 0 <= at < stop else None


def _tiff_edits(read: Callable[[int, int], bytes], base: int, limit: int) -> list[Edit]:
    """Unlink and zero GPS, XMP, IPTC and Photoshop tags in every IFD of the chain."""
    tiff, edits = _Tiff(read, base), list[Edit | None]()
    ifd, seen = tiff.first, set[int]()
    while ifd and ifd not in seen and len(seen) < _MAX_IFDS:
        seen.add(ifd)
        entries = tiff.entries(ifd)
        following = tiff.offset(ifd + tiff.count_size + len(entries) * tiff.entry_size)
        dropped = [e for e in entries if e[0] in _DROPPED_TAGS]
        if dropped:
            for tag, size, where, value_at, _ in dropped:
                if tag == GPS_IFD:
                    edits += _gps_ifd_zeroed(tiff, tiff.offset(value_at), limit)
                if where != value_at:
                    edits.append(tiff.zeroed(where, size, limit))
            count = struct.pack(tiff.e + ("Q" if tiff.big else "H"), len(entries) - len(dropped))
            link = struct.pack(tiff.e + ("Q" if tiff.big else "I"), following)
            rewritten = count + b"".join(e[4] for e in entries if e[0] not in _DROPPED_TAGS) + link
            length = tiff.ifd_length(len(entries))
            edits.append((base + ifd, base + ifd + length, rewritten + bytes(length - len(rewritten))))
        ifd = following
    return [e for e in edits if e is not None]


def _gps_ifd_zeroed(tiff: _Tiff, ifd: int, limit: int) -> list[Edit | None]:
    try:
        entries = tiff.entries(ifd)
    except UnreadableMetadata:
        return []  # unlinked anyway: a GPS block nobody can read stays unread
    edits = [tiff.zeroed(where, size, limit) for _, size, where, value_at, _ in entries if where != value_at]
    return [*edits, tiff.zeroed(ifd, tiff.ifd_length(len(entries)), limit)]


def _clean_exif_block(block: bytes) -> bytes:
    """An EXIF block without GPS (same length); one that cannot be walked becomes an empty one."""
    start = len(_EXIF_ID) if block.startswith(_EXIF_ID) else 0
    buffer = bytearray(block)
    try:
        edits = merged(_tiff_edits(lambda at, n: _slice(block, at, n), start, len(block)))
    except UnreadableMetadata:
        empty = _EMPTY_TIFF.get(block[start:start + 2], _EMPTY_TIFF[b"MM"])
        room = len(block) - start
        buffer[start:] = empty + bytes(room - len(empty)) if room >= len(empty) else bytes(room)
        return bytes(buffer)
    for begin, end, replacement in edits:
        buffer[begin:end] = replacement if replacement is not None else bytes(end - begin)
    return bytes(buffer)


def _slice(data: bytes, at: int, n: int) -> bytes:
    if at < 0 or at + n > len(data):
        raise UnreadableMetadata("offset outside the block")
    return data[at:at + n]


# -- JPEG and MPO ---------------------------------------------------------------------------
def _jpeg_edits(source: Source, starts: list[int], keep_trailing: bool) -> list[Edit]:
    # "FF D8 FF" can only start a picture: inside compressed data every FF is followed by
    # 00 or a restart marker. So ``starts`` holds the main picture, an MPO's other pictures
    # and EXIF thumbnails, and each one's metadata segments are cleaned.
    if not starts or starts[0] != 0:
        raise UnreadableMetadata("not a JPEG")
    edits: list[Edit] = []
    first_scan = None
    for start in starts:
        scan = _jpeg_segment_edits(source, start, edits)
        first_scan = scan if start == 0 else first_scan
    if not keep_trailing and first_scan is not None:
        end = source.find_from(b"\xff\xd9", first_scan)
        if end != -1 and end + 2 < source.size:
            # Whatever follows the picture goes, edits inside it with it.
            edits = [e for e in edits if e[1] <= end + 2] + [(end + 2, source.size, b"")]
    return edits


def _jpeg_segment_edits(source: Source, start: int, edits: list[Edit]) -> int | None:
    """Edits for the segments of the picture at ``start``; returns where its scan data starts."""
    at = start + 2
    while at + 4 <= source.size:
        head = source.read(at, 4)
        if head[0] != 0xFF:
            return None
        marker = head[1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            at += 2
            continue
        if marker == 0xD9:
            return None
        length = struct.unpack(">H", head[2:])[0]
        payload, stop = at + 4, at + 2 + length
        if length < 2 or stop > source.size:
            return None
        if marker == 0xDA:
            return stop
        if marker in (0xE1, 0xED):
            edits.extend(_app_segment_edits(marker, source.read(payload, stop - payload), payload))
        at = stop
    return None


def _app_segment_edits(marker: int, body: bytes, at: int) -> list[Edit]:
    end = at + len(body)
    if marker == 0xE1 and body.startswith(_EXIF_ID):
        cleaned = _clean_exif_block(body)
        return [(at, end, cleaned)] if cleaned != body else []
    if marker == 0xE1 and body.startswith(_XMP_ID):
        room = len(body) - len(_XMP_ID)
        head, tail = _EMPTY_XMP
        blank = head + b" " * (room - len(head) - len(tail)) + tail if room >= len(head) + len(tail) else b" " * room
        return [(at + len(_XMP_ID), end, blank)]
    if marker == 0xE1 and body.startswith(_XMP_EXTENSION_ID):
        return [(at + len(_XMP_EXTENSION_ID), end, b" " * (len(body) - len(_XMP_EXTENSION_ID)))]
    if marker == 0xED:
        # APP13 holds Photoshop resources (IPTC) and nothing a decoder needs: zeroed whatever its
        # header says (a damaged "Photoshop 3.0" still carries the city). With no "8BIM"
        # signature left, readers see an empty resource list.
        keep = len(_PHOTOSHOP_ID) if body.startswith(_PHOTOSHOP_ID) else 0
        return [(at + keep, end, None)]
    return []


# -- PNG ------------------------------------------------------------------------------------
def _png_edits(source: Source) -> list[Edit]:
    if source.read(0, 8) != _PNG_SIGNATURE:
        raise UnreadableMetadata("not a PNG")
    edits: list[Edit] = []
    at = len(_PNG_SIGNATURE)
    while True:
        length, kind = struct.unpack(">I4s", source.read(at, 8))
        stop = at + 12 + length
        if stop > source.size:
            raise UnreadableMetadata("PNG chunk runs past the end")
        if kind in _PNG_TEXT and _is_metadata_keyword(source.read(at + 8, min(length, 80))):
            edits.append((at, stop, b""))  # an XMP packet or an ImageMagick "Raw profile" (EXIF, IPTC as hex)
        elif kind == b"eXIf":
            if length > _MAX_BLOCK:
                edits.append((at, stop, b""))
            else:
                block = _clean_exif_block(source.read(at + 8, length))
                edits.append((at, stop, source.read(at, 8) + block + struct.pack(">I", zlib.crc32(kind + block))))
        at = stop
        if kind == b"IEND":
            if at < source.size:
                edits.append((at, source.size, b""))  # anything after IEND is not part of the picture
            return edits


def _is_metadata_keyword(head: bytes) -> bool:
    keyword = head.split(b"\x00", 1)[0].lower()
    return keyword == b"xml:com.adobe.xmp" or keyword.startswith(b"raw profile type")


# -- WebP -----------------------------------------------------------------------------------
def _webp_edits(source: Source) -> list[Edit]:
    head = source.read(0, 12)
    if head[:4] != b"RIFF" or head[8:12] != b"WEBP":
        raise UnreadableMetadata("not a WebP")
    end = min(source.size, 8 + struct.unpack("<I", head[4:8])[0])
    edits: list[Edit] = []
    at, removed, vp8x, cleared = 12, 0, None, 0
    while at + 8 <= end:
        kind, size = struct.unpack("<4sI", source.read(at, 8))
        stop = min(at + 8 + size + (size & 1), end)
        if at + 8 + size > end:
            raise UnreadableMetadata("WebP chunk runs past the end")
        if kind == b"VP8X" and size >= 1:
            vp8x = at + 8
        if kind == b"XMP " or (kind == b"EXIF" and size > _MAX_BLOCK):
            edits.append((at, stop, b""))
            removed += stop - at
            cleared |= 0x04 if kind == b"XMP " else 0x08  # VP8X's "has XMP" / "has EXIF" flags
        elif kind == b"EXIF":
            edits.append((at + 8, at + 8 + size, _clean_exif_block(source.read(at + 8, size))))
        at = stop
    if end < source.size:
        edits.append((end, source.size, b""))  # past the RIFF container: not part of the picture
    if removed:
        edits.append((4, 8, struct.pack("<I", end - 8 - removed)))
        if vp8x is not None:
            edits.append((vp8x, vp8x + 1, bytes([source.read(vp8x, 1)[0] & ~cleared & 0xFF])))
    return edits


# -- applying the edits -----------------------------------------------------------------------
def location_edits(stream: IO[bytes], image_format: str) -> list[Edit]:
    """The byte-range edits that take GPS, XMP and IPTC out of a seekable image file.

    ``image_format`` is Pillow's name for the decoded format (``JPEG``, ``MPO``,
    ``PNG``, ``WEBP``, ``TIFF``, ``GIF``). Raises :class:`UnreadableMetadata`,
    also when a location marker would survive the edits.
    """
    source = Source(stream)
    found, markers = source.scan([b"\xff\xd8\xff"] if image_format in ("JPEG", "MPO") else [], LOCATION_MARKERS)
    if image_format in ("JPEG", "MPO"):
        edits = _jpeg_edits(source, found[b"\xff\xd8\xff"], keep_trailing=image_format == "MPO")
    elif image_format == "PNG":
        edits = _png_edits(source)
    elif image_format == "WEBP":
        edits = _webp_edits(source)
    elif image_format == "TIFF":
        edits = _tiff_edits(source.read, 0, source.size)
    else:
        edits = []  # GIF has no standard place for EXIF or IPTC; XMP in it shows up as a marker
    edits = merged(edits)
    for at in markers:
        if not any(start <= at < end for start, end, _ in edits):
            raise UnreadableMetadata("a location is written where no edit reaches")
    return edits


def strip_location(data: bytes, image_format: str) -> bytes:
    """The same file with GPS, XMP and IPTC metadata removed; pixel data untouched.

    Raises :class:`UnreadableMetadata` (see :func:`location_edits`).
    """
    source = io.BytesIO(data)
    edits = location_edits(source, image_format)
    if not edits:
        return data
    out = io.BytesIO()
    write_edited(source, edits, out)
    return out.getvalue()
