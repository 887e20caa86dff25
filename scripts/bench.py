"""Benchmarks whose output is quoted in notes and README: figures, not tests.

python -m scripts.bench photo       # ms per 1280x960 JPEG vs Pillow's bare decode; photos/s on 2 cores
python -m scripts.bench mnist-cli   # MNIST test accuracy through `python -m model.predict --json`
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from model.data import load_mnist, photo_of
from model.predict import DEFAULT_MODEL
from model.predictor import Predictor


def phone_jpeg(images: np.ndarray, seed: int) -> bytes:
    """A 1280x960 JPEG with sensor-like noise, so decoding costs what a real photo costs."""
    rng = np.random.default_rng(seed)
    photo = photo_of([images[int(rng.integers(len(images)))] for _ in range(2)], seed, 0).resize((1280, 960), Image.Resampling.BICUBIC)
    noisy = np.asarray(photo, dtype=np.float32) + rng.normal(0, 4.0, (960, 1280, 3))
    buffer = io.BytesIO()
    Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def timed(fn: Callable[[], object], repeat: int) -> float:
    fn()
    best = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best.append(time.perf_counter() - start)
    return float(np.median(best)) * 1000


def _worker(args: tuple[str, list[bytes]]) -> int:
    torch.set_num_threads(1)
    predictor = Predictor.load(args[0])
    for data in args[1]:
        predictor.predict(data)
    return len(args[1])


def bench_photo(args: argparse.Namespace) -> None:
    torch.set_num_threads(1)
    predictor = Predictor.load(args.model)
    images, _ = load_mnist(args.data_root, train=False, download=not args.no_download)
    photos = [phone_jpeg(images, seed) for seed in range(8)]
    decode = np.mean([timed(lambda d=d: Image.open(io.BytesIO(d)).load(), 20) for d in photos])
    full = np.mean([timed(lambda d=d: predictor.predict(d), 20) for d in photos])
    segment = np.mean([timed(lambda d=d: predictor.transform.segment(d), 20) for d in photos])
    print(f"1280x960 JPEG, single thread, median over 20 runs x {len(photos)} photos, model {predictor.version}")
    print(f"  Pillow bare decode        {decode:7.2f} ms")
    print(f"  transform (incl. decode)  {segment:7.2f} ms")
    print(f"  predict (decode+transform+CNN) {full:7.2f} ms  = {full / decode:.2f}x bare decode, {1000 / full:.1f} photos/s")
    per_worker = [photos * 25, photos * 25]
    start = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(2) as pool:
        done = sum(pool.map(_worker, [(args.model, chunk) for chunk in per_worker]))
    elapsed = time.perf_counter() - start
    print(f"  2 processes x 1 thread: {done} photos in {elapsed:.1f} s = {done / elapsed:.1f} photos/s (including model load)")


def bench_mnist_cli(args: argparse.Namespace) -> None:
    images, labels = load_mnist(args.data_root, train=False, download=not args.no_download)
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i, image in enumerate(images):
            path = Path(tmp) / f"{i:05d}.png"
            Image.fromarray(image, mode="L").save(path)
            files.append(str(path))
        start = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-m", "model.predict", "--json", "--model", args.model, *files], capture_output=True, text=True, check=True
        )
        elapsed = time.perf_counter() - start
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["file"] for r in rows] == files, "CLI output order differs from input order"
    correct = sum(r["digits"] == str(label) for r, label in zip(rows, labels, strict=True))
    none = sum(r["digits"] == "" for r in rows)
    print(f"MNIST test through `python -m model.predict --json` (one call, {len(files)} PNG files)")
    rate = len(files) / elapsed
    print(f"  accuracy {correct / len(files):.4%} ({correct}/{len(files)}), no digit {none}, {elapsed:.1f} s = {rate:.0f} files/s")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("which", choices=["photo", "mnist-cli"])
    parser.add_argument("--model", default=str(DEFAULT_MODEL))
    parser.add_argument("--data-root", default="data")
    parser.add_argument("--no-download", action="store_true")
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse()
    {"photo": bench_photo, "mnist-cli": bench_mnist_cli}[arguments.which](arguments)
