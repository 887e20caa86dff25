"""Run the real Application against the fake Bot API, the way ``run_polling`` does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from telegram.ext import Application

from bot.app import ALLOWED_UPDATES, build, webhook_options
from bot.config import Settings
from tests.fake_telegram import TOKEN, FakeTelegram


def settings_for(fake: FakeTelegram, data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "bot_token": TOKEN,
        "telegram_api_url": fake.api_url,
        "telegram_file_url": fake.file_url,
        "data_dir": data_dir,
        "admin_ids": "1",
        "model_check_seconds": 0,
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
