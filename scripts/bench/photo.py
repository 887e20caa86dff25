"""``photo``: ms per 1280x960 JPEG against Pillow's bare decode; photos/s on 2 cores.
``mnist-cli``: MNIST test accuracy through ``python -m model.predict --json``."""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
from PIL import Image

from model.reading.predictor import Predictor
from scripts.bench.common import mnist_test, phone_jpeg, timed, with_model


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = with_model(sub.add_parser("photo", help="ms per 1280x960 JPEG vs Pillow's bare decode; photos/s"))
    parser.add_argument("--digits", type=int, default=2, help="how many digits each photo's number has (5: the number reader's figure)")
    parser.set_defaults(run=photo)
    with_model(sub.add_parser("mnist-cli", help="MNIST test through the CLI")).set_defaults(run=mnist_cli)


def _bare_decode(data: bytes) -> None:
    Image.open(io.BytesIO(data)).load()


def _worker(args: tuple[str, list[bytes]]) -> int:
    predictor = Predictor.load(args[0])
    for data in args[1]:
        predictor.predict(data)
    return len(args[1])


def photo(args: argparse.Namespace) -> None:
    predictor = Predictor.load(args.model)
    images, _ = mnist_test(args)
    photos = [phone_jpeg(images, seed, args.digits) for seed in range(8)]
    decode = np.mean([timed(partial(_bare_decode, d), 20) for d in photos])
    full = np.mean([timed(partial(predictor.predict, d), 20) for d in photos])
    transform = np.mean([timed(partial(predictor.transform, d), 20) for d in photos])
    print(f"1280x960 JPEG of {args.digits} digits, single thread, median over 20 runs x {len(photos)} photos, model {predictor.version}")
    print(f"  Pillow bare decode        {decode:7.2f} ms")
    print(f"  transform (incl. decode)  {transform:7.2f} ms")
    print(f"  predict (decode+transform+CNN) {full:7.2f} ms  = {full / decode:.2f}x bare decode, {1000 / full:.1f} photos/s")
    per_worker = [photos * 25, photos * 25]
    start = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(2) as pool:
        done = sum(pool.map(_worker, [(args.model, chunk) for chunk in per_worker]))
    elapsed = time.perf_counter() - start
    print(f"  2 processes x 1 thread: {done} photos in {elapsed:.1f} s = {done / elapsed:.1f} photos/s (including model load)")


def mnist_cli(args: argparse.Namespace) -> None:
    images, labels = mnist_test(args)
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
