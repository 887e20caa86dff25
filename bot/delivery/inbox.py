"""Nothing accepted is lost: an update is kept in the database before Telegram learns it arrived.

PTB's updater puts each fetched update on the application's queue and only then asks for
the next batch, which is what tells Telegram the earlier ones were received; the webhook
answers Telegram only after its ``put`` returns. So ``Inbox.put`` keeping the update is
enough for both modes. ``Finisher`` drops it once every handler is done, and on start
whatever a killed process left behind is handled again. A crash can repeat an answer,
never lose one: the photo handler answers a photo it already read from its stored
prediction, and skips it once the answer's message id is stored, so only an answer sent
in the moment before its id was committed can go out twice: at most ``ANSWERS_IN_FLIGHT`` (2) in
all (``bot.delivery.sending``).

Replicas on one database each own the updates they keep. A replica beats (a row with the time) every
third of ``REPLICA_SILENCE_SECONDS``, and adopts, at start and at every beat, the updates of replicas
silent for longer: a replica killed for good loses nothing either, and one starting beside live
siblings does not handle their updates a second time. On SQLite, which one process uses, a start
adopts everything left. The window a crash may repeat is each process's own: a killed replica can
repeat only the answers it was sending.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Bot, Update
from telegram.ext import SimpleUpdateProcessor

from bot.ops import metrics
from bot.storage import Storage

log = logging.getLogger(__name__)


class Inbox(asyncio.Queue[object]):
    def __init__(self, storage: Storage, silence: dt.timedelta) -> None:
        super().__init__()
        self.storage, self.silence = storage, silence
        self.replica = uuid.uuid4().hex

    async def put(self, item: object) -> None:
        """Keep, then queue. A database that cannot keep it does not stop the bot: the update is
        handled anyway (and its handler will tell the user to try again if it needs the database)."""
        if isinstance(item, Update):
            try:
                with metrics.stage("inbox"):
                    kept = await self.storage.keep_update(item.update_id, item.to_json(), self.replica)
                if not kept:
                    log.info("update %d is already kept: handled from there", item.update_id)
                    return
            except Exception:
                log.warning("update %d could not be kept; handling it unkept", item.update_id, exc_info=True)
        await super().put(item)

    async def resume(self, bot: Bot) -> int:
        """At start: :meth:`beat`; on SQLite, which one process uses, whatever is left is a predecessor's."""
        return await self.beat(bot, self.silence if self.storage.shared_by_replicas else dt.timedelta(0))

    async def beat(self, bot: Bot, silence: dt.timedelta | None = None) -> int:
        """Say this replica is alive, then queue what replicas silent for longer than ``silence`` (by
        default the configured one) kept and did not finish; returns how many."""
        await self.storage.beat(self.replica)
        pending = await self.storage.adopt_updates(self.replica, self.silence if silence is None else silence)
        for body in pending:
            update = Update.de_json(_loads(body), bot)
            if update is not None:
                self.put_nowait(update)
        if pending:
            log.warning("resuming %d updates a stopped replica did not finish", len(pending))
        return len(pending)

    async def leave(self) -> None:
        """A clean stop: what is left here goes to the next replica's beat, not after the silence."""
        try:
            await self.storage.leave(self.replica)
        except Exception:
            log.warning("could not say this replica stops: its updates wait for the silence", exc_info=True)


class Finisher(SimpleUpdateProcessor):
    """Runs an update's handlers, then drops it from the inbox (also when a handler failed: the
    error handler has answered by then, and a poison update must not come back at every start)."""

    def __init__(self, storage: Storage, max_concurrent_updates: int, left_with_its_answer: Callable[[int], bool]) -> None:
        super().__init__(max_concurrent_updates)
        self.storage, self.left_with_its_answer = storage, left_with_its_answer

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await coroutine
        if isinstance(update, Update) and not self.left_with_its_answer(update.update_id):
            try:
                with metrics.stage("done"):
                    await self.storage.drop_update(update.update_id)
            except Exception:
                log.warning("update %d handled but still kept: a restart will repeat it", update.update_id, exc_info=True)


def _loads(body: str) -> dict[str, Any]:
    data = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError("a kept update is not a JSON object")
    return data
