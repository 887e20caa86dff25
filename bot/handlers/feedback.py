"""Corrections and confirmations: the buttons under an answer and a typed reply to it.

Buttons carry only database ids and digits, so a press finds everything it needs by the
prediction's id, after a restart and on any replica. Only the one who asked may correct.

A correction is remembered for its sender (``bot.reading.memory``) at once, except when the bot
was sure of the answer it corrects: then it asks first, in place ("remember it as 8?"),
and remembers only after Yes. Either way the correction is stored for retraining. An
answer that came from the sender's memory offers "not this time", which forgets the
shapes that decided it.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import CallbackQuery, ForceReply, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest

from bot.context import BotContext, Services
from bot.ops import metrics
from bot.replies import picture, texts
from bot.replies.answer import Answer
from bot.replies.i18n import Translations
from bot.replies.talk import say, tr_of
from bot.storage import Remembered, StoredPrediction
from model.reading.labels import is_label

log = logging.getLogger(__name__)


BUTTON = re.compile(r"(ok|wr|saw|no|nt):([0-9]{1,19})|fb:([0-9]{1,19}):([0-9])|my:([0-9]{1,19}):([0-9]{1,32})", re.ASCII)
"""Button data the bot itself writes; anything else (forged, or from an older keyboard) is gone."""
MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class Press:
    """One button press as the bot wrote it: what to do, to which prediction, with which digits."""

    action: str
    prediction_id: int
    label: str = ""

    @classmethod
    def parse(cls, data: str) -> Press | None:
        found = BUTTON.fullmatch(data)
        if found is None:
            return None
        action, id_text, label = next(
            (a, i, lab) for a, i, lab in ((found[1], found[2], ""), ("fb", found[3], found[4]), ("my", found[5], found[6])) if i is not None
        )
        if int(id_text) > MAX_ID:  # a 64-bit database id; a larger number would overflow the driver
            return None
        return cls(action, int(id_text), label)


async def button(update: Update, context: BotContext) -> None:
    """Inline buttons: ``ok``, ``fb`` (a digit), ``wr`` (type it), ``saw``, ``my`` / ``no`` (remember?), ``nt`` (not this time)."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    svc, tr = context.services, tr_of(update)
    press = Press.parse(query.data)
    prediction = await svc.storage.prediction(press.prediction_id) if press is not None else None
    if press is None or prediction is None:
        await query.answer(tr.gettext(texts.GONE))
        return
    if press.action == "saw":
        if not _may_see(query.from_user.id, query.message, prediction):
            await query.answer(tr.gettext(texts.NOT_YOURS_TO_SEE), show_alert=True)
            return
        await query.answer()
        await _send_inputs(context, prediction, tr)
        return
    if query.from_user.id != prediction.user_id:
        await query.answer(tr.gettext(texts.NOT_YOURS), show_alert=True)
        return
    if press.action == "ok" and not is_label(prediction.digits):
        await query.answer(tr.gettext(texts.GONE))
        return
    await OWNER_ACTIONS[press.action](update, svc, prediction, press)


async def _ask_for_number(update: Update, svc: Services, prediction: StoredPrediction, press: Press) -> None:
    query = _query(update)
    await query.answer()
    if isinstance(query.message, Message):
        prompt = await query.message.reply_text(texts.ask_for_number(prediction.id, tr_of(update)), reply_markup=ForceReply(selective=True))
        await svc.storage.set_prompt_message(prediction.id, prompt.message_id)


async def _press_label(update: Update, svc: Services, prediction: StoredPrediction, press: Press) -> None:
    await _save_correction(update, svc, prediction, press.label or prediction.digits)


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
            await say(update, texts.NOT_A_PHOTO)
        return
    if user.id != prediction.user_id:
        await say(update, texts.NOT_YOURS)
        return
    label = re.sub(r"[\s,.'-]", "", message.text)
    if not is_label(label):
        await say(update, texts.DIGITS_ONLY)
        return
    await _save_correction(update, svc, prediction, label)


async def _prediction_replied_to(svc: Services, replied: Message, bot_id: int) -> StoredPrediction | None:
    if replied.from_user is None or replied.from_user.id != bot_id:
        return None
    return await svc.storage.prediction_for_reply(replied.chat_id, replied.message_id)


def _asks_first(svc: Services, prediction: StoredPrediction, answer: Answer, label: str) -> bool:
    """A correction of a sure answer, that would be remembered: ask before the memory learns it."""
    remembers = svc.settings.memory and label != prediction.digits and len(label) == prediction.input_count > 0
    return remembers and answer.confidence >= svc.settings.low_confidence


async def _save_correction(update: Update, svc: Services, prediction: StoredPrediction, label: str) -> None:
    """Commit the correction (remembered at once unless it must be asked), then tell the user; the answer is redrawn."""
    answer = Answer.from_json(prediction.details)
    ask = _asks_first(svc, prediction, answer, label)
    remembered = [] if ask or not svc.settings.memory else await svc.memory_cache.from_correction(prediction, label)
    try:
        changed = await svc.storage.record_correction(prediction.id, prediction.user_id, label, remembered)
    except KeyError:  # deleted (``/forget``) after the press was read: nothing is stored, nothing is left behind
        await _tell(update, texts.GONE)
        return
    if changed:
        metrics.CORRECTIONS.labels("confirmed" if label == prediction.digits else "corrected").inc()
    tr = tr_of(update)
    note = texts.outcome(label, prediction.digits, tr)
    question = "\n\n" + texts.remember_question(answer.confidence, prediction.digits, label, tr) if ask and changed else ""
    asking = texts.remember_keyboard(prediction.id, label, tr) if question else None
    query = update.callback_query
    if query is not None:
        await query.answer(tr.gettext(texts.SAVED if changed else texts.ALREADY_SAVED))
    elif update.effective_message is not None:  # a typed correction: the question goes under its answer
        await update.effective_message.reply_text(note + question, parse_mode=ParseMode.HTML, reply_markup=asking)
        question, asking = "", None
    if changed:
        await _redraw(update, svc, prediction, answer, note + question, asking)


