"""``/forget``: every trace of a person goes at once, and what they sent before asking is never stored after it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, or_, select

from bot.storage.engine import Database, batches, bounded
from bot.storage.schema import CorrectionRow, ForgetRow, MemoryRow, PhotoRow, PredictionRow


class PrivacyQueries(Database):
    @bounded
    async def forget_user(self, user_id: int, before: dt.datetime) -> int:
        """Delete every photo, prediction and correction of a user; returns how many photos went.

        ``before`` (when the user asked) is kept, so a photo sent earlier and still being
        read is not stored afterwards. On SQLite the freed pages are zeroed
        (``secure_delete``) and the write-ahead log is truncated, so the photos leave the file.
        """
        async with self.transaction() as session:
            await self._lock_user(session, user_id)
            mark = self._insert(ForgetRow).values(user_id=user_id, before=before)
            await session.execute(mark.on_conflict_do_update(index_elements=[ForgetRow.user_id], set_={"before": before}))
            ids = select(PredictionRow.id).where(PredictionRow.user_id == user_id).scalar_subquery()
            shas = list(
                (await session.scalars(select(PredictionRow.photo_sha256).where(PredictionRow.user_id == user_id).distinct())).all()
            )
            await session.execute(delete(MemoryRow).where(or_(MemoryRow.user_id == user_id, MemoryRow.prediction_id.in_(ids))))
            await session.execute(delete(CorrectionRow).where(or_(CorrectionRow.user_id == user_id, CorrectionRow.prediction_id.in_(ids))))
            result = await session.execute(delete(PredictionRow).where(PredictionRow.user_id == user_id))
            for batch in batches(shas):  # a photo another user also sent stays for them
                still_used = select(PredictionRow.id).where(PredictionRow.photo_sha256 == PhotoRow.sha256).exists()
                await session.execute(delete(PhotoRow).where(PhotoRow.sha256.in_(batch), ~still_used))
        if self.engine.dialect.name == "sqlite":
            async with self.engine.connect() as connection:
                await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return int(getattr(result, "rowcount", 0) or 0)
