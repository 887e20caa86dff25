"""Predictions and corrections in SQL: SQLite (aiosqlite) embedded, PostgreSQL (asyncpg) in production.

Everything a handler needs lives here, keyed by database ids, so any replica can serve
any button press and nothing is held in process memory. The schema is owned by the
Alembic migrations in ``bot/migrations``; ``Storage.migrate`` applies them on start.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    delete,
    event,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import JSON

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
Id = BigInteger().with_variant(Integer, "sqlite")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    pass


class PredictionRow(Base):
    __tablename__ = "predictions"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    reply_message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    model_version: Mapped[str] = mapped_column(String(32))
    digits: Mapped[str] = mapped_column(String(32))
    confidence: Mapped[float] = mapped_column(Float)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    photo: Mapped[bytes] = mapped_column(LargeBinary)
    photo_sha256: Mapped[str] = mapped_column(String(64), index=True)
    model_inputs: Mapped[bytes] = mapped_column(LargeBinary)
    input_count: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_predictions_reply", "chat_id", "reply_message_id"),)


class CorrectionRow(Base):
    __tablename__ = "corrections"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    prediction_id: Mapped[int] = mapped_column(ForeignKey("predictions.id", ondelete="CASCADE"), unique=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    label: Mapped[str] = mapped_column(String(32))
    confirmed: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


@dataclass(frozen=True)
class NewPrediction:
    user_id: int
    chat_id: int
    message_id: int
    model_version: str
    digits: str
    confidence: float
    details: dict[str, Any]
    photo: bytes
    photo_sha256: str
    model_inputs: bytes
    input_count: int


@dataclass(frozen=True)
class StoredPrediction:
    id: int
    user_id: int
    chat_id: int
    reply_message_id: int | None
    model_version: str
    digits: str
    confidence: float
    details: dict[str, Any]
    model_inputs: bytes
    input_count: int
    label: str | None


@dataclass(frozen=True)
class ExportedCorrection:
    """One corrected photo, as retraining needs it: the original bytes, not the old model inputs."""

    prediction_id: int
    user_id: int
    photo: bytes
    photo_sha256: str
    label: str
    predicted: str
    confidence: float
    model_version: str
    created_at: dt.datetime


@dataclass(frozen=True)
class Stats:
    predictions: int
    users: int
    feedback: int
    confirmed: int
    no_digit: int
    confusion: dict[tuple[str, str], int]

    @property
    def reported_accuracy(self) -> float | None:
        return self.confirmed / self.feedback if self.feedback else None


class Storage:
    def __init__(self, url: str) -> None:
        self.url = url
        options: dict[str, Any] = {"pool_pre_ping": True}
        if url.startswith("sqlite"):
            options["connect_args"] = {"timeout": 30}
        self.engine: AsyncEngine = create_async_engine(url, **options)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    async def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision; safe to run from several replicas at once."""
        if self.url.startswith("sqlite"):
            database = self.url.split("///", 1)[-1]
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
        async with self.engine.begin() as connection:
            if self.engine.dialect.name == "postgresql":
                await connection.execute(text("SELECT pg_advisory_xact_lock(727274)"))
            await connection.run_sync(_upgrade)

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def close(self) -> None:
        await self.engine.dispose()

    async def save_prediction(self, new: NewPrediction) -> int:
        """Store a prediction and return its id; committed before this returns."""
        async with self.sessions.begin() as session:
            row = PredictionRow(**new.__dict__)
            session.add(row)
            await session.flush()
            return row.id

    async def set_reply_message(self, prediction_id: int, message_id: int) -> None:
        async with self.sessions.begin() as session:
            await session.execute(update(PredictionRow).where(PredictionRow.id == prediction_id).values(reply_message_id=message_id))

    async def prediction(self, prediction_id: int) -> StoredPrediction | None:
        return await self._one(PredictionRow.id == prediction_id)

    async def prediction_for_reply(self, chat_id: int, reply_message_id: int) -> StoredPrediction | None:
        """The prediction a bot answer belongs to, for corrections typed as a reply to it."""
        return await self._one((PredictionRow.chat_id == chat_id) & (PredictionRow.reply_message_id == reply_message_id))

    async def _one(self, condition: Any) -> StoredPrediction | None:
        query = (
            select(PredictionRow, CorrectionRow.label)
            .outerjoin(CorrectionRow, CorrectionRow.prediction_id == PredictionRow.id)
            .where(condition)
            .limit(1)
        )
        async with self.sessions() as session:
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
            confidence=row.confidence,
            details=row.details,
            model_inputs=row.model_inputs,
            input_count=row.input_count,
            label=label,
        )

    async def record_correction(self, prediction_id: int, user_id: int, label: str) -> bool:
        """Store what the photo really shows; returns False when nothing changed (a repeated press).

        One row per prediction: a second press of the same answer changes nothing, a
        different answer replaces the first (the user changed their mind).
        """
        async with self.sessions.begin() as session:
            predicted = await session.scalar(select(PredictionRow.digits).where(PredictionRow.id == prediction_id))
            if predicted is None:
                raise KeyError(prediction_id)
            now = utcnow()
            values = {
                "prediction_id": prediction_id,
                "user_id": user_id,
                "label": label,
                "confirmed": label == predicted,
                "created_at": now,
                "updated_at": now,
            }
            insert = (postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert)(CorrectionRow).values(**values)
            upsert = insert.on_conflict_do_update(
                index_elements=[CorrectionRow.prediction_id],
                set_={"label": label, "confirmed": values["confirmed"], "updated_at": now},
                where=or_(CorrectionRow.label != label),
            ).returning(CorrectionRow.id)
            return (await session.execute(upsert)).first() is not None

    async def recent_predictions(self, user_id: int, seconds: float) -> int:
        since = utcnow() - dt.timedelta(seconds=seconds)
        async with self.sessions() as session:
            count = await session.scalar(select(func.count()).where(PredictionRow.user_id == user_id, PredictionRow.created_at >= since))
        return int(count or 0)

    async def forget_user(self, user_id: int) -> int:
        """Delete every photo, prediction and correction of a user; returns how many photos went."""
        async with self.sessions.begin() as session:
            ids = select(PredictionRow.id).where(PredictionRow.user_id == user_id).scalar_subquery()
            await session.execute(delete(CorrectionRow).where(or_(CorrectionRow.user_id == user_id, CorrectionRow.prediction_id.in_(ids))))
            result = await session.execute(delete(PredictionRow).where(PredictionRow.user_id == user_id))
            return int(getattr(result, "rowcount", 0) or 0)

    async def stats(self) -> Stats:
        async with self.sessions() as session:
            predictions = int(await session.scalar(select(func.count()).select_from(PredictionRow)) or 0)
            users = int(await session.scalar(select(func.count(func.distinct(PredictionRow.user_id)))) or 0)
            no_digit = int(await session.scalar(select(func.count()).where(PredictionRow.digits == "")) or 0)
            feedback = int(await session.scalar(select(func.count()).select_from(CorrectionRow)) or 0)
            confirmed = int(await session.scalar(select(func.count()).where(CorrectionRow.confirmed.is_(True))) or 0)
            pairs = await session.execute(
                select(PredictionRow.digits, CorrectionRow.label, func.count())
                .join(CorrectionRow, CorrectionRow.prediction_id == PredictionRow.id)
                .where(func.length(CorrectionRow.label) == 1, func.length(PredictionRow.digits) <= 1)
                .group_by(PredictionRow.digits, CorrectionRow.label)
            )
            confusion = {(label, predicted): int(n) for predicted, label, n in pairs}
        return Stats(predictions, users, feedback, confirmed, no_digit, confusion)

    async def export_corrections(self) -> list[ExportedCorrection]:
        """Every correction with its original photo, oldest first: the input of retraining."""
        query = (
            select(PredictionRow, CorrectionRow)
            .join(CorrectionRow, CorrectionRow.prediction_id == PredictionRow.id)
            .order_by(CorrectionRow.id)
        )
        async with self.sessions() as session:
            rows = (await session.execute(query)).all()
        return [
            ExportedCorrection(
                prediction_id=p.id,
                user_id=c.user_id,
                photo=p.photo,
                photo_sha256=p.photo_sha256,
                label=c.label,
                predicted=p.digits,
                confidence=p.confidence,
                model_version=p.model_version,
                created_at=c.updated_at,
            )
            for p, c in rows
        ]


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable across crashes of the bot, one fsync per checkpoint
    cursor.close()


def _upgrade(connection: Connection) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
