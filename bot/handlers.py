"""Update handlers: plain async functions, with no state outside the database.

A photo's path: size and rate checks, download, the predictor in the thread pool, the
prediction committed, then the answer with buttons that carry the prediction's id. A
button press or a typed correction finds everything it needs by that id, so it works
after a restart and on any replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import logging
import re
import time
from typing import Any

import numpy as np
from telegram import ForceReply, Message, MessageEntity, Update, User
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import BadRequest, TelegramError

from bot import metrics, picture, replies
from bot.context import BotContext, Services
from bot.i18n import Translations, translations
from bot.storage import NewPrediction, StoredPrediction
from model.reading.labels import is_label
from model.reading.predictor import ImageError, Reading

log = logging.getLogger(__name__)
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/bmp", "image/gif", "image/tiff", "image/heic", "image/heif")


async def start(update: Update, context: BotContext) -> None:
    await _say(update, replies.START)


async def help_command(update: Update, context: BotContext) -> None:
    await _say(update, replies.HELP)


async def forget(update: Update, context: BotContext) -> None:
    user = update.effective_user
    if user is None:
        return
    message = update.effective_message
    when = message.date if message is not None else dt.datetime.now(dt.UTC)
    count = await context.services.storage.forget_user(user.id, when)
    log.info("forgot user data: %d predictions", count)
    await _reply(update, replies.forgotten(count, _tr(update)))


async def _is_admin(update: Update, svc: Services) -> bool:
    user = update.effective_user
    if user is None or user.id not in svc.settings.admin_ids:
        await _reply(update, replies.ADMINS_ONLY)
        return False
    return True


async def reload_model(update: Update, context: BotContext) -> None:
    """Admins: load the registry's current model now instead of waiting for the periodic check."""
    svc = context.services
    if await _is_admin(update, svc):
        old = svc.reader.version
        await _reply(update, replies.reloaded(old, await svc.reader.reload_if_changed()))


async def stats(update: Update, context: BotContext) -> None:
    svc = context.services
    if not await _is_admin(update, svc):
        return
    s = await svc.storage.stats()
    accuracy = f"{s.reported_accuracy:.1%}" if s.reported_accuracy is not None else "n/a"
    lines = [
        f"<b>Model</b> {svc.reader.version}",
        f"Predictions: {s.predictions} from {s.users} users ({s.no_digit} with no digit)",
        f"Feedback: {s.feedback} ({s.confirmed} confirmed right)",
        f"Accuracy as users report it: {accuracy}",
        f"From memory: {s.recalled} answers ({s.recalled_confirmed} confirmed, {s.recalled_corrected} corrected again)",
        replies.ADMIN_COMMANDS,
    ]
    misses = sorted(((n, truth, read) for (truth, read), n in s.confusion.items() if truth != read), reverse=True)[:10]
    if misses:
        lines.append("\n<b>Most common misreads</b> (true → read)")
        lines += [f"{truth} → {read or 'none'}: {n}" for n, truth, read in misses]
    await _reply(update, "\n".join(lines))


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
        await _say(update, replies.READ_WHAT)
        return
    await _read(update, context, target, user)


def _mentions(message: Message, username: str) -> bool:
    mentions = message.parse_caption_entities([MessageEntity.MENTION]).values()
    return any(m.lower() == f"@{username}".lower() for m in mentions)


async def _read(update: Update, context: BotContext, message: Message, user: User) -> None:
    """Read the image of ``message``, store it, answer it with buttons. The asking update's own
    message (the photo itself, or a ``/read`` reply to it) keys the prediction, so an update
    handled again after a crash finds it."""
    svc, tr = context.services, _tr(update)
    asking = update.effective_message
    assert asking is not None
    found = _image_file(message)
    if found is None:
        await _reply(update, tr.gettext(replies.NOT_AN_IMAGE))
        return
    done = await svc.storage.prediction_for_message(asking.chat_id, asking.message_id)
    if done is not None:  # handled before a crash: answer once, never read or store twice
        if done.reply_message_id is None:
            photo = await svc.storage.photo(done.photo_sha256) if done.input_count > 1 else None
            await _send_answer(message, svc, done.id, done.details, done.input_count, photo, tr)
        return
    limit_per_minute = svc.settings.rate_limit_per_minute
    in_group = asking.chat.type != ChatType.PRIVATE
    if not await svc.storage.take_slot(user.id, limit_per_minute, 60) or (
        in_group and not await svc.storage.take_slot(asking.chat_id, limit_per_minute, 60)  # a group's own budget, its id < 0
    ):
        await _reply(update, replies.slow_down(limit_per_minute, tr))
        return
    file_id, size = found
    limit = svc.settings.max_image_bytes
    if size is not None and size > limit:
        await _reply(update, replies.too_big(limit, tr))
        return
    started = time.perf_counter()
    typing = asyncio.create_task(_typing_after(message, TYPING_AFTER))
    try:
        data = bytes(await (await context.bot.get_file(file_id)).download_as_bytearray())
        if len(data) > limit:
            await _reply(update, replies.too_big(limit, tr))
            return
        memory = await svc.memories.of(user.id) if svc.settings.memory else None
        try:
            reading = await svc.reader.read(data, memory)
        except ImageError as err:
            await _reply(update, replies.unreadable(err.kind, tr))
            return
    finally:
        typing.cancel()
    details = replies.summarize(reading)
    prediction_id = await svc.storage.save_prediction(
        NewPrediction(
            user_id=user.id,
            chat_id=asking.chat_id,
            message_id=asking.message_id,
            model_version=reading.model_version,
            digits=reading.digits,
            confidence=reading.confidence,
            details=details,
            photo=data,
            photo_sha256=hashlib.sha256(data).hexdigest(),
            model_inputs=_inputs(reading),
            input_count=len(reading.items),
            recalled=any(item.recalled is not None for item in reading.items),
        ),
        sent_at=asking.date,
    )
    if prediction_id is None:
        await _reply(update, replies.answer(details, svc.settings.low_confidence, tr) + "\n\n" + tr.gettext(replies.NOT_KEPT))
    else:
        await _send_answer(message, svc, prediction_id, details, len(reading.items), data, tr)
    metrics.REPLY_LATENCY.observe(time.perf_counter() - started)
    for item in reading.items or ():
        metrics.PREDICTIONS.labels(str(item.digit)).inc()
    if not reading.items:
        metrics.PREDICTIONS.labels("none").inc()
    elif reading.confidence < svc.settings.low_confidence:
        metrics.LOW_CONFIDENCE.inc()


