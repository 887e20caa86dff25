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

from devkit.harness import free_port
from model.reading.predictor import Predictor
from scripts.bench.common import ROOT, mnist_test, phone_jpeg, status_mb, unit_vectors, with_model


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = with_model(sub.add_parser("bot", help="reply latency and throughput with concurrent users, RSS"))
    parser.add_argument("--users", type=int, default=8, help="concurrent users, each sending a photo after each answer")
    parser.add_argument("--rounds", type=int, default=25, help="photos per user in the measured run")
    parser.add_argument("--think", type=float, default=1.0, help="seconds a user looks at an answer before the next photo")
    parser.add_argument("--memory", choices=["on", "off"], default="on", help="MEMORY for the bot")
    parser.add_argument("--remembered", type=int, default=0, help="corrected digits each measured user has in memory")
    parser.add_argument("--bot-python", default=sys.executable, help="interpreter that runs the bot (e.g. a serving venv, no torch)")
    parser.add_argument("--database-url", default="", help="the database the bot uses (default: SQLite in a temporary folder)")
    parser.add_argument(
        "--bot", choices=["digitbot", "fixed"], default="digitbot", help="fixed: devkit.fixed_reply_bot, the harness's ceiling (no model)"
    )
    parser.set_defaults(run=lambda args: asyncio.run(run(args)))


