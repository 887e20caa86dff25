"""Run the real Application against the fake Bot API, the way ``run_polling`` does."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from telegram.ext import Application

from bot.app import ALLOWED_UPDATES, build, webhook_options
from bot.config import Settings
from bot.storage import Storage
from devkit.fake_telegram import TOKEN, FakeTelegram
from devkit.local import ROOT


def storage_at(data_dir: Path) -> Storage:
    """The database the bot keeps under ``data_dir`` by default, opened beside it."""
    return Storage(f"sqlite+aiosqlite:///{data_dir / 'digitbot.sqlite3'}")


def buttons(call: Any) -> list[str]:
    """The callback data of the inline keyboard a bot message carries."""
    markup = call.params.get("reply_markup") or {}
    return [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row]


TEST_DEADLINE = 15.0
"""The database deadline of bots under test: a machine busy with a whole suite misses production's
2 s now and then, and a test about something else then fails on it. A test of the deadline itself
passes ``database_timeout``."""


def settings_for(fake: FakeTelegram, data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "bot_token": TOKEN,
        "telegram_api_url": fake.api_url,
        "telegram_file_url": fake.file_url,
        "data_dir": data_dir,
        "admin_ids": "1",
        "model_check_seconds": 0,
        "database_timeout": TEST_DEADLINE,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """initialize -> post_init -> poll or webhook -> start ... stop -> shutdown -> post_shutdown, as run_polling/run_webhook do."""
    application = build(settings)
    await application.initialize()
    assert application.post_init is not None and application.post_shutdown is not None
    await application.post_init(application)
    assert application.updater is not None
    if settings.mode == "webhook":
        await application.updater.start_webhook(**webhook_options(settings))
    else:
        await application.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=ALLOWED_UPDATES)
    await application.start()
    try:
        yield application
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()
        await application.post_shutdown(application)


@asynccontextmanager
async def sandbox() -> AsyncIterator[FakeTelegram]:
    """The whole bot on this machine, for a person to try: the fake Bot API on 127.0.0.1 and the bot
    running against it, its database in a temporary folder that goes with it."""
    fake = FakeTelegram()
    await fake.start()
    try:
        with tempfile.TemporaryDirectory() as data:
            async with running(settings_for(fake, Path(data))):
                yield fake
    finally:
        await fake.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bot_process(fake: FakeTelegram, cwd: Path, **env: str) -> subprocess.Popen[str]:
    """``python -m bot`` as an operator starts it, pointed at the fake Bot API."""
    environment = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT),
        "TELEGRAM_API_URL": fake.api_url,
        "TELEGRAM_FILE_URL": fake.file_url,
    }
    environment.update(env)
    return subprocess.Popen([sys.executable, "-m", "bot"], cwd=cwd, env=environment, stderr=subprocess.PIPE, text=True)
