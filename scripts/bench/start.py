"""``start``: a cold start of ``python -m bot`` against the fake Bot API: seconds from the process's
start to ready (model loaded, database migrated, commands set) and to its first answer, and its
resident memory then. Each run starts from nothing: a new process, database and fake Bot API."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time

import numpy as np

from devkit.harness import free_port
from scripts.bench.bot import bot_settings, start_bot
from scripts.bench.common import mnist_test, phone_jpeg, status_mb, with_model


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = with_model(sub.add_parser("start", help="seconds from `python -m bot` to ready and to a first answer"))
    parser.add_argument("--runs", type=int, default=5, help="cold starts to time")
    parser.add_argument("--bot-python", default=sys.executable, help="interpreter that runs the bot (e.g. a venv of the serving install)")
    parser.set_defaults(run=lambda args: asyncio.run(run(args)), memory="on", database_url="")


async def one_start(python: str, settings: argparse.Namespace, photo: bytes, data_dir: str, user: int) -> tuple[float, float, float]:
    """Seconds to ready and to the first answer (a photo from ``user``: each start's own chat, as message ids
    start again with each fake Telegram), and RSS (MB) at ready, of one new bot process on ``data_dir``."""
    from devkit.fake_telegram import TOKEN, FakeTelegram

    fake = FakeTelegram()
    await fake.start()
    env = {"BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": fake.api_url, "TELEGRAM_FILE_URL": fake.file_url}
    started = time.monotonic()
    bot = start_bot(python, {**env, **bot_settings(settings, data_dir, free_port())}, data_dir, "bot")
    try:
        await fake.wait_for(lambda c: c.method == "setMyCommands", timeout=120)
        ready, rss = time.monotonic() - started, status_mb(bot.pid, "VmRSS")
        await fake.reply_to(fake.send_photo(user, photo), timeout=60)
        answered = time.monotonic() - started
    finally:
        bot.terminate()
        await asyncio.to_thread(bot.wait, 60)
        await fake.stop()
    return ready, answered, rss


async def run(args: argparse.Namespace) -> None:
    """The first start on a new database (it creates the schema), then restarts on the same one."""
    images, _ = mnist_test(args)
    photo = phone_jpeg(images, 0)
    with tempfile.TemporaryDirectory() as data_dir:
        runs = np.array([await one_start(args.bot_python, args, photo, data_dir, 9000 + run) for run in range(args.runs)])
    print(f"python -m bot ({args.bot_python}), {args.runs} cold starts: the first on a new database, then restarts")
    for column, what in enumerate(["to ready (model loaded, commands set), s", "to the first answer, s", "RSS at ready, MB"]):
        first, again = runs[0, column], runs[1:, column]
        restarts = f"; restarts: median {np.median(again):.2f}, min {again.min():.2f}, max {again.max():.2f}" if len(again) else ""
        print(f"  {what}: first {first:.2f}{restarts}")
