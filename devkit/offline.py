"""The bot without a network: an HTTP client for python-telegram-bot that hands each call to a
``FakeTelegram`` in the same process, and updates built as Telegram would send them.

Handler tests then run the real Application (filters, handlers, error handler, database)
with no server, port or polling loop: ``application.process_update`` returns when the
handlers are done, so a test reads what the bot sent without waiting for it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.request import BaseRequest, RequestData

from bot.app import build
from bot.context import BotApplication
from devkit.fake_telegram import FakeTelegram
from devkit.harness import settings_for


class OfflineRequest(BaseRequest):
    def __init__(self, fake: FakeTelegram) -> None:
        self.fake = fake

    @property
    def read_timeout(self) -> float | None:
        """Answers are immediate: no call waits."""
        return None

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if "/file/bot" in url:  # a download
            data = self.fake.files.get(url.rsplit("/", 1)[-1])
            return (200, data) if data is not None else (404, b"")
        params = dict(request_data.parameters) if request_data is not None else {}
        files: dict[str, bytes] = {}
        if request_data is not None and request_data.contains_files:
            for name, (_, content, _) in request_data.multipart_data.items():
                files[name] = content if isinstance(content, bytes) else content.read()
        status, body = await self.fake.call(url.rsplit("/", 1)[-1], params, files)
        return status, json.dumps(body).encode()


@asynccontextmanager
async def offline_bot(fake: FakeTelegram, data_dir: Path, **overrides: Any) -> AsyncIterator[BotApplication]:
    """The Application as ``bot.app.build`` makes it, started (``post_init``) and stopped, talking to ``fake`` in-process."""
    application = build(settings_for(fake, data_dir, **overrides), OfflineRequest(fake))
    await application.initialize()
    assert application.post_init is not None and application.post_shutdown is not None
    await application.post_init(application)
    try:
        yield application
    finally:
        await application.shutdown()
        await application.post_shutdown(application)


async def handle(application: BotApplication, fake: FakeTelegram) -> None:
    """Hand the update ``fake`` queued last (``send_message``, ``send_photo``, ``press``...) to the
    handlers; returns when they are done."""
    await application.process_update(Update.de_json(fake.updates[-1], application.bot))
