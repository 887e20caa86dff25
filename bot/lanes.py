"""One lane per chat for answers: from sending an answer until its message id is committed.

A crash in between repeats that answer after a restart (nobody can tell whether Telegram got
it), so what a crash can repeat is exactly the answers inside a lane at that moment: at most
one per chat, and never more than the updates handled at once. One lane per chat instead of
one for all keeps a slow send in one chat from holding up every other chat, and keeps each
chat's answers in the order they were ready.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class Lanes:
    def __init__(self) -> None:
        self._locks: dict[int, asyncio.Lock] = {}
        self._holders: dict[int, int] = {}

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
