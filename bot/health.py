"""``/healthz`` and Prometheus ``/metrics`` on their own port, in the bot's event loop."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.reading.inference import Reader
from bot.storage import Storage


class HealthServer:
    def __init__(self, storage: Storage, reader: Reader, host: str, port: int) -> None:
        self.storage, self.reader, self.host, self.port = storage, reader, host, port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def healthz(self, request: web.Request) -> web.Response:
        database = await self.storage.ping()
        model = self.reader.version != "none"
        body = {
            "status": "ok" if database and model else "unhealthy",
            "database": database,
            "model": self.reader.version if model else None,
        }
        return web.json_response(body, status=200 if database and model else 503)

    async def metrics(self, request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})
