"""Telegram's flood limits kept first come, first served (``bot.delivery.ratelimit``)."""

from __future__ import annotations

import asyncio
import random
import time
import warnings
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.delivery.ratelimit import HELD, FairRateLimiter, Held, Pacer


def test_a_pacer_allows_its_burst_then_its_rate() -> None:
    pacer = Pacer(rate=10, burst=3)
    assert [pacer.reserve(0.0) for _ in range(5)] == pytest.approx([0.0, 0.0, 0.0, 0.1, 0.2])
    assert pacer.reserve(10.0) == 10.0  # an idle bucket drains: the next one goes at once
    assert not pacer.idle(10.0) and pacer.idle(10.2)


def test_a_pacer_serves_in_order_and_never_beyond_its_rate() -> None:
    rng, pacer = random.Random(5), Pacer(rate=30, burst=30)
    now, starts = 0.0, []
    for _ in range(2000):
        now += rng.expovariate(45)  # more asked than allowed: a queue forms
        starts.append(pacer.reserve(now))
    assert starts == sorted(starts)  # no request overtakes one that asked before it
    for k in (30, 60, 90):  # k + 1 in a row: the burst of 30, then 30 a second
        assert min(b - a for a, b in zip(starts, starts[k:], strict=False)) >= (k - 29) / 30 - 1e-9


def test_bad_pacer_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="rate"):
        Pacer(rate=0, burst=1)
    with pytest.raises(ValueError, match="burst"):
        Pacer(rate=1, burst=0)


async def _request(limiter: FairRateLimiter, chat: object, done: list[Any], tag: Any, held: Held | None = None) -> Any:
    async def call() -> dict[str, Any]:
        done.append(tag)
        return {"ok": tag}

    data = {"chat_id": chat} if chat is not None else {}
    return await limiter.process_request(call, (), {}, "sendMessage", data, held)


def _overtaken(done: list[int]) -> int:
    """The most requests that came after one and were sent before it."""
    position = {tag: i for i, tag in enumerate(done)}
    return max(sum(later > tag and position[later] < position[tag] for later in done) for tag in done)


async def test_waiting_requests_are_not_overtaken_by_later_ones() -> None:
    """Slots go in the order asked for. A waiter wakes one event-loop turn after its slot, and a
    newcomer whose slot is already due may go in that turn: at most one or two, never a queue.
    python-telegram-bot's AIORateLimiter fails this: a newcomer takes the slot freed for a waiter,
    which queues again at the back (tried: 24 to 34 later requests sent before the first waiter)."""
    limiter, done = FairRateLimiter(overall_rate=200), list[int]()
    for tag in range(200):  # the burst, taken at once
        await _request(limiter, tag + 1, done, tag)
    tasks = []
    for tag in range(200, 240):  # these queue
        tasks.append(asyncio.create_task(_request(limiter, tag + 1, done, tag)))
        time.sleep(0.003)  # noqa: ASYNC251 - a busy event loop: a waiter's wake-up and a newcomer meet
        await asyncio.sleep(0)
    assert await asyncio.gather(*tasks) == [{"ok": tag} for tag in range(200, 240)]
    assert sorted(done) == list(range(240)) and done[:200] == list(range(200))
    assert _overtaken(done) <= 2, done[200:]


async def test_only_groups_get_a_pacer_of_their_own_and_idle_ones_are_forgotten() -> None:
    limiter, done = FairRateLimiter(max_groups=2), list[str]()
    for chat in (42, "42", -1001, "@channel", None):
        await _request(limiter, chat, done, str(chat))
    assert set(limiter.groups) == {-1001, "@channel"}
    assert len(done) == 5
    for pacer in limiter.groups.values():
        pacer.due = 0.0  # long ago: idle
    await _request(limiter, -2002, done, "third group")
    assert set(limiter.groups) == {-2002}


async def test_a_group_waits_for_its_minute_without_holding_up_private_chats() -> None:
    limiter, done = FairRateLimiter(group_per_minute=1), list[str]()
    await _request(limiter, -5, done, "group 1")
    second = asyncio.create_task(_request(limiter, -5, done, "group 2"))  # 60 s away
    await _request(limiter, 7, done, "private")
    assert done == ["group 1", "private"] and not second.done()
    second.cancel()
    with pytest.raises(asyncio.CancelledError):
        await second


async def test_a_turn_taken_beforehand_is_used_by_its_request_only() -> None:
    limiter, done = FairRateLimiter(overall_rate=0.01), list[str]()
    await limiter.turn(5)  # a burst of 1: the bot's next slot is 100 s away
    await _request(limiter, 5, done, "held", HELD)
    second = asyncio.create_task(_request(limiter, 5, done, "needs a slot of its own"))
    await asyncio.sleep(0.05)
    assert done == ["held"] and not second.done()
    second.cancel()
    with pytest.raises(asyncio.CancelledError):
        await second


def _flood() -> RetryAfter:
    with warnings.catch_warnings():  # PTB 22 warns that retry_after becomes a timedelta
        warnings.simplefilter("ignore")
        return RetryAfter(0)


async def test_retry_after_is_obeyed_then_given_up() -> None:
    calls = 0

    async def flooded() -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise _flood()
        return {"ok": calls}

    limiter = FairRateLimiter(max_retries=1)
    assert await limiter.process_request(flooded, (), {}, "sendMessage", {"chat_id": 1}, None) == {"ok": 2}

    async def always() -> dict[str, Any]:
        raise _flood()

    with pytest.raises(RetryAfter):
        await FairRateLimiter(max_retries=0).process_request(always, (), {}, "sendMessage", {"chat_id": 1}, None)
