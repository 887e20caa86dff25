"""Speaking to the sender of an update: in their language, as HTML."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode

from bot.replies.i18n import Translations, translations


def tr_of(update: Update) -> Translations:
    """The catalog of whoever sent this update (their Telegram app's language)."""
    user = update.effective_user
    return translations(user.language_code if user is not None else None)


async def say(update: Update, message: str) -> None:
    """Reply with one of ``replies``' messages, in the sender's language."""
    await reply(update, tr_of(update).gettext(message))


async def reply(update: Update, text: str) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML)
