"""The ceiling for ``scripts.bench bot``: a python-telegram-bot Application that answers every photo
with a fixed text, at once, with no model, no download and no database, through python-telegram-bot's
own rate limiter (``AIORateLimiter``: about 30 messages a second, Telegram's budget for a token).

Run as ``python -m devkit.fixed_reply_bot`` with the bot's own ``BOT_TOKEN``, ``TELEGRAM_API_URL``
and ``TELEGRAM_FILE_URL``: what it manages on the same harness and the same cores is what the
harness and python-telegram-bot alone cost, the most any bot could answer there.
"""

from __future__ import annotations

import os

from telegram import BotCommand, Update
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, MessageHandler, filters


async def _answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_text("7 (99%)", do_quote=True)


async def _ready(application: Application) -> None:  # type: ignore[type-arg]
    """The benchmark starts measuring when a bot sets its commands, as digitbot does once it is up."""
    await application.bot.set_my_commands([BotCommand("start", "start")])


def main() -> None:
    application = (
        ApplicationBuilder()
        .token(os.environ["BOT_TOKEN"])
        .base_url(os.environ["TELEGRAM_API_URL"])
        .base_file_url(os.environ["TELEGRAM_FILE_URL"])
        .concurrent_updates(64)
        .rate_limiter(AIORateLimiter(max_retries=3))
        .post_init(_ready)
        .build()
    )
    application.add_handler(MessageHandler(filters.PHOTO, _answer))
    application.run_polling(allowed_updates=[Update.MESSAGE])


if __name__ == "__main__":
    main()
