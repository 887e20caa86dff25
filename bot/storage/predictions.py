"""Predictions: stored before an answer is sent, found again by id, by the asking message, or by a reply to the answer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.engine import Database, aware, bounded
from bot.storage.records import NewPrediction, StoredPrediction
from bot.storage.schema import CorrectionRow, ForgetRow, InboxRow, MemoryRow, PhotoRow, PredictionRow


class _Forgotten(Exception):
    """Rolls back a prediction whose sender asked to be forgotten after sending it."""


class PredictionQueries(Database):
    @bounded
    async def save_prediction(self, new: NewPrediction, sent_at: dt.datetime) -> int | None:
        """Store a prediction and return its id, committed; None when its sender ``/forget``-ed
        after sending it (the photo was still being read when the data was deleted).

        The row is written before the mark is read, and ``forget_user`` writes the mark
        first: on SQLite the write lock orders the two, on PostgreSQL a lock per user does.
        """
        try:
            async with self.transaction() as session:
                await self._lock_user(session, new.user_id)
                await session.execute(self._insert(PhotoRow).values(sha256=new.photo_sha256, data=new.photo).on_conflict_do_nothing())
                row = PredictionRow(**{k: v for k, v in new.__dict__.items() if k != "photo"})
                session.add(row)
                await session.flush()
                forgotten = await session.scalar(select(ForgetRow.before).where(ForgetRow.user_id == new.user_id))
                if forgotten is not None and aware(sent_at) <= aware(forgotten):
                    raise _Forgotten
                return row.id
        except _Forgotten:
            return None

    @bounded
    async def prediction(self, prediction_id: int) -> StoredPrediction | None:
        return await self._one(PredictionRow.id == prediction_id)

    @bounded
    async def prediction_for_reply(self, chat_id: int, message_id: int) -> StoredPrediction | None:
        """The prediction a bot message belongs to (its answer, or its "what number?" prompt), for
        corrections typed as a reply to it."""
        return await self._one(
            (PredictionRow.chat_id == chat_id)
            & or_(PredictionRow.reply_message_id == message_id, PredictionRow.prompt_message_id == message_id)
        )

    @bounded
    async def set_prompt_message(self, prediction_id: int, message_id: int) -> None:
        async with self.transaction() as session:
            await session.execute(update(PredictionRow).where(PredictionRow.id == prediction_id).values(prompt_message_id=message_id))

    @bounded
    async def drop_recalled(self, prediction_id: int, memory_ids: Sequence[int], digits: str, details: dict[str, Any]) -> bool:
        """ "Not this time": the remembered shapes that decided this answer are forgotten and the
        network's reading (``digits``, ``details``) becomes the answer. False when it was done before;
        ``KeyError`` when the prediction is gone. Only the prediction's owner's shapes can go."""
        async with self.transaction() as session:
            changed = await session.execute(
                update(PredictionRow)
                .where(PredictionRow.id == prediction_id, PredictionRow.recall_dropped.is_(False))
                .values(recall_dropped=True, digits=digits, details=details)
                .returning(PredictionRow.user_id)
            )
            owner = changed.scalar_one_or_none()
            if owner is None:
                if await session.scalar(select(PredictionRow.id).where(PredictionRow.id == prediction_id)) is None:
                    raise KeyError(prediction_id)
                return False
            await session.execute(delete(MemoryRow).where(MemoryRow.id.in_(list(memory_ids)), MemoryRow.user_id == owner))
            return True

    async def _one(self, condition: Any) -> StoredPrediction | None:
        async with self.sessions() as session:
            return await one(session, condition)

    @bounded
    async def set_reply_message(self, prediction_id: int, message_id: int, handled_update: int | None = None) -> None:
        """The answer's message id, committed; with ``handled_update``, that update leaves the inbox in the same transaction."""
        async with self.transaction() as session:
            await session.execute(update(PredictionRow).where(PredictionRow.id == prediction_id).values(reply_message_id=message_id))
            if handled_update is not None:
                await session.execute(delete(InboxRow).where(InboxRow.update_id == handled_update))

    @bounded
    async def photo(self, sha256: str) -> bytes | None:
        """A stored photo's bytes (for the pictures of what was read): never on a button press's hot path."""
        async with self.sessions() as session:
            data = await session.scalar(select(PhotoRow.data).where(PhotoRow.sha256 == sha256))
        return bytes(data) if data is not None else None


async def one(session: AsyncSession, condition: Any) -> StoredPrediction | None:
    """The first prediction matching ``condition``, with its correction's label."""
    query = (
        select(PredictionRow, CorrectionRow.label)
        .outerjoin(CorrectionRow, CorrectionRow.prediction_id == PredictionRow.id)
        .where(condition)
        .limit(1)
    )
    found = (await session.execute(query)).first()
    if found is None:
        return None
    row, label = found
    return StoredPrediction(
        id=row.id,
        user_id=row.user_id,
        chat_id=row.chat_id,
        reply_message_id=row.reply_message_id,
        model_version=row.model_version,
        digits=row.digits,
        details=row.details,
        model_inputs=row.model_inputs,
        label=label,
        photo_sha256=row.photo_sha256,
    )
