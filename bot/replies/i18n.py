"""The user's language: gettext catalogs (``bot/replies/locale``, compiled with Babel), English as the fallback.

Telegram tells the bot each user's ``language_code`` ("pt-br", "es-419", "ru"...); the part
before the dash picks the catalog. Messages are English msgids in ``bot.replies.texts``, marked
with :func:`N_` where they are defined and translated where they are sent. Bot commands
themselves stay English, as Telegram users type them.

    pybabel extract -F babel.cfg -k N_ -o bot/replies/locale/digitbot.pot .
    pybabel update -i bot/replies/locale/digitbot.pot -d bot/replies/locale -D digitbot
    pybabel compile -d bot/replies/locale -D digitbot
"""

from __future__ import annotations

import functools
import gettext
from pathlib import Path

LOCALE = Path(__file__).resolve().parent / "locale"
DOMAIN = "digitbot"
LANGUAGES = ("en", "es", "ru", "de", "pt", "hi")
"""English first: it is the source language and the fallback."""

Translations = gettext.NullTranslations


def N_(message: str) -> str:
    """Marks a message for extraction; it is translated where it is sent, in the reader's language."""
    return message


ENGLISH = gettext.NullTranslations()


def translations(language_code: str | None) -> Translations:
    """The catalog for a Telegram ``language_code``; English for none or one not translated."""
    language = (language_code or "en").split("-")[0].lower()
    return _catalog(language) if language in LANGUAGES and language != "en" else ENGLISH


@functools.cache
def _catalog(language: str) -> Translations:
    """Read once per language (the cache holds at most one entry per catalog, whatever clients send)."""
    return gettext.translation(DOMAIN, LOCALE, languages=[language])
