"""Sending an answer: the one call that puts it in its chat safely.

An answer waits for its chat's lane (answers in order per chat, ``bot.delivery.lanes``), then for its turn
at Telegram's rate limit (``bot.delivery.ratelimit``), and only then enters the window a crash may repeat:
the request, and the commit of its message id, which also takes its update out of the inbox.

State this module keeps in the process, and why that loses nothing: the lanes (who waits for
which chat; how many answers are between their send and their commit) and the updates whose inbox
row left with their answer's commit, until ``bot.delivery.inbox.Finisher`` sees their handlers end. Each
lives only while an answer is on its way; after a crash the inbox and the stored predictions, both
in the database, tell a restart what is left to answer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardMarkup, Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.ext import ExtBot

from bot.delivery.lanes import Lanes
from bot.delivery.ratelimit import HELD, FairRateLimiter
from bot.ops import metrics
from bot.storage import Storage


@dataclass(frozen=True)
class Reply:
    """What an answer says: its text and buttons, on the boxed picture (as its caption) where there is one."""

    text: str
    markup: InlineKeyboardMarkup
    picture: bytes | None = None


class Delivery:
    def __init__(self, storage: Storage, limiter: FairRateLimiter, in_flight: int) -> None:
        self.storage, self.limiter, self.lanes = storage, limiter, Lanes(in_flight)
        self._committed: set[int] = set()

    async def answer(self, bot: ExtBot[Any], update_id: int, prediction_id: int, message: Message, reply: Reply) -> None:
        """Reply to ``message``, and commit the reply's message id with the prediction ``prediction_id``,
        the update ``update_id`` leaving the inbox with it."""
        queued = time.perf_counter()
        async with self.lanes.of(message.chat_id):
            metrics.STAGE.labels("lane").observe(time.perf_counter() - queued)
            queued = time.perf_counter()
            await self.limiter.turn(message.chat_id)
            async with self.lanes.sending():
                metrics.STAGE.labels("turn").observe(time.perf_counter() - queued)
                with metrics.stage("send"):
                    sent = await _reply(bot, message, reply)
                with metrics.stage("commit"):
                    await self.storage.set_reply_message(prediction_id, sent.message_id, update_id)
        self._committed.add(update_id)

    def left_with_its_answer(self, update_id: int) -> bool:
        """Did ``update_id``'s inbox row leave with its answer's commit? Asked once, when its handlers end."""
        if update_id in self._committed:
            self._committed.discard(update_id)
            return True
        return False


async def _reply(bot: ExtBot[Any], message: Message, reply: Reply) -> Message:
    """A reply quoting ``message``, in its chat and forum topic, sent in the turn taken for it (``HELD``)."""
    chat, quoted = message.chat_id, ReplyParameters(message.message_id, allow_sending_without_reply=True)
    topic = message.message_thread_id if message.is_topic_message else None
    if reply.picture is not None:
        return await bot.send_photo(
            chat,
            reply.picture,
            caption=reply.text,
            parse_mode=ParseMode.HTML,
            reply_markup=reply.markup,
            reply_parameters=quoted,
            message_thread_id=topic,
            rate_limit_args=HELD,
        )
    return await bot.send_message(
        chat,
        reply.text,
        parse_mode=ParseMode.HTML,
        reply_markup=reply.markup,
        reply_parameters=quoted,
        message_thread_id=topic,
        rate_limit_args=HELD,
    )
