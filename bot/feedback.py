"""Corrections and confirmations: the buttons under an answer and a typed reply to it.

Buttons carry only database ids and digits, so a press finds everything it needs by the
prediction's id, after a restart and on any replica. Only the one who asked may correct.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from telegram import ForceReply, Message, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest

from bot import metrics, picture, replies
from bot.context import BotContext, Services
from bot.i18n import Translations
from bot.storage import StoredPrediction
from bot.talk import say, tr_of
from model.reading.labels import is_label

log = logging.getLogger(__name__)


BUTTON = re.compile(r"(ok|wr|saw):([0-9]{1,19})|fb:([0-9]{1,19}):([0-9])", re.ASCII)
"""Button data the bot itself writes; anything else (forged, or from an older keyboard) is gone."""
MAX_ID = 2**63 - 1


async def button(update: Update, context: BotContext) -> None:
    """Inline buttons: ``ok:<id>``, ``fb:<id>:<digit>``, ``wr:<id>``, ``saw:<id>``."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    svc, tr = context.services, tr_of(update)
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
            await say(update, replies.NOT_A_PHOTO)
        return
    if user.id != prediction.user_id:
        await say(update, replies.NOT_YOURS)
        return
    label = re.sub(r"[\s,.'-]", "", message.text)
    if not is_label(label):
        await say(update, replies.DIGITS_ONLY)
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
            await update.callback_query.answer(tr_of(update).gettext(replies.GONE))
        else:
            await say(update, replies.GONE)
        return
    if changed:
        metrics.CORRECTIONS.labels("confirmed" if label == prediction.digits else "corrected").inc()
    tr = tr_of(update)
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
