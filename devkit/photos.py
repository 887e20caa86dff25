"""Photos for tests and benchmarks: MNIST digits written on paper, encoded as a phone or a scanner would."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image


def digit(mnist: tuple[np.ndarray, np.ndarray], value: int, nth: int = 0) -> np.ndarray:
    images, labels = mnist
    found: np.ndarray = images[np.flatnonzero(labels == value)[nth]]
    return found


def on_paper(
    glyphs: list[np.ndarray],
    height: int = 120,
    size: tuple[int, int] = (480, 360),
    at: tuple[int, int] | None = None,
    paper: float = 0.93,
    ink: tuple[int, int, int] = (30, 40, 140),
    ground: Image.Image | None = None,
) -> Image.Image:
    """Dark ink digits written left to right on light paper (or on ``ground``), as a plain photo would show them."""
    width, total_h = size
    canvas = (
        np.full((total_h, width, 3), paper * 255, dtype=np.float32) if ground is None else np.asarray(ground.convert("RGB"), np.float32)
    )
    x, y = at if at is not None else ((width - len(glyphs) * height) // 2, (total_h - height) // 2)
    for glyph in glyphs:
        alpha = np.asarray(Image.fromarray(glyph).resize((height, height), Image.Resampling.BICUBIC), dtype=np.float32)[..., None] / 255
        region = canvas[y : y + height, x : x + height]
        canvas[y : y + height, x : x + height] = region * (1 - alpha) + np.array(ink, dtype=np.float32) * alpha
        x += height
    return Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8))


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims to be huge: the shape of a decompression bomb, in 60 bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")
