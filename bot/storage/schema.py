"""The tables, as SQLAlchemy declares them; the Alembic migrations in ``bot/migrations`` own the schema itself."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, String, Text, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import JSON

Id = BigInteger().with_variant(Integer, "sqlite")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    pass


class PredictionRow(Base):
    """One photo's answer: ``details`` is the answer itself (its digits, their confidences and boxes);
    beside it are only the columns that queries look up, join, group or count by (``digits``,
    ``recalled``; ``photo_sha256`` leads to the photo), each written from the same answer."""

    __tablename__ = "predictions"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    reply_message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    model_version: Mapped[str] = mapped_column(String(32))
    digits: Mapped[str] = mapped_column(String(32))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    photo_sha256: Mapped[str] = mapped_column(String(64), index=True)
    model_inputs: Mapped[bytes] = mapped_column(LargeBinary)
    prompt_message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    recalled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """A digit of this answer came from the sender's memory of corrected shapes, not the network."""
    recall_dropped: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """The sender said "not this time" to that: the shapes it came from were forgotten, the network's reading stands."""

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


class SendSlotRow(Base):
    """One row per send budget (the bot's, each group's): when it is empty again, in the database's
    clock (seconds since the epoch), the theoretical arrival time of the generic cell rate algorithm."""

    __tablename__ = "send_slots"

    budget: Mapped[str] = mapped_column(String(64), primary_key=True)
    due: Mapped[float] = mapped_column(Float)


class InboxRow(Base):
    """An update Telegram delivered and the bot has not finished: kept until its answer is out."""

    __tablename__ = "inbox"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    body: Mapped[str] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """The replica handling it; another adopts it once this one's heartbeat stops (``bot.delivery.inbox``)."""


class ReplicaRow(Base):
    """A running bot process and its last heartbeat: what tells its siblings it is still alive."""

    __tablename__ = "replicas"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ForgetRow(Base):
    """A user's last ``/forget``: photos they sent before it are never stored, even ones still being read."""

    __tablename__ = "forget_marks"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    before: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
