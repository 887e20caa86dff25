"""Answers in order per chat, and few of them at once between their send and their commit.

A crash after an answer was sent and before its message id was committed repeats that answer
after a restart (nobody can tell whether Telegram got it), so what a crash can repeat is
exactly the answers in that window at that moment: at most ``in_flight`` (2 by default,
``ANSWERS_IN_FLIGHT``), in all chats. The window holds only the request and the commit: an
answer waits for its chat's lane and its turn at Telegram's rate limit before it enters.
One lane per chat instead of one for all keeps a slow send in one chat from holding up every
other chat, and keeps each chat's answers in the order they were ready.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class Lanes:
    def __init__(self, in_flight: int) -> None:
        self._locks: dict[int, asyncio.Lock] = {}
        self._holders: dict[int, int] = {}
        self._sending = asyncio.Semaphore(in_flight)

    def sending(self) -> asyncio.Semaphore:
        """Held from an answer's send until its commit: at most ``in_flight`` at once, in all chats."""
        return self._sending

    @asynccontextmanager
    async def of(self, chat_id: int) -> AsyncIterator[None]:
        """Hold ``chat_id``'s lane; a lane nobody holds or waits for is forgotten, so the dict stays as small as the traffic."""
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        self._holders[chat_id] = self._holders.get(chat_id, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._holders[chat_id] -= 1
            if not self._holders[chat_id]:
                del self._holders[chat_id], self._locks[chat_id]
