"""What several benchmarks share: phone-like photos, a timer, the options every one of them takes."""

from __future__ import annotations

import argparse
import io
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from model.data.digits import load_mnist
from model.data.render import photo_of
from model.reading import registry

ROOT = Path(__file__).resolve().parents[2]


def with_model(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The model and MNIST options, for the benchmarks that read photos."""
    parser.add_argument("--model", default=str(registry.SHIPPED), help="registry directory or .safetensors file")
    parser.add_argument("--data-root", default="data", help="where MNIST is (or is downloaded to)")
    parser.add_argument("--no-download", action="store_true", help="never download MNIST")
    return parser


def mnist_test(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray]:
    return load_mnist(args.data_root, train=False, download=not args.no_download)


def phone_jpeg(images: np.ndarray, seed: int, digits: int = 2) -> bytes:
    """A 1280x960 JPEG of a number of ``digits`` digits with sensor-like noise, so decoding costs what a real photo costs."""
    rng = np.random.default_rng(seed)
    picks = [images[int(rng.integers(len(images)))] for _ in range(digits)]
    photo = photo_of(picks, seed, 0).resize((1280, 960), Image.Resampling.BICUBIC)
    noisy = np.asarray(photo, dtype=np.float32) + rng.normal(0, 4.0, (960, 1280, 3))
    buffer = io.BytesIO()
    Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def photo_jpeg(image: np.ndarray, seed: int) -> bytes:
    buffer = io.BytesIO()
    photo_of([image], seed, 0).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median milliseconds of ``repeat`` calls, after one to warm up."""
    fn()
    best = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best.append(time.perf_counter() - start)
    return float(np.median(best)) * 1000


def status_mb(pid: int, field: str) -> float:
    """A field of /proc/<pid>/status (VmRSS, VmHWM) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def unit_vectors(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random memory vectors: a look-up among them costs what one among real ones costs."""
    from model.reading.memory import DIMS

    v = rng.normal(size=(n, DIMS)).astype(np.float32)
    unit: np.ndarray = v / np.linalg.norm(v, axis=1, keepdims=True)
    return unit
