"""What the storage takes and gives: plain frozen records, never ORM rows, so no caller holds a session."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any

INPUT_BYTES = 28 * 28
"""``model_inputs`` holds each digit the network read as 28x28 bytes (ink 0-255), one after another."""


@dataclass(frozen=True)
class NewPrediction:
    """A photo's answer to store: ``details`` is the answer; ``digits`` and ``recalled`` say what it
    read and whether a person's memory decided a digit, as the queries look them up."""

    user_id: int
    chat_id: int
    message_id: int
    model_version: str
    digits: str
    details: dict[str, Any]
    photo: bytes
    photo_sha256: str
    model_inputs: bytes
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


class Remembered(enum.Enum):
    """What a "Yes, remember it" found: done now, done before, or the correction it asked about is no longer the one stored."""

    NOW = "now"
    BEFORE = "before"
    CHANGED = "changed"


@dataclass(frozen=True)
class StoredPrediction:
    id: int
    user_id: int
    chat_id: int
    reply_message_id: int | None
    model_version: str
    digits: str
    details: dict[str, Any]
    """The answer as stored (``bot.replies.answer.Answer.from_json`` reads it)."""
    model_inputs: bytes
    label: str | None
    photo_sha256: str = ""

    @property
    def input_count(self) -> int:
        """How many 28x28 inputs ``model_inputs`` holds: one per digit answered."""
        return len(self.model_inputs) // INPUT_BYTES


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
    recalled_dropped: int = 0

    @property
    def reported_accuracy(self) -> float | None:
        return self.confirmed / self.feedback if self.feedback else None
