"""``decode``: memory of huge palette PNGs (the 100 KB decompression bomb), one and four at once, each in a fresh process."""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from devkit.photos import palette_png
from model.reading.predictor import Predictor
from model.reading.transform import ImageError
from scripts.bench.common import mnist_test, phone_jpeg, status_mb, timed, with_model


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    with_model(sub.add_parser("decode", help="memory of huge PNGs, one and four at once")).set_defaults(run=run)


def _case(model: str, photos: list[bytes], normal: bytes) -> dict[str, Any]:
    """In a fresh process: RSS before, peak while reading ``photos`` at once, RSS after, and a normal photo's time."""
    predictor = Predictor.load(model)
    normal_ms = timed(lambda: predictor.predict(normal), 5)
    before = status_mb(os.getpid(), "VmRSS")

    def read(data: bytes) -> str:
        try:
            return predictor.predict(data).number or "no digit"
        except ImageError as err:
            return f"refused: {err}"

    start = time.perf_counter()
    with ThreadPoolExecutor(len(photos)) as pool:
        outcomes = list(pool.map(read, photos))
    seconds = time.perf_counter() - start
    return {
        "before": before,
        "peak": status_mb(os.getpid(), "VmHWM"),
        "after": status_mb(os.getpid(), "VmRSS"),
        "seconds": seconds,
        "normal_ms": normal_ms,
        "normal_after_ms": timed(lambda: predictor.predict(normal), 5),
        "outcome": outcomes[0],
    }


def run(args: argparse.Namespace) -> None:
    images, _ = mnist_test(args)
    normal = phone_jpeg(images, 1)
    cases = {
        "9400x9400 palette PNG": [palette_png(9400)],
        "9400x9400 palette PNG with transparency": [palette_png(9400, transparency=True)],
        "4 x 9400x9400 palette PNGs at once": [palette_png(9400, transparency=i % 2 == 1) for i in range(4)],
        "6000x6000 palette PNG of a 3 (36 MP, read)": [palette_png(6000, images[18], transparency=True)],
        "4 x 6000x6000 palette PNGs at once": [palette_png(6000, images[18], transparency=True)] * 4,
    }
    context = multiprocessing.get_context("spawn")
    for name, photos in cases.items():
        with context.Pool(1) as pool:
            r = pool.apply(_case, (args.model, photos, normal))
        size = sum(len(p) for p in photos) // 1024
        print(f"{name} ({size} KB): {r['outcome']!r} in {r['seconds']:.2f} s")
        print(
            f"  RSS {r['before']:.0f} MB before, peak +{r['peak'] - r['before']:.0f} MB, after +{r['after'] - r['before']:.0f} MB;"
            f" a normal photo {r['normal_ms']:.1f} ms before, {r['normal_after_ms']:.1f} ms after"
        )
