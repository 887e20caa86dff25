"""``bot``: ``python -m bot`` in its own process against the fake Bot API, on the same 2 cores:
replies per second, latency percentiles and the bot's resident memory."""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from model.reading.predictor import Predictor
from scripts.bench.common import ROOT, mnist_test, phone_jpeg, status_mb, unit_vectors, with_model


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = with_model(sub.add_parser("bot", help="reply latency and throughput with concurrent users, RSS"))
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=25, help="photos per user in the measured run")
    parser.add_argument("--think", type=float, default=1.0, help="seconds a user looks at an answer before the next photo")
    parser.add_argument("--memory", choices=["on", "off"], default="on", help="MEMORY for the bot")
    parser.add_argument("--remembered", type=int, default=0, help="corrected digits each measured user has in memory")
    parser.add_argument("--bot-python", default=sys.executable, help="interpreter that runs the bot (e.g. a venv with CPU-only torch)")
    parser.add_argument("--database-url", default="", help="the database the bot uses (default: SQLite in a temporary folder)")
    parser.set_defaults(run=lambda args: asyncio.run(run(args)))


def start_bot(python: str, env: dict[str, str], cwd: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([python, "-m", "bot"], cwd=cwd, env={"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), **env})


async def run(args: argparse.Namespace) -> None:
    from devkit.fake_telegram import TOKEN, FakeTelegram

    images, _ = mnist_test(args)
    photos = [phone_jpeg(images, seed) for seed in range(8)]
    fake = FakeTelegram()
    await fake.start()
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": fake.api_url,
            "TELEGRAM_FILE_URL": fake.file_url,
            "DATA_DIR": tmp,
            "RATE_LIMIT_PER_MINUTE": "100000",
            "LOG_LEVEL": "WARNING",
            "MEMORY": "true" if args.memory == "on" else "false",
            "HEALTH_PORT": str(port),
            **({"DATABASE_URL": args.database_url} if args.database_url else {}),
        }
        bot = start_bot(args.bot_python, env, tmp)
        try:
            await fake.wait_for(lambda c: c.method == "setMyCommands", timeout=120)
            if args.remembered:
                await _remember(args, Path(tmp), [9100 + u for u in range(args.users)])
            latencies: list[float] = []

            async def user(uid: int, rounds: int, record: bool) -> None:
                for r in range(rounds):
                    start = time.monotonic()
                    message = fake.send_photo(uid, photos[(uid + r) % len(photos)])
                    answer = await fake.reply_to(message, timeout=60)
                    if record:
                        latencies.append(answer.at - start)
                        await asyncio.sleep(args.think)

            await asyncio.gather(*(user(9000 + u, 3, False) for u in range(args.users)))
            rss_before, stages_before = status_mb(bot.pid, "VmRSS"), await _stages(port)
            started = time.monotonic()
            await asyncio.gather(*(user(9100 + u, args.rounds, True) for u in range(args.users)))
            elapsed = time.monotonic() - started
            rss_after, stages_after = status_mb(bot.pid, "VmRSS"), await _stages(port)
        finally:
            bot.terminate()
            await asyncio.to_thread(bot.wait, 60)  # the fake must keep answering while the bot stops
            await fake.stop()
    _print(args, np.array(latencies) * 1000, elapsed, rss_before, rss_after)
    _print_stages(stages_before, stages_after, len(latencies))


def _print(args: argparse.Namespace, ms: np.ndarray, elapsed: float, rss_before: float, rss_after: float) -> None:
    pace = f"{args.think:g} s after each answer" if args.think else "the moment it is answered (saturation)"
    print(f"bot: {args.users} users x {args.rounds} photos (1280x960 JPEG), each user sending the next photo {pace}")
    print(f"  replies {len(ms)} in {elapsed:.1f} s = {len(ms) / elapsed:.1f} photos/s")
    p50, p90, p99 = np.percentile(ms, [50, 90, 99])
    print(f"  latency ms: p50 {p50:.0f}, p90 {p90:.0f}, p99 {p99:.0f}, max {ms.max():.0f}")
    print(f"  bot RSS: {rss_before:.0f} MB after warm-up, {rss_after:.0f} MB after the run")


WAITING = ("lane", "read_wait")
"""Stages where a photo waits for its turn (the answer lane, an inference worker); in the others it is worked on."""


async def _stages(port: int) -> dict[str, tuple[float, float]]:
    """(total seconds, count) per stage of the photo path, from the bot's own ``/metrics``."""
    import aiohttp

    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/metrics") as response:
        text = await response.text()
    found: dict[str, list[float]] = {}
    for line in text.splitlines():
        for field, slot in (("_sum", 0), ("_count", 1)):
            prefix = f'digitbot_photo_stage_seconds{field}{{stage="'
            if line.startswith(prefix):
                name, value = line[len(prefix) :].split('"}', 1)
                found.setdefault(name, [0.0, 0.0])[slot] = float(value)
    return {name: (total, count) for name, (total, count) in found.items()}


def _print_stages(before: dict[str, tuple[float, float]], after: dict[str, tuple[float, float]], photos: int) -> None:
    """Per photo of the measured run: mean ms in each stage, waiting and working, in the order a photo meets them."""
    order = ("inbox", "admit", "download", "memory", "read_wait", "read", "store", "draw", "lane", "send", "commit", "done")
    print("  per stage (mean ms per photo; * = waiting):")
    row = []
    for name in order:
        total, count = after.get(name, (0.0, 0.0))
        total -= before.get(name, (0.0, 0.0))[0]
        count -= before.get(name, (0.0, 0.0))[1]
        if count:
            row.append(f"{name}{'*' if name in WAITING else ''} {1000 * total / max(photos, 1):.1f}")
    print("    " + ", ".join(row))


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _remember(args: argparse.Namespace, data_dir: Path, users: list[int]) -> None:
    """Give each measured user ``--remembered`` corrected digits (random vectors: the look-up costs the same)."""
    from bot.config import database_url
    from bot.storage import NewMemory, NewPrediction, Storage, utcnow

    version = Predictor.load(args.model).version
    storage = Storage(database_url(args.database_url, data_dir))
    rng = np.random.default_rng(0)
    try:
        for user in users:
            for i in range(args.remembered):
                new = NewPrediction(user, user, 10**6 + i, version, "7", 0.5, {"digits": []}, b"x", "0" * 64, bytes(784), 1)
                prediction_id = await storage.save_prediction(new, utcnow())
                assert prediction_id is not None
                memory = NewMemory(version, int(rng.integers(10)), unit_vectors(rng, 1)[0].tobytes(), bytes(784))
                await storage.record_correction(prediction_id, user, "1", [memory])
    finally:
        await storage.close()
    print(f"  {args.remembered} remembered digits for each of {len(users)} users")
