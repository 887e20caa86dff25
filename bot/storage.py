"""Predictions and corrections in SQL: SQLite (aiosqlite) embedded, PostgreSQL (asyncpg) in production.

Everything a handler needs lives here, keyed by database ids, so any replica can serve
any button press and nothing is held in process memory: the rate limit, the updates not
yet handled and the ``/forget`` marks too. The schema is owned by the Alembic migrations
in ``bot/migrations``; ``Storage.migrate`` applies them on start.

Every call a handler makes is bounded by ``timeout``: a stuck database turns into a
``DatabaseTimeout`` (the user hears "try again") instead of a handler that never ends.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from collections.abc import Callable, Coroutine, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

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
    Text,
    case,
    delete,
    event,
    false,
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

from model.reading.labels import is_label

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
Id = BigInteger().with_variant(Integer, "sqlite")
P = ParamSpec("P")
T = TypeVar("T")


class DatabaseTimeout(TimeoutError):
    """The database did not answer in time: the caller tells the user to try again."""


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
    photo_sha256: Mapped[str] = mapped_column(String(64), index=True)
    model_inputs: Mapped[bytes] = mapped_column(LargeBinary)
    input_count: Mapped[int] = mapped_column(Integer)
    prompt_message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    recalled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """A digit of this answer came from the sender's memory of corrected shapes, not the network."""

    __table_args__ = (
        Index("ix_predictions_reply", "chat_id", "reply_message_id"),
        Index("ix_predictions_message", "chat_id", "message_id"),
        Index("ix_predictions_prompt", "chat_id", "prompt_message_id"),
    )