def start_bot(python: str, env: dict[str, str], cwd: str, module: str) -> subprocess.Popen[bytes]:
    malloc = {name: value for name, value in os.environ.items() if name.startswith("MALLOC_")}  # glibc tuning, passed on
    return subprocess.Popen([python, "-m", module], cwd=cwd, env={"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), **malloc, **env})


def cpu_seconds(pid: int) -> float:
    """User and system CPU a process has used (/proc/<pid>/stat, fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run(args: argparse.Namespace) -> None:
    from devkit.fake_telegram import TOKEN, FakeTelegram

    images, _ = mnist_test(args)
    photos = [phone_jpeg(images, seed) for seed in range(8)]
    fake = FakeTelegram()
    await fake.start()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {"BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": fake.api_url, "TELEGRAM_FILE_URL": fake.file_url, **bot_settings(args, tmp, port)}
        await _schema(args, Path(tmp))
        bot = start_bot(args.bot_python, env, tmp, "bot" if args.bot == "digitbot" else "devkit.fixed_reply_bot")
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
            rss_before, stages_before = status_mb(bot.pid, "VmRSS"), await _stages(port, args.bot)
            started, cpu_before = time.monotonic(), (cpu_seconds(bot.pid), time.process_time())
            await asyncio.gather(*(user(9100 + u, args.rounds, True) for u in range(args.users)))
            elapsed, cpu_after = time.monotonic() - started, (cpu_seconds(bot.pid), time.process_time())
            rss_after, stages_after = status_mb(bot.pid, "VmRSS"), await _stages(port, args.bot)
        finally:
            bot.terminate()
            await asyncio.to_thread(bot.wait, 60)  # the fake must keep answering while the bot stops
            await fake.stop()
    cpu = tuple(a - b for a, b in zip(cpu_after, cpu_before, strict=True))
    _print(args, np.array(latencies) * 1000, elapsed, (rss_before, rss_after), cpu)
    _print_stages(stages_before, stages_after, len(latencies))


def bot_settings(args: argparse.Namespace, data_dir: str, health_port: int) -> dict[str, str]:
    """The bot's environment besides Telegram's addresses: no rate limit of the bot's own, metrics on ``health_port``."""
    return {
        "DATA_DIR": data_dir,
        "RATE_LIMIT_PER_MINUTE": "100000",
        "LOG_LEVEL": "WARNING",
        "MEMORY": "true" if args.memory == "on" else "false",
        "HEALTH_PORT": str(health_port),
        **({"DATABASE_URL": args.database_url} if args.database_url else {}),
    }


def _print(args: argparse.Namespace, ms: np.ndarray, elapsed: float, rss: tuple[float, float], cpu: tuple[float, ...]) -> None:
    pace = f"{args.think:g} s after each answer" if args.think else "the moment it is answered (saturation)"
    print(f"{args.bot}: {args.users} users x {args.rounds} photos (1280x960 JPEG), each user sending the next photo {pace}")
    print(f"  replies {len(ms)} in {elapsed:.1f} s = {len(ms) / elapsed:.1f} photos/s")
    p50, p90, p99 = np.percentile(ms, [50, 90, 99])
    print(f"  latency ms: p50 {p50:.0f}, p90 {p90:.0f}, p99 {p99:.0f}, max {ms.max():.0f}")
    print(f"  bot RSS: {rss[0]:.0f} MB after warm-up, {rss[1]:.0f} MB after the run")
    bot_cpu, harness_cpu = (1000 * seconds / len(ms) for seconds in cpu)
    cores = 1000 * (os.cpu_count() or 1) * elapsed / len(ms)
    print(f"  CPU ms per photo: bot {bot_cpu:.1f}, harness (fake Bot API, users) {harness_cpu:.1f}, of {cores:.1f} the cores had")


WAITING = ("lane", "read_wait", "turn")
"""Stages where a photo waits: for an inference worker, its chat's lane, its turn (the rate limit's slot, the sending window)."""


Stages = dict[str, dict[str, float]]
"""Per stage: ``sum``, ``count`` and each bucket's cumulative count (keyed by its bound, as /metrics writes it)."""


async def _stages(port: int, bot: str) -> Stages:
    """The photo path's stage histograms, from the bot's own ``/metrics``."""
    import aiohttp

    if bot != "digitbot":
        return {}
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/metrics") as response:
        text = await response.text()
    found: Stages = {}
    for line in text.splitlines():
        if not line.startswith("digitbot_photo_stage_seconds_"):
            continue
        head, value = line.rsplit(" ", 1)
        kind, labels = head[len("digitbot_photo_stage_seconds_") :].rstrip("}").split("{", 1)
        tags = dict(part.split("=", 1) for part in labels.split(","))
        key = kind if kind != "bucket" else tags["le"].strip('"')
        found.setdefault(tags["stage"].strip('"'), {})[key] = float(value)
    return found


def _print_stages(before: Stages, after: Stages, photos: int) -> None:
    """Per photo of the measured run, in the order a photo meets the stages: the mean ms in each,
    waiting or working, and the bucket bound under which 99% of its times fell (where tails form)."""
    order = ("inbox", "admit", "download", "memory", "read_wait", "read", "store", "draw", "lane", "turn", "send", "commit", "done")
    print("  per stage (mean ms per photo, p99 <= bucket bound; * = waiting):")
    row = []
    for name in order:
        ran = {key: value - before.get(name, {}).get(key, 0.0) for key, value in after.get(name, {}).items()}
        if ran.get("count"):
            bounds = sorted((key for key in ran if key not in ("sum", "count", "created")), key=float)
            bound = next(key for key in bounds if ran[key] >= 0.99 * ran["count"])
            row.append(f"{name}{'*' if name in WAITING else ''} {1000 * ran['sum'] / max(photos, 1):.1f} (p99 <= {float(bound) * 1000:g})")
    print("    " + ", ".join(row))


async def _schema(args: argparse.Namespace, data_dir: Path) -> None:
    """The database made beforehand, as every start after a deployment's first finds it."""
    from bot.config import database_url
    from bot.storage import Storage

    storage = Storage(database_url(args.database_url, data_dir))
    try:
        await storage.migrate()
    finally:
        await storage.close()


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
                new = NewPrediction(user, user, 10**6 + i, version, "7", {"digits": [], "confidence": 0.5}, b"x", "0" * 64, bytes(784))
                prediction_id = await storage.save_prediction(new, utcnow())
                assert prediction_id is not None
                memory = NewMemory(version, int(rng.integers(10)), unit_vectors(rng, 1)[0].tobytes(), bytes(784))
                await storage.record_correction(prediction_id, user, "1", [memory])
    finally:
        await storage.close()
    print(f"  {args.remembered} remembered digits for each of {len(users)} users")