async def _remember(update: Update, svc: Services, prediction: StoredPrediction, press: Press) -> None:
    """Yes: the shapes of this correction join the person's memory (once, and only while it is still their correction)."""
    query, tr = _query(update), tr_of(update)
    if prediction.label != press.label:
        await query.answer(tr.gettext(texts.OUT_OF_DATE))
        return
    memories = await svc.memory_cache.from_correction(prediction, press.label)
    try:
        outcome = await svc.storage.remember(prediction.id, press.label, memories)
    except KeyError:
        await query.answer(tr.gettext(texts.GONE))
        return
    if outcome is Remembered.CHANGED:
        await query.answer(tr.gettext(texts.OUT_OF_DATE))
        return
    await query.answer(tr.gettext(texts.SAVED if outcome is Remembered.NOW else texts.ALREADY_SAVED))
    if outcome is Remembered.NOW:
        metrics.MEMORY.labels("remembered").inc()
        note = texts.outcome(press.label, prediction.digits, tr) + "\n" + tr.gettext(texts.REMEMBERED).format(label=press.label)
        await _close_question(update, svc, prediction, note)


async def _decline(update: Update, svc: Services, prediction: StoredPrediction, press: Press) -> None:
    """No: the correction stays for retraining; the memory does not learn it."""
    query, tr = _query(update), tr_of(update)
    await query.answer(tr.gettext(texts.NOT_REMEMBERED))
    metrics.MEMORY.labels("declined").inc()
    note = texts.outcome(prediction.label, prediction.digits, tr) if prediction.label is not None else ""
    await _close_question(update, svc, prediction, note)


async def _not_this_time(update: Update, svc: Services, prediction: StoredPrediction, press: Press) -> None:
    """The remembered shapes behind this answer are forgotten, and the network's own reading becomes the answer."""
    query, tr = _query(update), tr_of(update)
    given = Answer.from_json(prediction.details)
    plain = given.without_memory()
    try:
        dropped = bool(given.recalled_ids) and await svc.storage.drop_recalled(
            prediction.id, given.recalled_ids, plain.number, plain.to_json()
        )
    except KeyError:
        await query.answer(tr.gettext(texts.GONE))
        return
    await query.answer(tr.gettext(texts.SAVED if dropped else texts.ALREADY_SAVED))
    if dropped:
        metrics.MEMORY.labels("dropped").inc()
        await _redraw(update, svc, prediction, plain, tr.gettext(texts.DROPPED))


OWNER_ACTIONS: dict[str, Callable[[Update, Services, StoredPrediction, Press], Awaitable[None]]] = {
    "ok": _press_label,
    "fb": _press_label,
    "wr": _ask_for_number,
    "my": _remember,
    "no": _decline,
    "nt": _not_this_time,
}


async def _close_question(update: Update, svc: Services, prediction: StoredPrediction, note: str) -> None:
    """The question's message without its buttons: the answer itself redrawn, or the reply to a typed correction."""
    message = _query(update).message
    if isinstance(message, Message) and message.message_id != prediction.reply_message_id:
        try:
            await message.edit_text(note, parse_mode=ParseMode.HTML)
        except BadRequest as err:
            log.info("question not edited: %s", err.message)
        return
    await _redraw(update, svc, prediction, Answer.from_json(prediction.details), note)


async def _redraw(
    update: Update,
    svc: Services,
    prediction: StoredPrediction,
    answer: Answer,
    note: str,
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    """The answer message again, with ``note`` under it (and ``markup``, else its own buttons)."""
    if prediction.reply_message_id is None:
        return
    tr = tr_of(update)
    text = texts.answer(answer, svc.settings.low_confidence, tr) + ("\n\n" + note if note else "")
    markup = markup or texts.keyboard(answer, prediction.id, tr)
    bot, chat_id, message_id = update.get_bot(), prediction.chat_id, prediction.reply_message_id
    try:
        if answer.boxed:  # answered with the boxed photo: the text is its caption
            await bot.edit_message_caption(chat_id, message_id, caption=text, parse_mode=ParseMode.HTML, reply_markup=markup)
        else:
            await bot.edit_message_text(text, chat_id, message_id, parse_mode=ParseMode.HTML, reply_markup=markup)
    except BadRequest as err:
        log.info("answer not edited: %s", err.message)


async def _tell(update: Update, message: str) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer(tr_of(update).gettext(message))
    else:
        await say(update, message)


def _query(update: Update) -> CallbackQuery:
    assert update.callback_query is not None, "only buttons call this"
    return update.callback_query


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
        answer = Answer.from_json(prediction.details)
        drawn = await asyncio.to_thread(picture.boxed, photo, answer, prediction.model_inputs, prediction.input_count, low)
    await context.bot.send_photo(
        prediction.chat_id,
        drawn,
        caption=tr.gettext(texts.WHAT_I_SAW),
        reply_to_message_id=prediction.reply_message_id,
    )
