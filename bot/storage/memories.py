"""The remembered shapes as the photo path reads them: one cheap mark per photo, new rows since a cached id, and the
rows a newer model must recompute."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.engine import Database, bounded
from bot.storage.records import MemoryMark
from bot.storage.schema import MemoryRow


class MemoryQueries(Database):
    @bounded
    async def memory_mark(self, user_id: int, model_version: str) -> MemoryMark:
        async with self.sessions() as session:
            return await memory_mark(session, user_id, model_version)

    @bounded
    async def memories(self, user_id: int, model_version: str, after_id: int = 0) -> list[tuple[int, int, bytes]]:
        """(id, label, vector) of a person's remembered digits under one model version, oldest first."""
        query = (
            select(MemoryRow.id, MemoryRow.label, MemoryRow.vector)
            .where(MemoryRow.user_id == user_id, MemoryRow.model_version == model_version, MemoryRow.id > after_id)
            .order_by(MemoryRow.id)
        )
        async with self.sessions() as session:
            return [(int(i), int(label), bytes(vector)) for i, label, vector in (await session.execute(query)).all()]

    @bounded
    async def stale_memories(self, user_id: int, model_version: str) -> list[tuple[int, bytes]]:
        """(id, 28x28 input) of a person's digits remembered under another model version."""
        query = select(MemoryRow.id, MemoryRow.pixels).where(MemoryRow.user_id == user_id, MemoryRow.model_version != model_version)
        async with self.sessions() as session:
            return [(int(i), bytes(pixels)) for i, pixels in (await session.execute(query)).all()]

    @bounded
    async def revector(self, model_version: str, vectors: Sequence[tuple[int, bytes]]) -> None:
        """Vectors recomputed by ``model_version`` replace the old ones (rows deleted meanwhile stay deleted)."""
        async with self.transaction() as session:
            for memory_id, vector in vectors:
                await session.execute(update(MemoryRow).where(MemoryRow.id == memory_id).values(model_version=model_version, vector=vector))


async def memory_mark(session: AsyncSession, user_id: int, model_version: str) -> MemoryMark:
    """One indexed look-up per photo: a replica's cache is current exactly when this is unchanged."""
    current = MemoryRow.model_version == model_version
    query = select(
        func.coalesce(func.sum(case((current, 1), else_=0)), 0),
        func.coalesce(func.max(case((current, MemoryRow.id), else_=None)), 0),
        func.coalesce(func.sum(case((current, 0), else_=1)), 0),
    ).where(MemoryRow.user_id == user_id)
    count, last_id, stale = (await session.execute(query)).one()
    return MemoryMark(int(count), int(last_id), int(stale))
