"""Real image files with the awkward parts cameras, drones and editors put in them, built with Pillow.

Shared by the library tests and the intake fuzz test: pictures carrying a
location in EXIF GPS, XMP (Adobe and DJI) and IPTC; 16-bit pictures; a PNG
whose text chunk inflates past Pillow's limit.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image, PngImagePlugin, TiffImagePlugin

# What must never leave the workbench: the words and numbers of the place.
CITY = b"Amsterdam"
XMP_GPS = (
    b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
    b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    b'xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:drone-dji="http://www.dji.com/drone-dji/1.0/" '
    b'xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" exif:GPSLatitude="52,22.5123N" '
    b'exif:GPSLongitude="4,53.0456E" drone-dji:GpsLatitude="52.375205" drone-dji:GpsLongitude="4.884076" '
    b'photoshop:City="Amsterdam"/></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)
LOCATION_WORDS = (b"GPSLatitude", b"GPSLongitude", b"GpsLatitude", b"52.375205", b"52,22.5123N", CITY)
GPS = {1: "N", 2: (52.0, 22.0, 30.0), 3: "E", 4: (4.0, 53.0, 6.0)}
FORMATS = ("JPEG", "PNG", "WEBP", "TIFF")


def _exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "FilmCam"  # Make: camera details stay, only the place goes
    exif[0x8825] = GPS
    return exif


def _iptc_segment() -> bytes:
    """A Photoshop APP13 segment with an IPTC City (2:90) record."""
    record = b"\x1c\x02\x5a" + struct.pack(">H", len(CITY)) + CITY
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(record)) + record
    resource += b"\x00" * (len(record) % 2)
    payload = b"Photoshop 3.0\x00" + resource
    return b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload


def picture(size: tuple[int, int] = (96, 64), seed: int = 0) -> Image.Image:
    """A textured RGB picture (so encoders have something to compress)."""
    rng = np.random.default_rng(seed)
    base = np.array([30 + seed % 200, 120, 200])[None, None, :]
    pixels = np.clip(base + rng.integers(-30, 30, (size[1], size[0], 3)), 0, 255).astype("uint8")
    return Image.fromarray(pixels)


def located(image_format: str, seed: int = 0) -> bytes:
    """A picture whose file says where it was taken in EXIF GPS, XMP and (JPEG, PNG) IPTC/raw profiles."""
    image, out = picture(seed=seed), io.BytesIO()
    if image_format == "JPEG":
        image.save(out, format="JPEG", exif=_exif(6).tobytes(), xmp=XMP_GPS)
        data = out.getvalue()
        return data[:2] + _iptc_segment() + data[2:] + b"\x00\x00\x00\x18ftypmp42" + XMP_GPS  # a motion photo tail
    if image_format == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", XMP_GPS.decode())
        info.add_text("Raw profile type iptc", "\niptc\n  9\n" + CITY.hex() + "\n")
        image.save(out, format="PNG", pnginfo=info, exif=_exif(6).tobytes())
        return out.getvalue()
    if image_format == "WEBP":
        image.save(out, format="WEBP", exif=_exif(6).tobytes(), xmp=XMP_GPS)
        return out.getvalue()
    if image_format == "TIFF":
        tags = TiffImagePlugin.ImageFileDirectory_v2()
        tags[700] = XMP_GPS
        tags[0x010F] = "FilmCam"
        tags[0x8825] = GPS
        image.save(out, format="TIFF", tiffinfo=tags)
        return out.getvalue()
    raise ValueError(image_format)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_with_huge_ztxt(unpacked: int = 3 * 1024 * 1024) -> bytes:
    """A small valid PNG whose zTXt comment inflates to ``unpacked`` bytes (past Pillow's 1 MB guard)."""
    header = struct.pack(">IIBBBBB", 8, 4, 8, 2, 0, 0, 0)
    text = b"Comment\x00\x00" + zlib.compress(b"a" * unpacked, 9)
    pixels = zlib.compress(b"".join(b"\x00" + b"\x80" * 24 for _ in range(4)))
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"zTXt", text)
            + png_chunk(b"IDAT", pixels) + png_chunk(b"IEND", b""))


def grey16(image_format: str, level: int = 32768, size: tuple[int, int] = (64, 48)) -> bytes:
    """A flat 16-bit greyscale picture at ``level`` of 65535 (Pillow opens it as I;16)."""
    out = io.BytesIO()
    Image.fromarray(np.full((size[1], size[0]), level, dtype=np.uint16)).save(out, format=image_format)
    return out.getvalue()


def wide_tiff(mode: str, value: float, size: tuple[int, int] = (64, 48)) -> bytes:
    """A flat 32-bit integer (``I``) or float (``F``) TIFF."""
    dtype = np.int32 if mode == "I" else np.float32
    out = io.BytesIO()
    Image.fromarray(np.full((size[1], size[0]), value, dtype=dtype)).save(out, format="TIFF")
    return out.getvalue()


def rgb16_png(level: int = 16384, alpha: bool = False, size: tuple[int, int] = (16, 8)) -> bytes:
    """A flat 16-bit-per-channel RGB(A) PNG, written by hand (Pillow cannot write one)."""
    channels = 4 if alpha else 3
    row = np.full(size[0] * channels, level, dtype=">u2").tobytes()
    raw = b"".join(b"\x00" + row for _ in range(size[1]))
    header = struct.pack(">IIBBBBB", size[0], size[1], 16, 6 if alpha else 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", zlib.compress(raw))
            + png_chunk(b"IEND", b""))


def valid_images() -> dict[str, bytes]:
    """One small valid file of each kind the library accepts (the seeds of the fuzz test)."""
    made: dict[str, bytes] = {}
    for image_format, options in (("JPEG", {"quality": 85}), ("JPEG-progressive", {"progressive": True}),
                                  ("PNG", {}), ("WEBP", {"quality": 80}), ("WEBP-lossless", {"lossless": True}),
                                  ("TIFF", {}), ("TIFF-deflate", {"compression": "tiff_adobe_deflate"}),
                                  ("GIF", {})):
        out = io.BytesIO()
        picture(seed=len(made)).save(out, format=image_format.split("-")[0], **options)
        made[image_format] = out.getvalue()
    frames = [picture(seed=s).convert("P") for s in (1, 2)]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=100)
    made["GIF-animated"] = out.getvalue()
    out = io.BytesIO()
    picture(seed=3).save(out, format="MPO", save_all=True, append_images=[picture(seed=4)])
    made["MPO"] = out.getvalue()
    made.update({f"{f}-located": located(f) for f in FORMATS})
    made["PNG-16bit"] = grey16("PNG")
    made["TIFF-16bit"] = grey16("TIFF")
    made["PNG-rgb16"] = rgb16_png()
    return made


def rgb16_tiff(level: int = 16384, channels: int = 3, size: tuple[int, int] = (60, 40)) -> bytes:
    """A flat 16-bit-per-channel RGB(A) TIFF (written with tifffile, which scikit-image brings)."""
    import tifffile

    out = io.BytesIO()
    tifffile.imwrite(out, np.full((size[1], size[0], channels), level, dtype=np.uint16), photometric="rgb")
    return out.getvalue()
