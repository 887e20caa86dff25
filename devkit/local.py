"""Where this machine keeps what tests and benchmarks need: the repository, MNIST, the models, PostgreSQL."""

from __future__ import annotations

import asyncio
import functools
import os
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_ROOT = Path(os.environ.get("DIGITBOT_MNIST", ROOT.parent / "shared" / "data"))
MODELS = ROOT / "models"
REAL_DEV = Path(os.environ.get("DIGITBOT_REAL_DEV", ROOT.parent / "shared" / "data" / "real-dev"))
"""Real photos to measure on, never to train on (``labels.csv``: file,label,writer)."""

PG_ADMIN = os.environ.get("DIGITBOT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


@functools.cache
def postgres_missing() -> str | None:
    """None when PostgreSQL answers at PG_ADMIN, else why not (the skip reason). Asked once, on
    first use rather than at import, from a thread so that an async test may ask too."""
    import asyncpg

    async def probe() -> None:
        connection = await asyncpg.connect(PG_ADMIN, timeout=3)
        await connection.close()

    try:
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, probe()).result()
    except Exception as err:
        return f"PostgreSQL not reachable at {PG_ADMIN}: {err}"
    return None


@asynccontextmanager
async def fresh_database() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database beside PG_ADMIN's for one test: its URL, and the database
    dropped afterwards however the test ends (ask ``postgres_missing`` first)."""
    import asyncpg

    name = f"digitbot_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(PG_ADMIN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
        finally:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()
