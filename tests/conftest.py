"""Shared fixtures: MNIST test digits from the offline copy, the shipped model, photo builders."""

from __future__ import annotations

import asyncio
import functools
import io
import os
import struct
import zlib
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import pytest_asyncio
from PIL import Image

from devkit.fake_telegram import FakeTelegram
from model.data import load_mnist
from model.predictor import Predictor

ROOT = Path(__file__).resolve().parent.parent
DATA_ROOT = Path(os.environ.get("DIGITBOT_MNIST", ROOT.parent / "shared" / "data"))
MODELS = ROOT / "models"


@pytest.fixture(scope="session")
def mnist_test() -> tuple[np.ndarray, np.ndarray]:
    if not (DATA_ROOT / "MNIST" / "raw").exists():
        pytest.skip(f"MNIST not found under {DATA_ROOT} (set DIGITBOT_MNIST)")
    return load_mnist(str(DATA_ROOT), train=False, download=False)


@pytest.fixture(scope="session")
def predictor() -> Predictor:
    return Predictor.load(MODELS)


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    """The fake Bot API on a free loopback port, for one test."""
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def photo_of(mnist_test: tuple[np.ndarray, np.ndarray]) -> Callable[..., bytes]:
    """JPEG bytes of MNIST test digits written on paper, left to right."""

    def make(*digits: int) -> bytes:
        return jpeg(on_paper([digit(mnist_test, d) for d in digits]))

    return make


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


PG_ADMIN = os.environ.get("DIGITBOT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


@functools.cache
def postgres_missing() -> str | None:
    """None when PostgreSQL answers at PG_ADMIN, else why not (the skip reason). Asked once, on
    first use rather than at import, from a thread so that an async test may ask too."""
    import asyncpg

    async def probe() -> None:
        connection = await asyncpg.connect(PG_ADMIN, timeout=3)
        await connection.close()

    try:
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, probe()).result()
    except Exception as err:
        return f"PostgreSQL not reachable at {PG_ADMIN}: {err}"
    return None