class PhotoRow(Base):
    """Photo bytes, once per content, out of the prediction row that every button press reads."""

    __tablename__ = "photos"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class CorrectionRow(Base):
    __tablename__ = "corrections"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    prediction_id: Mapped[int] = mapped_column(ForeignKey("predictions.id", ondelete="CASCADE"), unique=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    label: Mapped[str] = mapped_column(String(32))
    confirmed: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MemoryRow(Base):
    """One corrected digit of one person: its vector under ``model_version`` and its 28x28 input,
    from which the vector is recomputed when another model is promoted."""

    __tablename__ = "memories"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    prediction_id: Mapped[int] = mapped_column(ForeignKey("predictions.id", ondelete="CASCADE"), index=True)
    model_version: Mapped[str] = mapped_column(String(32))
    label: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    pixels: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (Index("ix_memories_user", "user_id", "model_version", "id"),)


class RateRow(Base):
    """One row per user: how many photos they sent in the current window (a fixed window)."""

    __tablename__ = "rate_limits"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    window_start: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used: Mapped[int] = mapped_column(Integer)


class InboxRow(Base):
    """An update Telegram delivered and the bot has not finished: kept until its answer is out."""

    __tablename__ = "inbox"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    body: Mapped[str] = mapped_column(Text)


class ForgetRow(Base):
    """A user's last ``/forget``: photos they sent before it are never stored, even ones still being read."""

    __tablename__ = "forget_marks"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    before: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


def bounded(method: Callable[Concatenate[Storage, P], Coroutine[Any, Any, T]]) -> Callable[Concatenate[Storage, P], Coroutine[Any, Any, T]]:
    async def call(self: Storage, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self.within(method(self, *args, **kwargs), self.timeout)

    functools.update_wrapper(call, method)
    return call


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
    recalled: bool = False


@dataclass(frozen=True)
class NewMemory:
    """A corrected digit to remember: its label, its vector under ``model_version``, its 28x28 input."""

    model_version: str
    label: int
    vector: bytes
    pixels: bytes


@dataclass(frozen=True)
class MemoryMark:
    """Enough to tell whether a cached memory is current: rows under this version, the last id, rows under others."""

    count: int
    last_id: int
    stale: int


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
    photo_sha256: str = ""


@dataclass(frozen=True)
class ExportedCorrection:
    """One correction, as retraining needs it; the photo (by its SHA-256) is fetched apart, in batches."""

    prediction_id: int
    user_id: int
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
    recalled: int = 0
    recalled_confirmed: int = 0
    recalled_corrected: int = 0

    @property
    def reported_accuracy(self) -> float | None:
        return self.confirmed / self.feedback if self.feedback else None


class Storage:
    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url, self.timeout = url, timeout
        options: dict[str, Any] = {"pool_pre_ping": True, "pool_timeout": timeout}
        if url.startswith("sqlite"):
            options = {"connect_args": {"timeout": timeout}}
        elif url.startswith("postgresql+asyncpg"):
            # The driver's own limits free a connection to a frozen server; `within` answers the caller first.
            options["connect_args"] = {"timeout": timeout, "command_timeout": max(30.0, 5 * timeout)}
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

    @staticmethod
    async def within(work: Coroutine[Any, Any, T], seconds: float) -> T:
        """Await ``work`` for at most ``seconds``, then give up on it without waiting for its cleanup.

        A plain ``asyncio.timeout`` would wait for the cancelled work to roll back, which,
        on a frozen server, takes as long as the freeze.
        """
        task = asyncio.ensure_future(work)
        task.add_done_callback(_retrieve)
        try:
            done, _ = await asyncio.wait({task}, timeout=seconds)
        except asyncio.CancelledError:
            task.cancel()
            raise
        if not done:
            task.cancel()
            raise DatabaseTimeout(f"the database did not answer within {seconds:g} s")
        return task.result()

    async def ping(self, seconds: float = 1.5) -> bool:
        async def select_one() -> None:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))

        try:
            await self.within(select_one(), min(seconds, self.timeout))
            return True
        except Exception:
            return False

    async def close(self) -> None:
        await self.engine.dispose()

    @bounded
    async def save_prediction(self, new: NewPrediction, sent_at: dt.datetime) -> int | None:
        """Store a prediction and return its id, committed; None when its sender ``/forget``-ed
        after sending it (the photo was still being read when the data was deleted).

        The row is written before the mark is read, and ``forget_user`` writes the mark
        first: on SQLite the write lock orders the two, on PostgreSQL a lock per user does.
        """
        try:
            async with self.sessions.begin() as session:
                await self._lock_user(session, new.user_id)
                await session.execute(self._insert(PhotoRow).values(sha256=new.photo_sha256, data=new.photo).on_conflict_do_nothing())
                row = PredictionRow(**{k: v for k, v in new.__dict__.items() if k != "photo"})
                session.add(row)
                await session.flush()
                forgotten = await session.scalar(select(ForgetRow.before).where(ForgetRow.user_id == new.user_id))
                if forgotten is not None and _aware(sent_at) <= _aware(forgotten):
                    raise _Forgotten
                return row.id
        except _Forgotten:
            return None

    async def _lock_user(self, session: Any, user_id: int) -> None:
        if self.engine.dialect.name == "postgresql":
            await session.execute(text("SELECT pg_advisory_xact_lock(727275, hashtext(:u))"), {"u": str(user_id)})

    @bounded
    async def prediction_for_message(self, chat_id: int, message_id: int) -> StoredPrediction | None:
        """The prediction made from a user's message: an update handled again after a crash finds it."""
        return await self._one((PredictionRow.chat_id == chat_id) & (PredictionRow.message_id == message_id))

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

    def _insert(self, table: type[Base]) -> Any:
        return (postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert)(table)

    @bounded
    async def set_reply_message(self, prediction_id: int, message_id: int) -> None:
        async with self.sessions.begin() as session:
            await session.execute(update(PredictionRow).where(PredictionRow.id == prediction_id).values(reply_message_id=message_id))

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
        async with self.sessions.begin() as session:
            await session.execute(update(PredictionRow).where(PredictionRow.id == prediction_id).values(prompt_message_id=message_id))

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
            photo_sha256=row.photo_sha256,
        )

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
        async with self.sessions.begin() as session:
            owner = (
                await session.execute(select(PredictionRow.digits, PredictionRow.user_id).where(PredictionRow.id == prediction_id))
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
    async def photo(self, sha256: str) -> bytes | None:
        """A stored photo's bytes (for the pictures of what was read): never on a button press's hot path."""
        async with self.sessions() as session:
            data = await session.scalar(select(PhotoRow.data).where(PhotoRow.sha256 == sha256))
        return bytes(data) if data is not None else None

    @bounded
    async def memory_mark(self, user_id: int, model_version: str) -> MemoryMark:
        """One indexed look-up per photo: a replica's cache is current exactly when this is unchanged."""
        current = MemoryRow.model_version == model_version
        query = select(
            func.coalesce(func.sum(case((current, 1), else_=0)), 0),
            func.coalesce(func.max(case((current, MemoryRow.id), else_=None)), 0),
            func.coalesce(func.sum(case((current, 0), else_=1)), 0),
        ).where(MemoryRow.user_id == user_id)
        async with self.sessions() as session:
            count, last_id, stale = (await session.execute(query)).one()
        return MemoryMark(int(count), int(last_id), int(stale))

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
        async with self.sessions.begin() as session:
            for memory_id, vector in vectors:
                await session.execute(update(MemoryRow).where(MemoryRow.id == memory_id).values(model_version=model_version, vector=vector))

    @bounded
    async def forget_user(self, user_id: int, before: dt.datetime) -> int:
        """Delete every photo, prediction and correction of a user; returns how many photos went.

        ``before`` (when the user asked) is kept, so a photo sent earlier and still being
        read is not stored afterwards. On SQLite the freed pages are zeroed
        (``secure_delete``) and the write-ahead log is truncated, so the photos leave the file.
        """
        async with self.sessions.begin() as session:
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
            for batch in _batches(shas):  # a photo another user also sent stays for them
                still_used = select(PredictionRow.id).where(PredictionRow.photo_sha256 == PhotoRow.sha256).exists()
                await session.execute(delete(PhotoRow).where(PhotoRow.sha256.in_(batch), ~still_used))
        if self.engine.dialect.name == "sqlite":
            async with self.engine.connect() as connection:
                await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return int(getattr(result, "rowcount", 0) or 0)

    @bounded
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
            recalled = int(await session.scalar(select(func.count()).where(PredictionRow.recalled.is_(True))) or 0)
            outcomes = dict(
                (
                    await session.execute(
                        select(CorrectionRow.confirmed, func.count())
                        .join(PredictionRow, CorrectionRow.prediction_id == PredictionRow.id)
                        .where(PredictionRow.recalled.is_(True))
                        .group_by(CorrectionRow.confirmed)
                    )
                ).all()
            )
        return Stats(
            predictions, users, feedback, confirmed, no_digit, confusion, recalled, int(outcomes.get(True, 0)), int(outcomes.get(False, 0))
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
                PredictionRow.confidence,
                PredictionRow.model_version,
                CorrectionRow.updated_at,
            )
            .join(CorrectionRow, CorrectionRow.prediction_id == PredictionRow.id)
            .order_by(CorrectionRow.id)
        )
        async with self.sessions() as session:
            rows = (await session.execute(query)).all()
        return [ExportedCorrection(*row) for row in rows]

    async def spool_photos(self, shas: Iterable[str], into: Path, per_batch: int = 16) -> int:
        """Write each photo to ``into/<sha256>``, streaming a few rows at a time: a thousand 2 MB
        photos never sit in memory together. Returns how many were written."""
        written = 0
        async with self.sessions() as session:
            for batch in _batches(sorted(set(shas))):
                query = select(PhotoRow.sha256, PhotoRow.data).where(PhotoRow.sha256.in_(batch)).execution_options(yield_per=per_batch)
                async for sha, data in await session.stream(query):
                    (into / sha).write_bytes(data)
                    written += 1
        return written


def _batches(items: list[str], size: int = 500) -> Iterator[list[str]]:
    """Slices for IN lists: old SQLite allows 999 parameters in one statement."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable across crashes of the bot, one fsync per checkpoint
    cursor.execute("PRAGMA secure_delete=ON")  # a deleted photo's bytes are overwritten, not left in free pages
    cursor.close()


class _Forgotten(Exception):
    """Rolls back a prediction whose sender asked to be forgotten after sending it."""


def _retrieve(task: asyncio.Future[Any]) -> None:
    """Collect the outcome of work given up on, so it is not reported as never retrieved."""
    if not task.cancelled():
        task.exception()


def _aware(moment: dt.datetime) -> dt.datetime:
    """SQLite hands timestamps back without their zone; all of ours are UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _upgrade(connection: Connection) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