async def _send_answer(
    message: Message, svc: Services, prediction_id: int, details: dict[str, Any], count: int, photo: bytes | None, tr: Translations
) -> None:
    """A number of two or more digits is answered with the photo, each digit boxed: it shows at
    once which shape became which digit. Drawn before the answering lock, off the event loop."""
    text, markup = replies.answer(details, svc.settings.low_confidence, tr), replies.keyboard(prediction_id, count, tr)
    boxes = None
    if count > 1 and photo is not None:
        boxes = await asyncio.to_thread(picture.boxed, photo, details, low_confidence=svc.settings.low_confidence)
    async with svc.answering:
        if boxes is not None:
            sent = await message.reply_photo(boxes, caption=text, parse_mode=ParseMode.HTML, reply_markup=markup)
        else:
            sent = await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
        await svc.storage.set_reply_message(prediction_id, sent.message_id)


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


BUTTON = re.compile(r"(ok|wr|saw):([0-9]{1,19})|fb:([0-9]{1,19}):([0-9])", re.ASCII)
"""Button data the bot itself writes; anything else (forged, or from an older keyboard) is gone."""
MAX_ID = 2**63 - 1


async def button(update: Update, context: BotContext) -> None:
    """Inline buttons: ``ok:<id>``, ``fb:<id>:<digit>``, ``wr:<id>``, ``saw:<id>``."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    svc, tr = context.services, _tr(update)
    parsed = BUTTON.fullmatch(query.data)
    prediction = None
    if parsed is not None:
        action, id_text = (parsed[1], parsed[2]) if parsed[1] else ("fb", parsed[3])
        if int(id_text) <= MAX_ID:  # a 64-bit database id; a larger number would overflow the driver
            prediction = await svc.storage.prediction(int(id_text))
    if parsed is None or prediction is None:
        await query.answer(tr.gettext(replies.GONE))
        return
    if action == "saw":
        if not _may_see(query.from_user.id, query.message, prediction):
            await query.answer(tr.gettext(replies.NOT_YOURS_TO_SEE), show_alert=True)
            return
        await query.answer()
        await _send_inputs(context, prediction, tr)
        return
    if query.from_user.id != prediction.user_id:
        await query.answer(tr.gettext(replies.NOT_YOURS), show_alert=True)
        return
    if action == "ok" and not is_label(prediction.digits):
        await query.answer(tr.gettext(replies.GONE))
        return
    if action == "wr":
        await query.answer()
        if isinstance(query.message, Message):
            prompt = await query.message.reply_text(replies.ask_for_number(prediction.id, tr), reply_markup=ForceReply(selective=True))
            await svc.storage.set_prompt_message(prediction.id, prompt.message_id)
        return
    await _save_correction(update, svc, prediction, prediction.digits if action == "ok" else parsed[4], query.from_user.id)


async def typed_correction(update: Update, context: BotContext) -> None:
    """A text reply to one of the bot's answers (or to its 'what number?' question) is a correction."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or message.text is None:
        return
    svc = context.services
    replied = message.reply_to_message
    prediction = await _prediction_replied_to(svc, replied, context.bot.id) if replied else None
    if prediction is None:
        if message.chat.type == ChatType.PRIVATE:  # in a group, a reply to someone else is their conversation
            await _say(update, replies.NOT_A_PHOTO)
        return
    if user.id != prediction.user_id:
        await _say(update, replies.NOT_YOURS)
        return
    label = re.sub(r"[\s,.'-]", "", message.text)
    if not is_label(label):
        await _say(update, replies.DIGITS_ONLY)
        return
    await _save_correction(update, svc, prediction, label, user.id)


