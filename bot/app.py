"""Build the one Application: settings in, handlers wired, model and database opened in post_init."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from urllib.parse import urlsplit

from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.config import Settings
from bot.context import CONTEXT_TYPES, BotApplication, BotContext, Services
from bot.delivery.inbox import Finisher, Inbox
from bot.delivery.ratelimit import FairRateLimiter
from bot.delivery.sending import Delivery
from bot.handlers import admin, feedback, photos
from bot.health import HealthServer
from bot.ops import tls
from bot.reading.inference import Reader, Shipped
from bot.reading.memory import MemoryCache
from bot.replies import texts
from bot.replies.i18n import LANGUAGES, translations
from bot.storage import Storage

log = logging.getLogger(__name__)


def build(settings: Settings, request: BaseRequest | None = None) -> BotApplication:
    """The Application as ``python -m bot`` runs it; ``request`` replaces its HTTP client (tests
    pass one that answers in-process, the way python-telegram-bot's own suite runs offline)."""
    shipped = Shipped(settings.shipped_models, settings.follow_shipped)
    reader = Reader(settings.model_path, settings.inference_workers, shipped)
    storage = Storage(settings.database, settings.database_timeout)
    # Replicas on PostgreSQL pace their sends together, on connections of their own: an answer never
    # waits for a connection the handlers' queries hold.
    budgets = Storage(settings.database, settings.database_timeout) if storage.shared_by_replicas else None
    limiter = FairRateLimiter(max_retries=3, shared=budgets)
    inbox = Inbox(storage, dt.timedelta(seconds=settings.replica_silence_seconds))
    delivery = Delivery(storage, limiter, settings.answers_in_flight)
    builder = (
        ApplicationBuilder()
        .context_types(CONTEXT_TYPES)
        .token(settings.bot_token.get_secret_value())
        .base_url(settings.telegram_api_url)
        .base_file_url(settings.telegram_file_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML, do_quote=True, allow_sending_without_reply=True))
        .update_queue(inbox)
        .concurrent_updates(Finisher(storage, 64, delivery.left_with_its_answer))
        .rate_limiter(limiter)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    application = builder.build()
    application.bot_data.services = Services(settings, storage, reader, MemoryCache(storage, reader), delivery)
    application.bot_data.inbox = inbox
    if settings.health_port:
        application.bot_data.health = HealthServer(storage, reader, settings.health_host, settings.health_port)
    add_handlers(application)
    return application


NEW = filters.UpdateType.MESSAGE
"""Only new messages are read: an edited caption is not a new photo, and channel posts are not ours to answer."""


PRIVATE = filters.ChatType.PRIVATE
"""What is not a question for the bot gets a hint only in a private chat: in a group it is someone else's conversation."""


def add_handlers(application: BotApplication) -> None:
    application.add_handler(TypeHandler(Update, photos.count_update), group=-1)
    for name, callback in (
        ("start", photos.start),
        ("help", photos.help_command),
        ("forget", photos.forget),
        ("stats", admin.stats),
        ("reload", admin.reload_model),
        ("read", photos.read_command),
    ):
        application.add_handler(CommandHandler(name, callback, filters=NEW))
    application.add_handler(MessageHandler(NEW & PRIVATE & filters.COMMAND, photos.unknown_command))
    application.add_handler(MessageHandler(NEW & (filters.PHOTO | filters.Document.IMAGE), photos.photo))
    application.add_handler(MessageHandler(NEW & PRIVATE & filters.Document.ALL, photos.not_an_image))
    application.add_handler(CallbackQueryHandler(feedback.button))
    application.add_handler(MessageHandler(NEW & filters.TEXT & filters.REPLY, feedback.typed_correction))
    application.add_handler(MessageHandler(NEW & PRIVATE & ~filters.StatusUpdate.ALL, photos.not_a_photo))
    application.add_error_handler(photos.on_error)


async def _post_init(application: BotApplication) -> None:
    svc = application.bot_data.services
    await svc.storage.migrate()
    await svc.reader.load()
    await application.bot_data.inbox.resume(application.bot)
    for language in LANGUAGES:  # English is also the default, for languages without a catalog
        tr = translations(language)
        commands = [BotCommand(name, tr.gettext(text)) for name, text in texts.COMMANDS]
        await application.bot.set_my_commands(commands, language_code=None if language == "en" else language)
    if application.job_queue is not None and svc.settings.model_check_seconds > 0:
        application.job_queue.run_repeating(_check_model, interval=svc.settings.model_check_seconds, first=svc.settings.model_check_seconds)
    if application.job_queue is not None and svc.storage.shared_by_replicas:
        beat = svc.settings.replica_silence_seconds / 3
        application.job_queue.run_repeating(_beat, interval=beat, first=beat)
    if application.bot_data.health is not None:
        await application.bot_data.health.start()
    log.info("ready: model %s, database %s, mode %s", svc.reader.version, svc.storage.engine.dialect.name, svc.settings.mode)


async def _check_model(context: BotContext) -> None:
    await context.services.reader.reload_if_changed()


async def _beat(context: BotContext) -> None:
    try:
        await context.application.bot_data.inbox.beat(context.bot)
    except Exception:
        log.warning("no heartbeat: siblings may take this replica's updates for a stopped one's", exc_info=True)


async def _post_shutdown(application: BotApplication) -> None:
    svc = application.bot_data.services
    await application.bot_data.inbox.leave()
    if application.bot_data.health is not None:
        await application.bot_data.health.stop()
    svc.reader.close()
    await svc.storage.close()
    log.info("stopped cleanly")


ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
WEBHOOK_PATH = "telegram"


def webhook_options(settings: Settings) -> dict[str, Any]:
    """What run_webhook (and the tests' start_webhook) get. Telegram proves itself with the secret
    header; the bot listens on plain HTTP behind a TLS-terminating proxy (``WEBHOOK_TLS=proxy``), or
    serves HTTPS itself with a certificate that python-telegram-bot uploads with setWebhook."""
    options: dict[str, Any] = {
        "listen": settings.webhook_listen,
        "port": settings.webhook_port,
        "url_path": WEBHOOK_PATH,
        "webhook_url": settings.webhook_url.rstrip("/") + "/" + WEBHOOK_PATH,
        "secret_token": settings.webhook_secret.get_secret_value(),
        "allowed_updates": ALLOWED_UPDATES,
    }
    if settings.webhook_tls == "self-signed":
        host = urlsplit(settings.webhook_url).hostname or "localhost"
        options["cert"], options["key"] = tls.self_signed(settings.data_dir, host)
    elif settings.webhook_tls == "files":
        options["cert"], options["key"] = settings.webhook_cert, settings.webhook_key
    return options
