"""Predictions and corrections in SQL: SQLite (aiosqlite) embedded, PostgreSQL (asyncpg) in production.

Everything a handler needs lives here, keyed by database ids, so any replica can serve
any button press and nothing is held in process memory: the rate limit, the updates not
yet handled and the ``/forget`` marks too. ``Storage`` is the one door; behind it, a
module per concern:

- ``schema``: the tables (the Alembic migrations in ``bot/migrations`` own the schema; ``migrate`` applies them);
- ``records``: the plain records handed in and out;
- ``engine``: the connection, migrations, and the deadline on every call (``DatabaseTimeout``);
- ``predictions``, ``corrections``, ``memories``, ``traffic`` (rate limits, the inbox),
  ``privacy`` (``/forget``) and ``reports`` (``/stats``, the retraining export): the queries.
"""

from __future__ import annotations

from bot.storage.corrections import CorrectionQueries
from bot.storage.engine import MIGRATIONS, DatabaseTimeout
from bot.storage.memories import MemoryQueries
from bot.storage.predictions import PredictionQueries
from bot.storage.privacy import PrivacyQueries
from bot.storage.records import ExportedCorrection, MemoryMark, NewMemory, NewPrediction, Remembered, Stats, StoredPrediction
from bot.storage.reports import ReportQueries
from bot.storage.schema import Base, MemoryRow, utcnow
from bot.storage.traffic import Admission, TrafficQueries


class Storage(PredictionQueries, CorrectionQueries, MemoryQueries, TrafficQueries, PrivacyQueries, ReportQueries):
    """Every query the bot and its scripts make, over one engine (see the package's modules)."""


__all__ = [
    "MIGRATIONS",
    "Admission",
    "Base",
    "DatabaseTimeout",
    "ExportedCorrection",
    "MemoryMark",
    "MemoryRow",
    "NewMemory",
    "NewPrediction",
    "Remembered",
    "Stats",
    "Storage",
    "StoredPrediction",
    "utcnow",
]