async def _prediction_replied_to(svc: Services, replied: Message, bot_id: int) -> StoredPrediction | None:
    if replied.from_user is None or replied.from_user.id != bot_id:
        return None
    return await svc.storage.prediction_for_reply(replied.chat_id, replied.message_id)


async def _save_correction(update: Update, svc: Services, prediction: StoredPrediction, label: str, user_id: int) -> None:
    """Commit the correction, then tell the user; the answer is redrawn with the outcome."""
    remembered = await svc.memories.from_correction(prediction, label) if svc.settings.memory else []
    try:
        changed = await svc.storage.record_correction(prediction.id, user_id, label, remembered)
    except KeyError:  # deleted (``/forget``) after the press was read: nothing is stored, nothing is left behind
        if update.callback_query is not None:
            await update.callback_query.answer(_tr(update).gettext(replies.GONE))
        else:
            await _say(update, replies.GONE)
        return
    if changed:
        metrics.CORRECTIONS.labels("confirmed" if label == prediction.digits else "corrected").inc()
    tr = _tr(update)
    note = replies.outcome(label, prediction.digits, tr)
    query = update.callback_query
    if query is not None:
        await query.answer(tr.gettext(replies.SAVED if changed else replies.ALREADY_SAVED))
    elif update.effective_message is not None:
        await update.effective_message.reply_text(note, parse_mode=ParseMode.HTML)
    if changed and prediction.reply_message_id is not None:
        text = replies.answer(prediction.details, svc.settings.low_confidence, tr) + "\n\n" + note
        where: dict[str, Any] = {
            "chat_id": prediction.chat_id,
            "message_id": prediction.reply_message_id,
            "parse_mode": ParseMode.HTML,
            "reply_markup": replies.keyboard(prediction.id, prediction.input_count, tr),
        }
        bot = update.get_bot()
        try:
            if prediction.input_count > 1:  # answered with the boxed photo: the text is its caption
                await bot.edit_message_caption(caption=text, **where)
            else:
                await bot.edit_message_text(text, **where)
        except BadRequest as err:
            log.info("answer not edited: %s", err.message)


def _may_see(user_id: int, message: object, prediction: StoredPrediction) -> bool:
    """The model inputs are cut from someone's photo: its sender sees them, or the group it was sent to."""
    if user_id == prediction.user_id:
        return True
    chat = getattr(message, "chat", None)
    return chat is not None and chat.type != "private" and chat.id == prediction.chat_id


async def _send_inputs(context: BotContext, prediction: StoredPrediction, tr: Translations) -> None:
    """Always to the chat the photo came from, never to where a forwarded keyboard was pressed."""
    if not prediction.input_count:
        return
    photo = await context.services.storage.photo(prediction.photo_sha256)
    low = context.services.settings.low_confidence
    if photo is None:
        drawn = picture.inputs_picture(prediction.model_inputs, prediction.input_count)
    else:
        drawn = await asyncio.to_thread(picture.boxed, photo, prediction.details, prediction.model_inputs, prediction.input_count, low)
    await context.bot.send_photo(
        prediction.chat_id,
        drawn,
        caption=tr.gettext(replies.WHAT_I_SAW),
        reply_to_message_id=prediction.reply_message_id,
    )


async def count_update(update: Update, context: BotContext) -> None:
    """Runs first for every update (group -1), only to count it."""
    kind = next((k for k in ("message", "callback_query", "edited_message") if getattr(update, k, None)), "other")
    metrics.UPDATES.labels(kind).inc()


async def not_a_photo(update: Update, context: BotContext) -> None:
    await _say(update, replies.NOT_A_PHOTO)


async def not_an_image(update: Update, context: BotContext) -> None:
    await _say(update, replies.NOT_AN_IMAGE)


async def unknown_command(update: Update, context: BotContext) -> None:
    await _say(update, replies.UNKNOWN_COMMAND)


async def on_error(update: object, context: BotContext) -> None:
    """Log without message content, and tell the user something went wrong."""
    metrics.ERRORS.inc()
    log.error("error while handling update %s", getattr(update, "update_id", "?"), exc_info=context.error)
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query is not None:  # else the user's spinner turns until Telegram gives up
            await update.callback_query.answer(_tr(update).gettext(replies.SORRY))
        elif update.effective_message is not None:
            await update.effective_message.reply_text(_tr(update).gettext(replies.SORRY))
    except TelegramError:
        log.warning("could not tell the user about the error")


def _tr(update: Update) -> Translations:
    """The catalog of whoever sent this update (their Telegram app's language)."""
    user = update.effective_user
    return translations(user.language_code if user is not None else None)


async def _say(update: Update, message: str) -> None:
    """Reply with one of ``replies``' messages, in the sender's language."""
    await _reply(update, _tr(update).gettext(message))


async def _reply(update: Update, text: str) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML)
