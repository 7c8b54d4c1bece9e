"""Real media: PNG outputs written with zlib + struct, image sniffing, and the sample MP4.

Image outputs are deterministic from (prompt, seed, index) and keep the generation's aspect
ratio, but are downscaled so the long side is ``long_side`` pixels (256 by default): the
emulator serves small, valid PNGs rather than 2048-pixel renders.
"""

from __future__ import annotations

import functools
import hashlib
import struct
import zlib
from importlib import resources
from typing import NamedTuple

__all__ = ["ImageInfo", "output_png", "png_bytes", "sample_video", "sniff_image"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def png_bytes(width: int, height: int, rows: list[bytes], text: str | None = None) -> bytes:
    """Encode 8-bit RGB ``rows`` (each ``width * 3`` bytes) as a PNG."""
    raw = b"".join(b"\x00" + row for row in rows)  # filter type 0 on every scanline
    parts = [PNG_SIGNATURE, _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))]
    if text:
        parts.append(_chunk(b"tEXt", b"Comment\x00" + text.encode("latin-1", "replace")))
    parts += [_chunk(b"IDAT", zlib.compress(raw, 6)), _chunk(b"IEND", b"")]
    return b"".join(parts)


def output_size(width: int, height: int, long_side: int) -> tuple[int, int]:
    """``width x height`` scaled so the long side is ``long_side``, ratio kept."""
    if width >= height:
        return long_side, max(1, round(long_side * height / width))
    return max(1, round(long_side * width / height)), long_side


@functools.lru_cache(maxsize=64)
def output_png(
    prompt: str, seed: int, index: int, width: int, height: int, long_side: int
) -> bytes:
    """The PNG served as output ``index`` of a generation: a diagonal three-colour gradient
    whose colours are derived from the prompt, seed and index."""
    digest = hashlib.sha256(f"{prompt}\x00{seed}\x00{index}".encode()).digest()
    stops = [digest[0:3], digest[3:6], digest[6:9]]
    w, h = output_size(width, height, long_side)
    span = w + h
    line = bytearray()
    for i in range(span):
        t = i / max(1, span - 1) * 2
        a, b = (stops[0], stops[1]) if t <= 1 else (stops[1], stops[2])
        f = t if t <= 1 else t - 1
        line += bytes(round(a[c] + (b[c] - a[c]) * f) for c in range(3))
    rows = [bytes(line[y * 3 : (y + w) * 3]) for y in range(h)]
    return png_bytes(w, h, rows, text=f"aurous emulator output {index}; seed={seed}")


@functools.lru_cache(maxsize=1)
def sample_video() -> bytes:
    """The MP4 served as every video output (256x144, 2 s, H.264, ``ftyp`` first)."""
    return resources.files("aurous.emulator.data").joinpath("sample.mp4").read_bytes()


class ImageInfo(NamedTuple):
    """What sniffing an image found."""

    mime_type: str
    width: int
    height: int


def sniff_image(data: bytes) -> ImageInfo | None:
    """Detect PNG / JPEG / WebP from content and decode the dimensions; None if not decodable."""
    if data.startswith(PNG_SIGNATURE):
        return _sniff_png(data)
    if data.startswith(b"\xff\xd8\xff"):
        return _sniff_jpeg(data)
    if len(data) >= 16 and data[0:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _sniff_webp(data)
    return None


def _sniff_png(data: bytes) -> ImageInfo | None:
    if len(data) < 33 or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    if width == 0 or height == 0:
        return None
    return ImageInfo("image/png", width, height)


# SOF markers carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not.
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _sniff_jpeg(data: bytes) -> ImageInfo | None:
    pos = 2
    size = len(data)
    while pos + 4 <= size:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):
            pos += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image / start of scan before any frame header
            return None
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if length < 2:
            return None
        if marker in _SOF:
            if pos + 9 > size:
                return None
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            if width == 0 or height == 0:
                return None
            return ImageInfo("image/jpeg", width, height)
        pos += 2 + length
    return None


def _sniff_webp(data: bytes) -> ImageInfo | None:
    kind, payload = data[12:16], data[20:]
    if kind == b"VP8 " and len(payload) >= 10 and payload[3:6] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", payload[6:10])
        width, height = width & 0x3FFF, height & 0x3FFF
    elif kind == b"VP8L" and len(payload) >= 5 and payload[0] == 0x2F:
        (bits,) = struct.unpack("<I", payload[1:5])
        width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    elif kind == b"VP8X" and len(payload) >= 10:
        width = int.from_bytes(payload[4:7], "little") + 1
        height = int.from_bytes(payload[7:10], "little") + 1
    else:
        return None
    if width == 0 or height == 0:
        return None
    return ImageInfo("image/webp", width, height)
