"""What every handler, job and start/stop hook gets: python-telegram-bot's context, typed.

The services live in one ``BotData`` object (PTB's ``ContextTypes(bot_data=...)``, as in its
``contexttypesbot.py`` example), so a handler reads ``context.services`` with its type known,
instead of looking a key up in a dict and casting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot, JobQueue

from bot.config import Settings
from bot.delivery.inbox import Inbox
from bot.delivery.sending import Delivery
from bot.health import HealthServer
from bot.reading.inference import Reader
from bot.reading.memory import MemoryCache
from bot.storage import Storage


@dataclass(frozen=True)
class Services:
    settings: Settings
    storage: Storage
    reader: Reader
    memory_cache: MemoryCache
    delivery: Delivery
    """The one way an answer is sent (``bot.delivery.sending``)."""


class BotData:
    """Filled once by ``bot.app.build``; PTB creates it empty (it calls the class with no arguments)."""

    services: Services
    inbox: Inbox
    health: HealthServer | None = None


class BotContext(CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], BotData]):
    @property
    def services(self) -> Services:
        return self.bot_data.services


CONTEXT_TYPES = ContextTypes(context=BotContext, bot_data=BotData)
BotApplication = Application[ExtBot[Any], BotContext, dict[Any, Any], dict[Any, Any], BotData, JobQueue[Any]]
