"""``python -m bot``: read the settings, then poll (default) or serve the webhook until SIGTERM or Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys

from pydantic import ValidationError
from telegram import Bot
from telegram.error import InvalidToken, NetworkError

from bot.app import ALLOWED_UPDATES, build, webhook_options
from bot.config import Settings
from bot.context import BotApplication
from bot.ops import logs
from model.reading import registry

log = logging.getLogger("bot")


def load_settings() -> Settings:
    """Settings, or one line naming what is wrong (never the values: one may be the token)."""
    try:
        return Settings()
    except ValidationError as err:
        first = err.errors()[0]
        name = "_".join(str(part) for part in first["loc"]).upper() or "settings"
        if first["type"] == "missing" or "is not set" in first["msg"]:
            sys.exit(f"error: {name} is not set (export it or put it in .env; a bot token comes from @BotFather)")
        sys.exit(f"error: {name}: {first['msg']}")


async def reach_telegram(settings: Settings) -> bool:
    """Wait until Telegram answers (a blip at boot, a proxy not up yet), one line per try; False if
    it rejects the token. Afterwards PTB's own retries (``bootstrap_retries=-1``) take over."""
    bot = Bot(settings.bot_token.get_secret_value(), base_url=settings.telegram_api_url, base_file_url=settings.telegram_file_url)
    delay = 1.0
    while True:
        try:
            async with bot:
                return True
        except InvalidToken:
            log.error("Telegram rejected BOT_TOKEN (%s): check the token from @BotFather", settings.telegram_api_url)
            return False
        except NetworkError as err:
            log.warning("Telegram not reachable at %s (%s); trying again in %.0f s", settings.telegram_api_url, err, delay)
        await asyncio.sleep(delay)
        delay = min(2 * delay, 60.0)


INTERRUPTED = 130
"""The exit status of a program stopped by Ctrl-C (128 + SIGINT), as shells expect."""


def main() -> None:
    """Run until SIGTERM (exit 0) or Ctrl-C (one line, exit 130), whatever start-up is doing then.

    PTB stops gracefully on the KeyboardInterrupt Ctrl-C raises; SIGINT is left to this handler
    (not to PTB's stop signals) so that a Ctrl-C while Telegram is still being reached, or while
    the model loads, stops just as cleanly."""
    interrupted: list[int] = []

    def on_interrupt(signum: int, frame: object) -> None:
        interrupted.append(signum)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_interrupt)
    with contextlib.suppress(KeyboardInterrupt):
        run(interrupted)
    if interrupted:
        print("digitbot: stopped (Ctrl-C)", file=sys.stderr)
        sys.exit(INTERRUPTED)


def run(interrupted: list[int]) -> None:
    settings = load_settings()
    logs.setup(settings.bot_token.get_secret_value(), settings.log_format, settings.log_level)
    if not asyncio.run(reach_telegram(settings)):
        if settings.on_rejected_token == "wait":
            _idle()
        sys.exit(2)
    application = build(settings)
    _stop_gracefully_on_ctrl_c(application, interrupted)
    try:
        if settings.mode == "webhook":
            application.run_webhook(**webhook_options(settings), bootstrap_retries=-1, stop_signals=(signal.SIGTERM,))
        else:
            application.run_polling(allowed_updates=ALLOWED_UPDATES, bootstrap_retries=-1, stop_signals=(signal.SIGTERM,))
    except registry.NotExported:  # said in the log by the reader, with the command that exports it
        sys.exit(2)


def _idle() -> None:
    """Do nothing until a signal ends the process (SIGTERM's default action, or Ctrl-C): a supervisor
    that restarts what exits would otherwise start a bot Telegram refuses again and again."""
    log.error("digitbot is idle: fix BOT_TOKEN and restart it (ON_REJECTED_TOKEN=wait)")
    while True:
        signal.pause()


def _stop_gracefully_on_ctrl_c(application: BotApplication, interrupted: list[int]) -> None:
    """Once the bot is up, Ctrl-C stops it as SIGTERM does, through PTB's graceful shutdown (updates in
    hand finish, the database closes), instead of an exception thrown into whatever ran then: thrown
    into a database call, it left aiosqlite's thread answering a closed event loop, with a traceback."""
    started = application.post_init

    async def post_init(app: BotApplication) -> None:
        if started is not None:
            await started(app)

        def on_interrupt() -> None:
            interrupted.append(signal.SIGINT)
            app.stop_running()

        asyncio.get_running_loop().add_signal_handler(signal.SIGINT, on_interrupt)

    application.post_init = post_init


if __name__ == "__main__":
    main()
