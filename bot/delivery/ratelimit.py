"""Telegram's flood limits, kept in the order the requests came: about 30 messages a second for
the bot, 20 a minute for a group.

python-telegram-bot's ``AIORateLimiter`` keeps the same limits with a leaky bucket
(``aiolimiter``) that lets a newcomer take capacity freed for a waiter, which then queues again
at the back: at the limit, the slowest answers wait far longer than the rest (``scripts.bench bot
--think 0``, figures in docs/the-bot.md). Here every request reserves its slot when it
arrives (the generic cell rate algorithm, GCRA), so the waits are served first come, first served,
and the rate and the burst are the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import warnings
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from telegram.constants import FloodLimit
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)
Result = bool | dict[str, Any] | list[dict[str, Any]]


class SharedBudgets(Protocol):
    """Send budgets every replica sees (``TrafficQueries``, on connections of their own)."""

    async def reserve_send(self, budget: str, interval: float, tolerance: float) -> float:
        """Take a slot of the budget (its name, the pacer's interval and tolerance); the seconds to wait."""

    async def close(self) -> None: ...


class Pacer:
    """Slots at ``rate`` a second, up to ``burst`` at once, handed out in the order asked for."""

    def __init__(self, rate: float, burst: int) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"need rate > 0 and burst >= 1, not {rate}, {burst}")
        self.interval = 1 / rate
        self.tolerance = (burst - 1) * self.interval
        self.due = 0.0
        """The theoretical arrival time: when the bucket is empty again."""

    def reserve(self, now: float) -> float:
        """The moment the next request may go (``now`` or later); its slot is taken at once."""
        start = max(now, self.due - self.tolerance)
        self.due = max(self.due, now) + self.interval
        return start

    def idle(self, now: float) -> bool:
        """No slot reserved beyond ``now``: forgetting this pacer changes nothing."""
        return self.due <= now


class Held:
    """The ``rate_limit_args`` of a request whose sender took its turn beforehand (:meth:`FairRateLimiter.turn`):
    its first try goes at once, a retry takes a turn of its own. ``bot.delivery.sending`` sends answers so, to wait
    for the turn before it enters the window a crash may repeat."""


HELD = Held()


class FairRateLimiter(BaseRateLimiter[Held]):
    """The bot's overall limit on every request that names a chat, a group's own on top for groups
    and channels (a chat id < 0 or a @name), and Telegram's ``RetryAfter`` obeyed up to
    ``max_retries`` times, every request waiting meanwhile (as ``AIORateLimiter`` does)."""

    def __init__(
        self,
        overall_rate: float = FloodLimit.MESSAGES_PER_SECOND,
        group_per_minute: float = FloodLimit.MESSAGES_PER_MINUTE_PER_GROUP,
        max_retries: int = 3,
        max_groups: int = 512,
        shared: SharedBudgets | None = None,
    ) -> None:
        self.shared = shared
        """Where replicas keep the budgets together (``TrafficQueries.reserve_send``): N replicas each
        pacing itself would send N times what Telegram allows one bot."""
        self.overall = Pacer(overall_rate, burst=max(1, int(overall_rate)))
        self.group_per_minute, self.max_groups = group_per_minute, max_groups
        self.groups: dict[int | str, Pacer] = {}
        self.max_retries = max_retries
        self._clear = asyncio.Event()
        self._clear.set()

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        if self.shared is not None:
            await self.shared.close()

    def _group(self, chat: int | str, now: float) -> Pacer:
        if chat not in self.groups:
            if len(self.groups) >= self.max_groups:
                for key in [key for key, pacer in self.groups.items() if pacer.idle(now)]:
                    del self.groups[key]
            self.groups[chat] = Pacer(self.group_per_minute / 60, burst=max(1, int(self.group_per_minute)))
        return self.groups[chat]

    async def turn(self, chat: object) -> None:
        """Wait for and take the next slot for a message to ``chat``: a group's own slot first, then
        the bot's (a group message held for its group's minute holds no slot of the bot's meanwhile)."""
        loop, group = asyncio.get_running_loop(), _group_of(chat)
        if group is not None:
            await self._take(f"group:{group}", self._group(group, loop.time()))
        await self._take("bot", self.overall)

    async def _take(self, budget: str, pacer: Pacer) -> None:
        """A slot of the budget every replica shares, or of this process's own where there is no
        shared one or the database does not answer (an answer late is better than none)."""
        loop = asyncio.get_running_loop()
        if self.shared is not None:
            try:
                await asyncio.sleep(await self.shared.reserve_send(budget, pacer.interval, pacer.tolerance))
                return
            except Exception as err:  # whatever failed, the own pacing still keeps Telegram's limit
                log.warning("shared send budget unavailable (%s): pacing this process alone", type(err).__name__)
        await _until(pacer.reserve(loop.time()), loop)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Held | None,
    ) -> Result:
        attempt = 0
        while True:
            await self._clear.wait()
            chat = data.get("chat_id")
            if chat is not None and not (attempt == 0 and rate_limit_args is HELD):
                await self.turn(chat)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as err:
                if attempt == self.max_retries:
                    raise
                attempt += 1
                seconds = _seconds(err)
                log.info("Telegram asked to wait %.0f s (%s)", seconds, endpoint)
                await self._pause(seconds + 0.1)

    async def _pause(self, seconds: float) -> None:
        """Every request waits while Telegram's ``RetryAfter`` runs: sending more would lengthen it."""
        self._clear.clear()
        try:
            await asyncio.sleep(seconds)
        finally:
            self._clear.set()


async def _until(moment: float, loop: asyncio.AbstractEventLoop) -> None:
    if moment > loop.time():
        await asyncio.sleep(moment - loop.time())


def _group_of(chat: object) -> int | str | None:
    """A group's or channel's id (< 0, or a @username), None for a private chat."""
    if isinstance(chat, str):
        with contextlib.suppress(ValueError):
            chat = int(chat)
    if isinstance(chat, str) or (isinstance(chat, int) and chat < 0):
        return chat
    return None


def _seconds(err: RetryAfter) -> float:
    """How long Telegram asked to wait: python-telegram-bot 22 gives an int (and a deprecation
    warning) unless ``PTB_TIMEDELTA`` is set, then a timedelta."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = err.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)
