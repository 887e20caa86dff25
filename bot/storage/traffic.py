"""What keeps the bot standing under load and crashes: the rate limit per person, and the inbox of updates not yet handled."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import case, delete, select

from bot.storage.engine import Database, bounded
from bot.storage.schema import InboxRow, RateRow, utcnow


class TrafficQueries(Database):
    @bounded
    async def take_slot(self, user_id: int, limit: int, seconds: float) -> bool:
        """Count one attempt and say whether it is within the limit, in one statement.

        The row lock of the upsert serialises concurrent attempts, on one replica or many;
        every attempt counts, readable or not, so a flood of junk files is limited too.
        """
        now = utcnow()
        fresh = RateRow.window_start <= now - dt.timedelta(seconds=seconds)
        insert = self._insert(RateRow).values(user_id=user_id, window_start=now, used=1)
        upsert = insert.on_conflict_do_update(
            index_elements=[RateRow.user_id],
            set_={"used": case((fresh, 1), else_=RateRow.used + 1), "window_start": case((fresh, now), else_=RateRow.window_start)},
        ).returning(RateRow.used)
        async with self.sessions.begin() as session:
            used = (await session.execute(upsert)).scalar_one()
        return int(used) <= limit

    @bounded
    async def keep_update(self, update_id: int, body: str) -> bool:
        """Keep an update before Telegram is told it arrived; False if it was already kept."""
        insert = self._insert(InboxRow).values(update_id=update_id, body=body, received_at=utcnow())
        async with self.sessions.begin() as session:
            return (await session.execute(insert.on_conflict_do_nothing().returning(InboxRow.update_id))).first() is not None

    @bounded
    async def pending_updates(self) -> list[str]:
        async with self.sessions() as session:
            return list((await session.scalars(select(InboxRow.body).order_by(InboxRow.update_id))).all())

    @bounded
    async def drop_update(self, update_id: int) -> None:
        async with self.sessions.begin() as session:
            await session.execute(delete(InboxRow).where(InboxRow.update_id == update_id))
