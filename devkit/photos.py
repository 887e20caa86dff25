"""Photos for tests and benchmarks: MNIST digits written on paper, encoded as a phone or a scanner would."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image, ImageDraw


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


def smiley() -> np.ndarray:
    """A drawn smiley, white on black like an MNIST digit."""
    image = Image.new("L", (112, 112), 0)
    draw = ImageDraw.Draw(image)
    draw.ellipse((16, 16, 96, 96), outline=255, width=10)
    for cx in (42, 70):
        draw.ellipse((cx - 7, 38, cx + 7, 52), fill=255)
    draw.arc((34, 46, 78, 82), 20, 160, fill=255, width=9)
    return np.asarray(image.resize((28, 28), Image.Resampling.BOX))


def palette_png(side: int, glyph: np.ndarray | None = None, transparency: bool = False) -> bytes:
    """A palette PNG of ``side`` x ``side``: tens of kilobytes on the wire, ``side``² bytes and more decoded."""
    image = Image.new("L", (side, side), 235)
    if glyph is not None:
        ink = Image.fromarray(255 - glyph).resize((side // 2, side // 2), Image.Resampling.BILINEAR)
        image.paste(ink.point(lambda v: 30 if v < 128 else 235), (side // 4, side // 4))
    palette = image.convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    buffer = io.BytesIO()
    palette.save(buffer, format="PNG", **({"transparency": 3} if transparency else {}))
    return buffer.getvalue()
