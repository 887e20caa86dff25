"""``export``: peak memory of the retraining export (1,000 corrections with 2 MB photos).
``press``: database time of a button press on a prediction whose photo is 20 MB."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import multiprocessing
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from bot.config import database_url
from bot.storage import NewPrediction, Storage, utcnow
from scripts.bench.common import status_mb


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    export = sub.add_parser("export", help="peak memory of the retraining export")
    export.add_argument("--corrections", type=int, default=1000, help="corrections stored before the run")
    export.set_defaults(run=export_memory)
    press = sub.add_parser("press", help="database time of a button press")
    press.add_argument("--database-url", default="", help="PostgreSQL too, beside SQLite")
    press.set_defaults(run=press_time)


async def _seed_big(url: str, count: int, size: int) -> None:
    storage = Storage(url)
    await storage.migrate()
    rng = np.random.default_rng(0)
    try:
        for i in range(count):
            photo = rng.bytes(size)
            new = NewPrediction(i % 40, i % 40, i, "v", "1", {"confidence": 0.5}, photo, hashlib.sha256(photo).hexdigest(), b"")
            prediction_id = await storage.save_prediction(new, utcnow())
            if prediction_id is not None:
                await storage.record_correction(prediction_id, i % 40, "7")
    finally:
        await storage.close()


def _export_case(url: str, spool: str) -> dict[str, float]:
    from scripts.retrain import export

    before = status_mb(os.getpid(), "VmRSS")
    start = time.perf_counter()
    items = asyncio.run(export(url, Path(spool)))
    return {"count": len(items), "seconds": time.perf_counter() - start, "before": before, "peak": status_mb(os.getpid(), "VmHWM")}


def export_memory(args: argparse.Namespace) -> None:
    count, size = args.corrections, 2 * 1024 * 1024
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bot.sqlite3"
        asyncio.run(_seed_big(url, count, size))
        spool = Path(tmp) / "spool"
        spool.mkdir()
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            r = pool.apply(_export_case, (url, str(spool)))
    print(f"export of {r['count']:.0f} corrections with {size >> 20} MB photos (SQLite): {r['seconds']:.1f} s")
    print(f"  RSS {r['before']:.0f} MB before, peak {r['peak']:.0f} MB (+{r['peak'] - r['before']:.0f} MB)")


async def _press(url: str, rounds: int) -> list[float]:
    """What a keypad press asks of the database: the prediction by id, then the correction's upsert."""
    storage = Storage(url)
    await storage.migrate()
    try:
        photo = np.random.default_rng(1).bytes(20 * 1024 * 1024)
        new = NewPrediction(1, 1, 1, "v", "7", {"digits": [], "confidence": 0.9}, photo, hashlib.sha256(photo).hexdigest(), bytes(784))
        prediction_id = await storage.save_prediction(new, utcnow())
        assert prediction_id is not None
        times = []
        for i in range(rounds):
            start = time.perf_counter()
            await storage.prediction(prediction_id)
            await storage.record_correction(prediction_id, 1, str(i % 10))
            times.append(time.perf_counter() - start)
        return times
    finally:
        await storage.close()


def press_time(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for name, url in (("SQLite", f"sqlite+aiosqlite:///{tmp}/bot.sqlite3"), ("PostgreSQL", args.database_url)):
            if not url:
                continue
            ms = np.array(asyncio.run(_press(database_url(url, Path(tmp)), 200))) * 1000
            p50, p99 = np.percentile(ms, [50, 99])
            print(f"button press, prediction with a 20 MB photo ({name}, 200 presses): database time p50 {p50:.1f} ms, p99 {p99:.1f} ms")
