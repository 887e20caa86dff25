"""The connection to the database: the engine, migrations on start, and the deadline on every call.

Every call a handler makes is bounded by ``timeout``: a stuck database turns into a
``DatabaseTimeout`` (the user hears "try again") instead of a handler that never ends.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from bot.storage.schema import Base

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
P = ParamSpec("P")
T = TypeVar("T")
D = TypeVar("D", bound="Database")


class DatabaseTimeout(TimeoutError):
    """The database did not answer in time: the caller tells the user to try again."""


DEADLINE = 2.0
"""Seconds a database call may take before the user hears "try again" (``DATABASE_TIMEOUT``'s default)."""


class Database:
    """The engine and sessions every group of queries works through (SQLite embedded, PostgreSQL in production)."""

    def __init__(self, url: str, timeout: float = DEADLINE) -> None:
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
        self._writers: AbstractAsyncContextManager[Any] = asyncio.Lock() if self.engine.dialect.name == "sqlite" else nullcontext()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A write transaction, committed at the end. SQLite takes one writer at a time and makes the
        others sleep and retry (its busy handler waits up to 100 ms a try); this process's writers
        queue here instead, in order, and each finds the database free. PostgreSQL locks rows itself."""
        async with self._writers, self.sessions.begin() as session:
            yield session

    async def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision; safe to run from several replicas at once."""
        if self.url.startswith("sqlite"):
            database = self.url.split("///", 1)[-1]
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
        async with self.engine.begin() as connection:
            if await _at_head(connection):
                return
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

    def _insert(self, table: type[Base]) -> Any:
        return (postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert)(table)

    async def _lock_user(self, session: Any, user_id: int) -> None:
        """One writer per person at a time on PostgreSQL (SQLite's write lock already orders them)."""
        if self.engine.dialect.name == "postgresql":
            await session.execute(text("SELECT pg_advisory_xact_lock(727275, hashtext(:u))"), {"u": str(user_id)})


def bounded(method: Callable[Concatenate[D, P], Coroutine[Any, Any, T]]) -> Callable[Concatenate[D, P], Coroutine[Any, Any, T]]:
    """The call gives up after the storage's ``timeout`` (see ``Database.within``)."""

    async def call(self: D, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self.within(method(self, *args, **kwargs), self.timeout)

    functools.update_wrapper(call, method)
    return call


def batches(items: list[str], size: int = 500) -> Iterator[list[str]]:
    """Slices for IN lists: old SQLite allows 999 parameters in one statement."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def aware(moment: dt.datetime) -> dt.datetime:
    """SQLite hands timestamps back without their zone; all of ours are UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable across crashes of the bot, one fsync per checkpoint
    cursor.execute("PRAGMA secure_delete=ON")  # a deleted photo's bytes are overwritten, not left in free pages
    cursor.close()


def _retrieve(task: asyncio.Future[Any]) -> None:
    """Collect the outcome of work given up on, so it is not reported as never retrieved."""
    if not task.cancelled():
        task.exception()


def head_revision() -> str:
    """The newest migration's revision, from the files' names (``NNNN_what.py``, each file's revision
    ``NNNN``; a test holds this to Alembic's own head)."""
    return max(path.name.split("_", 1)[0] for path in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))


async def _at_head(connection: AsyncConnection) -> bool:
    """Is the schema at the newest revision already? Then a start does not import Alembic at all (its
    modules would stay in the memory of a bot that runs for months), and a replica takes no lock."""
    try:
        async with connection.begin_nested():
            current = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    except DBAPIError:  # a new database: no version table yet
        return False
    return current == [head_revision()]


def _upgrade(connection: Connection) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
