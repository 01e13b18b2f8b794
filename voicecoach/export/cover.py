"""A small cover picture for exported files: deterministic, no image library, no font.

Players show a blank square for a file without a picture, and an
audiobook shelf (M4B) of blank squares is hard to tell apart. The cover is
a 300x300 PNG: a background colour taken from the plan's title (the same
plan always gets the same colour, two plans rarely the same) and three
rings, like sound spreading out. The title itself is not drawn: that
needs a font and a text renderer (Pillow, FreeType), a dependency for
little gain, since every player shows the title tag beside the picture.
The bytes depend only on the title, so two exports of a plan are identical.
"""

from __future__ import annotations

import colorsys
import hashlib
import struct
import zlib

import numpy as np

SIZE = 300


def cover_png(title: str) -> bytes:
    """The cover for ``title`` as PNG bytes (RGB, 8 bits)."""
    digest = hashlib.sha256(title.encode("utf-8", "surrogatepass")).digest()
    hue = digest[0] / 256.0
    background = np.array(colorsys.hsv_to_rgb(hue, 0.55, 0.55)) * 255
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    r = np.hypot(x - SIZE * 0.3, y - SIZE * 0.7)  # rings spread from the lower left
    ink = np.zeros((SIZE, SIZE))
    for radius in (SIZE * 0.18, SIZE * 0.36, SIZE * 0.54):
        # A ring 8 px wide with 1 px of anti-aliasing each side, in the upper right quadrant only.
        ring = np.clip(5.0 - np.abs(r - radius), 0.0, 1.0)
        ink = np.maximum(ink, ring * ((x >= SIZE * 0.3) & (y <= SIZE * 0.7)))
    dot = np.clip(SIZE * 0.06 + 1 - r, 0.0, 1.0)
    ink = np.maximum(ink, dot)
    pixels = background[None, None, :] * (1 - ink[..., None]) + 255.0 * ink[..., None]
    return _png(np.round(pixels).astype(np.uint8))


def _png(rgb: np.ndarray) -> bytes:
    """A minimal PNG (IHDR, one IDAT, IEND) of an (h, w, 3) uint8 array."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[row].tobytes() for row in range(h))  # filter type 0 on every row

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
