"""Corrections, and the shapes remembered from them: what a person says a photo shows, and what the bot keeps of it for them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError

from bot.storage.engine import Database, bounded
from bot.storage.records import NewMemory, Remembered
from bot.storage.schema import CorrectionRow, MemoryRow, PredictionRow, utcnow
from model.reading.labels import is_label


class CorrectionQueries(Database):
    @bounded
    async def record_correction(self, prediction_id: int, user_id: int, label: str, memories: Sequence[NewMemory] = ()) -> bool:
        """Store what the photo really shows; returns False when nothing changed (a repeated press).

        One row per prediction: a second press of the same answer changes nothing, a
        different answer replaces the first (the user changed their mind), and with it the
        digits remembered from this prediction: ``memories``, written in the same
        transaction, so a correction racing ``/forget`` leaves neither behind. A label that
        is not ASCII digits is refused here too, whoever calls.
        """
        if not is_label(label):
            raise ValueError(f"not a label: {label!r}")
        async with self.transaction() as session:
            owner = (
                await session.execute(
                    select(PredictionRow.digits, PredictionRow.user_id).where(PredictionRow.id == prediction_id).with_for_update()
                )
            ).first()
            if owner is None:
                raise KeyError(prediction_id)
            predicted, owner_id = owner
            now = utcnow()
            values = {
                "prediction_id": prediction_id,
                "user_id": user_id,
                "label": label,
                "confirmed": label == predicted,
                "created_at": now,
                "updated_at": now,
            }
            insert = self._insert(CorrectionRow).values(**values)
            upsert = insert.on_conflict_do_update(
                index_elements=[CorrectionRow.prediction_id],
                set_={"label": label, "confirmed": values["confirmed"], "updated_at": now},
                where=or_(CorrectionRow.label != label),
            ).returning(CorrectionRow.id)
            changed = (await session.execute(upsert)).first() is not None
            if changed:
                await session.execute(delete(MemoryRow).where(MemoryRow.prediction_id == prediction_id))
                session.add_all(MemoryRow(user_id=owner_id, prediction_id=prediction_id, **m.__dict__) for m in memories)
            return changed

    @bounded
    async def remember(self, prediction_id: int, label: str, memories: Sequence[NewMemory]) -> Remembered:
        """Keep ``memories`` for the prediction's owner, the answer to "remember it as ``label``?".

        Only while ``label`` is still the stored correction (else ``CHANGED``), and once
        (``BEFORE`` when its shapes are kept already); ``KeyError`` when the prediction is gone.
        The prediction's row is locked first (PostgreSQL), so a ``/forget`` or a changed
        correction at the same moment waits for this, or this for it; on SQLite the foreign key
        refuses shapes of a prediction deleted meanwhile. Nothing is left half-written.
        """
        try:
            async with self.transaction() as session:
                owner = await session.scalar(select(PredictionRow.user_id).where(PredictionRow.id == prediction_id).with_for_update())
                if owner is None:
                    raise KeyError(prediction_id)
                stored = await session.scalar(select(CorrectionRow.label).where(CorrectionRow.prediction_id == prediction_id))
                if stored != label:
                    return Remembered.CHANGED
                if await session.scalar(select(MemoryRow.id).where(MemoryRow.prediction_id == prediction_id).limit(1)) is not None:
                    return Remembered.BEFORE
                session.add_all(MemoryRow(user_id=owner, prediction_id=prediction_id, **m.__dict__) for m in memories)
            return Remembered.NOW
        except IntegrityError as err:  # SQLite reads without a lock: a /forget between the read and the write lands here
            raise KeyError(prediction_id) from err
