"""What leaves the database in bulk: the admins' figures, and the corrections and photos retraining reads."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot.storage.engine import Database, batches, bounded
from bot.storage.records import ExportedCorrection, Stats
from bot.storage.schema import CorrectionRow, PhotoRow, PredictionRow


class ReportQueries(Database):
    @bounded
    async def stats(self) -> Stats:
        async with self.sessions() as session:

            async def count(*where: Any) -> int:
                return int(await session.scalar(select(func.count()).where(*where)) or 0)

            predictions = int(await session.scalar(select(func.count()).select_from(PredictionRow)) or 0)
            users = int(await session.scalar(select(func.count(func.distinct(PredictionRow.user_id)))) or 0)
            feedback = int(await session.scalar(select(func.count()).select_from(CorrectionRow)) or 0)
            pairs = await session.execute(
                select(PredictionRow.digits, CorrectionRow.label, func.count())
                .join(CorrectionRow, CorrectionRow.prediction_id == PredictionRow.id)
                .where(func.length(CorrectionRow.label) == 1, func.length(PredictionRow.digits) <= 1)
                .group_by(PredictionRow.digits, CorrectionRow.label)
            )
            confusion = {(label, predicted): int(n) for predicted, label, n in pairs}
            outcomes = dict(
                (
                    await session.execute(
                        select(CorrectionRow.confirmed, func.count())
                        .join(PredictionRow, CorrectionRow.prediction_id == PredictionRow.id)
                        .where(PredictionRow.recalled.is_(True), PredictionRow.recall_dropped.is_(False))
                        .group_by(CorrectionRow.confirmed)
                    )
                ).all()
            )
            return Stats(
                predictions,
                users,
                feedback,
                await count(CorrectionRow.confirmed.is_(True)),
                await count(PredictionRow.digits == ""),
                confusion,
                await count(PredictionRow.recalled.is_(True)),
                int(outcomes.get(True, 0)),
                int(outcomes.get(False, 0)),
                await count(PredictionRow.recall_dropped.is_(True)),
            )

    async def export_corrections(self) -> list[ExportedCorrection]:
        """Every correction, oldest first, without photo bytes: the input of retraining."""
        query = (
            select(
                PredictionRow.id,
                CorrectionRow.user_id,
                PredictionRow.photo_sha256,
                CorrectionRow.label,
                PredictionRow.digits,
                PredictionRow.details,
                PredictionRow.model_version,
                CorrectionRow.updated_at,
            )
            .join(CorrectionRow, CorrectionRow.prediction_id == PredictionRow.id)
            .order_by(CorrectionRow.id)
        )
        async with self.sessions() as session:
            rows = (await session.execute(query)).all()
        return [
            ExportedCorrection(prediction, user, sha, label, predicted, float(details.get("confidence", 0.0)), version, at)
            for prediction, user, sha, label, predicted, details, version, at in rows
        ]

    async def spool_photos(self, shas: Iterable[str], into: Path, per_batch: int = 16) -> int:
        """Write each photo to ``into/<sha256>``, streaming a few rows at a time: a thousand 2 MB
        photos never sit in memory together. Returns how many were written."""
        written = 0
        async with self.sessions() as session:
            for batch in batches(sorted(set(shas))):
                query = select(PhotoRow.sha256, PhotoRow.data).where(PhotoRow.sha256.in_(batch)).execution_options(yield_per=per_batch)
                async for sha, data in await session.stream(query):
                    (into / sha).write_bytes(data)
                    written += 1
        return written
