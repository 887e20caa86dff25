"""Alembic environment: runs on the connection ``Storage.migrate`` hands over, or on DATABASE_URL."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from bot.storage import Base

target_metadata = Base.metadata


def run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def run_from_settings() -> None:
    """`alembic upgrade head` from a shell: the same database the bot would use (no bot token needed)."""
    from bot.config import DatabaseSettings
    from bot.storage import Storage

    async def go() -> None:
        storage = Storage(DatabaseSettings().database)
        async with storage.engine.begin() as connection:
            await connection.run_sync(run)
        await storage.close()

    asyncio.run(go())


given = context.config.attributes.get("connection")
if given is not None:
    run(given)
else:
    run_from_settings()
