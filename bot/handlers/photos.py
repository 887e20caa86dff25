"""Update handlers: plain async functions; what they keep is in the database (``bot.delivery.sending`` holds an answer on its way).

A photo's path is five steps: admit (a crash's replay is answered from what was stored; the
rate limits, the announced size), fetch (the file), read (the predictor in the thread pool, with
the person's memory), store (the prediction committed), answer (with buttons that carry the
prediction's id, which ``bot.handlers.feedback`` handles after a restart and on any replica as
well). ``bot.handlers.admin`` holds the admins' commands.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import logging
import time

import numpy as np
from telegram import Message, MessageEntity, Update, User
from telegram.constants import ChatAction, ChatType
from telegram.error import TelegramError

from bot.context import BotContext, Services
from bot.delivery.sending import Reply
from bot.ops import metrics
from bot.replies import picture, texts
from bot.replies.answer import Answer
from bot.replies.i18n import Translations
from bot.replies.talk import reply, say, tr_of
from bot.storage import Admission, NewPrediction, StoredPrediction
from model.reading.predictor import ImageError, Reading

log = logging.getLogger(__name__)
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/bmp", "image/gif", "image/tiff", "image/heic", "image/heif")


async def start(update: Update, context: BotContext) -> None:
    await say(update, texts.START)


async def help_command(update: Update, context: BotContext) -> None:
    await say(update, texts.HELP)


async def forget(update: Update, context: BotContext) -> None:
    user = update.effective_user
    if user is None:
        return
    message = update.effective_message
    when = message.date if message is not None else dt.datetime.now(dt.UTC)
    count = await context.services.storage.forget_user(user.id, when)
    log.info("forgot user data: %d predictions", count)
    await reply(update, texts.forgotten(count, tr_of(update)))


def _image_file(message: Message) -> tuple[str, int | None] | None:
    """The file to read and its announced size: the largest size of a photo, or an image document."""
    if message.photo:
        largest = message.photo[-1]
        return largest.file_id, largest.file_size
    document = message.document
    if document is not None and (document.mime_type or "") in IMAGE_TYPES:
        return document.file_id, document.file_size
    return None


async def photo(update: Update, context: BotContext) -> None:
    """A photo or an image document: in a private chat always, in a group only when its caption
    mentions the bot (a group's holiday photos are not questions)."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    if message.chat.type != ChatType.PRIVATE and not _mentions(message, context.bot.username):
        return
    await _read(update, context, message, user)


async def read_command(update: Update, context: BotContext) -> None:
    """``/read`` in reply to a photo: how a group asks, and how anyone asks about a photo already sent.

    The one who asks owns the answer: they may correct it, and it is stored as theirs (the
    photo's sender may not know the bot at all, and is not asked to)."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    target = message.reply_to_message
    if target is None or _image_file(target) is None:
        await say(update, texts.READ_WHAT)
        return
    await _read(update, context, target, user)


def _mentions(message: Message, username: str) -> bool:
    mentions = message.parse_caption_entities([MessageEntity.MENTION]).values()
    return any(m.lower() == f"@{username}".lower() for m in mentions)


async def _read(update: Update, context: BotContext, message: Message, user: User) -> None:
    """Read the image of ``message``, store it, answer it with buttons: admit, fetch, read, store,
    answer. The asking update's own message (the photo itself, or a ``/read`` reply to it) keys
    the prediction, so an update handled again after a crash finds it."""
    svc, tr = context.services, tr_of(update)
    asking = update.effective_message
    assert asking is not None
    found = _image_file(message)
    if found is None:
        await reply(update, tr.gettext(texts.NOT_AN_IMAGE))
        return
    with metrics.stage("admit"):
        admitted = await _admission(svc, asking, user)
    if admitted.done is not None:
        await _answer_again(update, context, message, admitted.done, tr)
        return
    if not await _allowed(update, svc, admitted, found[1], tr):
        return
    started = time.perf_counter()
    typing = asyncio.create_task(_typing_after(message, TYPING_AFTER))  # shown only when fetching and reading take long
    try:
        with metrics.stage("download"):
            data = await _fetch(update, context, found[0], tr)
        reading = await _read_photo(update, svc, user, admitted, data, tr) if data is not None else None
    finally:
        typing.cancel()
    if data is None or reading is None:
        return
    answer = Answer.of(reading)
    with metrics.stage("store"):
        prediction_id = await _store(svc, user, asking, reading, answer, data)
    if prediction_id is None:
        await reply(update, texts.answer(answer, svc.settings.low_confidence, tr) + "\n\n" + tr.gettext(texts.NOT_KEPT))
    else:
        await _send_answer(update, context, message, prediction_id, answer, data, tr)
    _count(reading, time.perf_counter() - started, svc.settings.low_confidence)


async def _admission(svc: Services, asking: Message, user: User) -> Admission:
    """One transaction: what a run before a crash stored for this message, else a slot of each rate
    limit (the person's, and a group's own budget, its id < 0), with the person's memory mark."""
    budgets = [user.id] + ([asking.chat_id] if asking.chat.type != ChatType.PRIVATE else [])
    key = svc.memory_cache.key(user.id) if svc.settings.memory else None
    return await svc.storage.admit(asking.chat_id, asking.message_id, budgets, svc.settings.rate_limit_per_minute, 60, key)


async def _answer_again(update: Update, context: BotContext, message: Message, done: StoredPrediction, tr: Translations) -> None:
    """A photo a run before a crash read and stored: answered from what was stored, once (never read
    or stored twice), unless its answer went out before the crash."""
    if done.reply_message_id is not None:
        return
    answer = Answer.from_json(done.details)
    photo = await context.services.storage.photo(done.photo_sha256) if answer.boxed else None
    await _send_answer(update, context, message, done.id, answer, photo, tr)


async def _allowed(update: Update, svc: Services, admission: Admission, size: int | None, tr: Translations) -> bool:
    """Within the rate limits, and not announced larger than allowed; else the person is told."""
    if not admission.allowed:
        await reply(update, texts.slow_down(svc.settings.rate_limit_per_minute, tr))
        return False
    if size is not None and size > svc.settings.max_image_bytes:
        await reply(update, texts.too_big(svc.settings.max_image_bytes, tr))
        return False
    return True


async def _fetch(update: Update, context: BotContext, file_id: str, tr: Translations) -> bytes | None:
    """The file's bytes; None (the person told) when it is larger than announced and than allowed."""
    limit = context.services.settings.max_image_bytes
    data = bytes(await (await context.bot.get_file(file_id)).download_as_bytearray())
    if len(data) > limit:
        await reply(update, texts.too_big(limit, tr))
        return None
    return data


async def _read_photo(update: Update, svc: Services, user: User, admitted: Admission, data: bytes, tr: Translations) -> Reading | None:
    """The model's reading, checked against the person's memory; None (the person told why) for an unreadable file."""
    with metrics.stage("memory"):
        memory = await svc.memory_cache.of(user.id, admitted.memory_mark) if svc.settings.memory else None
    try:
        return await svc.reader.read(data, memory)
    except ImageError as err:
        await reply(update, texts.unreadable(err.kind, tr))
        return None


async def _store(svc: Services, user: User, asking: Message, reading: Reading, answer: Answer, data: bytes) -> int | None:
    """The prediction committed before anything is answered; None when ``/forget`` came after the photo."""
    return await svc.storage.save_prediction(
        NewPrediction(
            user_id=user.id,
            chat_id=asking.chat_id,
            message_id=asking.message_id,
            model_version=reading.model_version,
            digits=answer.number,
            details=answer.to_json(),
            photo=data,
            photo_sha256=hashlib.sha256(data).hexdigest(),
            model_inputs=_inputs(reading),
            recalled=bool(answer.recalled_ids),
        ),
        sent_at=asking.date,
    )


def _count(reading: Reading, seconds: float, low_confidence: float) -> None:
    metrics.REPLY_LATENCY.observe(seconds)
    for item in reading.items:
        metrics.PREDICTIONS.labels(str(item.digit)).inc()
    if not reading.items:
        metrics.PREDICTIONS.labels("none").inc()
    elif reading.confidence < low_confidence:
        metrics.LOW_CONFIDENCE.inc()


async def _send_answer(
    update: Update, context: BotContext, message: Message, prediction_id: int, answer: Answer, photo: bytes | None, tr: Translations
) -> None:
    """Text, or the boxed photo with the text as its caption (``Answer.boxed``), the picture drawn off
    the event loop, sent the one way answers are (``bot.delivery.sending``)."""
    svc = context.services
    text, markup = texts.answer(answer, svc.settings.low_confidence, tr), texts.keyboard(answer, prediction_id, tr)
    boxes = None
    if answer.boxed and photo is not None:
        with metrics.stage("draw"):
            boxes = await asyncio.to_thread(picture.boxed, photo, answer, low_confidence=svc.settings.low_confidence)
    await svc.delivery.answer(context.bot, update.update_id, prediction_id, message, Reply(text, markup, boxes))


TYPING_AFTER = 1.0
"""Seconds before "typing..." is shown. Telegram allows a bot about 30 requests a second and the
rate limiter counts every request that names a chat: a chat action sent for every photo would
halve the photos answered per second, and most answers are out well within a second."""


async def _typing_after(message: Message, seconds: float) -> None:
    await asyncio.sleep(seconds)
    with contextlib.suppress(TelegramError):
        await message.reply_chat_action(ChatAction.TYPING)


def _inputs(reading: Reading) -> bytes:
    if not reading.items:
        return b""
    return (np.stack([item.pixels for item in reading.items]) * 255).round().astype(np.uint8).tobytes()


async def count_update(update: Update, context: BotContext) -> None:
    """Runs first for every update (group -1), only to count it."""
    kind = next((k for k in ("message", "callback_query", "edited_message") if getattr(update, k, None)), "other")
    metrics.UPDATES.labels(kind).inc()


async def not_a_photo(update: Update, context: BotContext) -> None:
    await say(update, texts.NOT_A_PHOTO)


async def not_an_image(update: Update, context: BotContext) -> None:
    await say(update, texts.NOT_AN_IMAGE)


async def unknown_command(update: Update, context: BotContext) -> None:
    await say(update, texts.UNKNOWN_COMMAND)


async def on_error(update: object, context: BotContext) -> None:
    """Log without message content, and tell the user something went wrong."""
    metrics.ERRORS.inc()
    log.error("error while handling update %s", getattr(update, "update_id", "?"), exc_info=context.error)
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query is not None:  # else the user's spinner turns until Telegram gives up
            await update.callback_query.answer(tr_of(update).gettext(texts.SORRY))
        elif update.effective_message is not None:
            await update.effective_message.reply_text(tr_of(update).gettext(texts.SORRY))
    except TelegramError:
        log.warning("could not tell the user about the error")
