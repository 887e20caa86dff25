"""``/healthz`` and Prometheus ``/metrics`` on their own port, in the bot's event loop.

Served by Tornado, which python-telegram-bot's webhook support already loads in every bot
process: a second HTTP framework would only add to the bot's resident memory.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from tornado.httpserver import HTTPServer
from tornado.web import Application, RequestHandler

from bot.reading.inference import Reader
from bot.storage import Storage


class HealthServer:
    def __init__(self, storage: Storage, reader: Reader, host: str, port: int) -> None:
        self.storage, self.reader, self.host, self.port = storage, reader, host, port
        self._server: HTTPServer | None = None

    async def start(self) -> None:
        app = Application([("/healthz", _Health, {"server": self}), ("/metrics", _Metrics)], log_function=lambda _: None)
        self._server = HTTPServer(app)
        self._server.listen(self.port, self.host)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()

    async def status(self) -> tuple[int, dict[str, Any]]:
        """The HTTP status and body of ``/healthz``: 503 unless both the database and a model answer."""
        database = await self.storage.ping()
        model = self.reader.version != "none"
        body = {
            "status": "ok" if database and model else "unhealthy",
            "database": database,
            "model": self.reader.version if model else None,
        }
        return 200 if database and model else 503, body


class _Health(RequestHandler):
    def initialize(self, server: HealthServer) -> None:
        self.server = server

    async def get(self) -> None:
        status, body = await self.server.status()
        self.set_status(status)
        self.write(body)


class _Metrics(RequestHandler):
    def get(self) -> None:
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.write(generate_latest())
