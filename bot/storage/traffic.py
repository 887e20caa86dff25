"""What keeps the bot standing under load and crashes: a photo's admission (the crash replay check and the rate limits),
and the inbox of updates not yet handled."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, delete, func, select, update

from bot.storage.engine import Database, bounded
from bot.storage.memories import memory_mark
from bot.storage.predictions import one
from bot.storage.records import MemoryMark, StoredPrediction
from bot.storage.schema import InboxRow, PredictionRow, RateRow, ReplicaRow, SendSlotRow, utcnow


@dataclass(frozen=True)
class Admission:
    """What a photo finds on arrival: its prediction, when a run before a crash made it, or whether it is within the limits."""

    done: StoredPrediction | None
    allowed: bool
    memory_mark: tuple[str, MemoryMark] | None = None
    """The model version asked for and the person's memory mark under it, read in the same transaction."""


class TrafficQueries(Database):
    @bounded
    async def admit(
        self, chat_id: int, message_id: int, budgets: Sequence[int], limit: int, seconds: float, memory_of: tuple[int, str] | None = None
    ) -> Admission:
        """In one transaction: the prediction this message made before a crash, else one slot from each
        budget in turn (the person's, then a group's), stopping at the first that is spent, and the
        memory mark of ``memory_of`` (a person, a model version) for the photo's reading."""
        async with self.transaction() as session:
            done = await one(session, (PredictionRow.chat_id == chat_id) & (PredictionRow.message_id == message_id))
            if done is not None:
                return Admission(done, True)
            for budget in budgets:
                if int((await session.execute(self._slot(budget, seconds))).scalar_one()) > limit:
                    return Admission(None, False)
            mark = (memory_of[1], await memory_mark(session, *memory_of)) if memory_of is not None else None
        return Admission(None, True, mark)

    def _slot(self, user_id: int, seconds: float) -> Any:
        """Count one attempt in one statement, returning the count: the row lock of the upsert serialises
        concurrent attempts, on one replica or many. Every attempt counts, readable or not, so a flood of
        junk files is limited too."""
        now = utcnow()
        fresh = RateRow.window_start <= now - dt.timedelta(seconds=seconds)
        insert = self._insert(RateRow).values(user_id=user_id, window_start=now, used=1)
        return insert.on_conflict_do_update(
            index_elements=[RateRow.user_id],
            set_={"used": case((fresh, 1), else_=RateRow.used + 1), "window_start": case((fresh, now), else_=RateRow.window_start)},
        ).returning(RateRow.used)

    @property
    def shared_by_replicas(self) -> bool:
        """Can several bot processes run on this database? PostgreSQL, which several replicas reach; an
        embedded SQLite file has one bot process: its own pacing is enough, and any other process the
        database remembers is a predecessor that is gone."""
        return self.engine.dialect.name == "postgresql"

    @bounded
    async def reserve_send(self, budget: str, interval: float, tolerance: float) -> float:
        """Take the next slot of a send budget every replica shares; returns the seconds to wait for it.

        The generic cell rate algorithm of ``bot.delivery.ratelimit.Pacer`` in one statement, on the database's
        clock: the upsert's row lock orders replicas that ask at once, first come, first served. It runs
        in autocommit, so the lock is held while the statement runs, not for a round trip to commit
        it: every send of every replica passes through this one row."""
        now = func.extract("epoch", func.statement_timestamp())
        insert = self._insert(SendSlotRow).values(budget=budget, due=now + interval)
        statement = insert.on_conflict_do_update(
            index_elements=[SendSlotRow.budget], set_={"due": func.greatest(SendSlotRow.due, now) + interval}
        ).returning(func.greatest(0.0, SendSlotRow.due - interval - tolerance - now))
        async with self.engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            return float((await autocommit.execute(statement)).scalar_one())

    @bounded
    async def keep_update(self, update_id: int, body: str, owner: str) -> bool:
        """Keep an update, as the replica ``owner``'s, before Telegram is told it arrived; False if it was already kept."""
        insert = self._insert(InboxRow).values(update_id=update_id, body=body, received_at=utcnow(), owner=owner)
        async with self.transaction() as session:
            return (await session.execute(insert.on_conflict_do_nothing().returning(InboxRow.update_id))).first() is not None

    @bounded
    async def pending_updates(self) -> list[str]:
        async with self.sessions() as session:
            return list((await session.scalars(select(InboxRow.body).order_by(InboxRow.update_id))).all())

    @bounded
    async def beat(self, replica: str) -> None:
        """The replica is alive now."""
        insert = self._insert(ReplicaRow).values(id=replica, seen_at=utcnow())
        async with self.transaction() as session:
            await session.execute(insert.on_conflict_do_update(index_elements=[ReplicaRow.id], set_={"seen_at": insert.excluded.seen_at}))

    @bounded
    async def adopt_updates(self, replica: str, silence: dt.timedelta) -> list[str]:
        """Make ``replica`` the owner of the kept updates no live replica owns, oldest first: those of
        replicas whose heartbeat is older than ``silence`` (forgotten here) and those kept with no owner.
        The update's row lock orders two replicas adopting at once: a row the first took has a live owner
        when the second reads it again."""
        async with self.transaction() as session:
            await session.execute(delete(ReplicaRow).where(ReplicaRow.seen_at < utcnow() - silence, ReplicaRow.id != replica))
            orphaned = InboxRow.owner.is_(None) | InboxRow.owner.not_in(select(ReplicaRow.id))
            adopted = update(InboxRow).where(orphaned).values(owner=replica).returning(InboxRow.update_id, InboxRow.body)
            rows = (await session.execute(adopted)).all()
        return [body for _, body in sorted(rows)]

    @bounded
    async def leave(self, replica: str) -> None:
        """The replica stops: what it still owns may be adopted at once."""
        async with self.transaction() as session:
            await session.execute(delete(ReplicaRow).where(ReplicaRow.id == replica))

    @bounded
    async def drop_update(self, update_id: int) -> None:
        async with self.transaction() as session:
            await session.execute(delete(InboxRow).where(InboxRow.update_id == update_id))
