"""A local stand-in for the Telegram Bot API, over real HTTP on 127.0.0.1.

The real ``telegram.ext.Application`` talks to it through ``base_url``/``base_file_url``:
``getUpdates`` long-polls a queue the test fills, every call is recorded, files are
served from memory, and a test can make the next call of a method fail (flood control,
server errors) to see the bot cope. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "123456:TEST-token-never-logged"
BOT_USER = {"id": 4242, "is_bot": True, "first_name": "digitbot", "username": "digit_test_bot"}
JSON_FIELDS = {
    "chat_id", "message_id", "reply_markup", "reply_parameters", "offset", "timeout", "limit", "allowed_updates",
    "commands", "show_alert", "cache_time", "reply_to_message_id", "drop_pending_updates",
}  # fmt: skip

LONG_POLL = 0.2
"""The longest a ``getUpdates`` call is held open: a stopping updater waits for the poll in flight,
so a short one keeps each test's shutdown short; Telegram's own limit is 50 s."""


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, bytes]
    at: float = field(default_factory=time.monotonic)


@dataclass
class Failure:
    status: int
    description: str
    retry_after: int | None = None


class FakeTelegram:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.files: dict[str, bytes] = {}
        self.updates: list[dict[str, Any]] = []
        self.delivered: dict[int, float] = {}
        self.failures: dict[str, list[Failure]] = {}
        self.file_delay = 0.0
        """Seconds each download is held: a test can act while the bot is surely mid-photo."""
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._file_ids = itertools.count(1)
        self._new_update = asyncio.Event()
        self._new_call = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.host, self.port = "127.0.0.1", 0

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self, port: int = 0, host: str = "127.0.0.1") -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.*}", self._file)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self.host = host
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        self._new_update.set()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}/bot"

    @property
    def file_url(self) -> str:
        return f"http://{self.host}:{self.port}/file/bot"

    # -- what a test does --------------------------------------------------------------------
    def add_file(self, data: bytes) -> str:
        file_id = f"file{next(self._file_ids)}"
        self.files[file_id] = data
        return file_id

    def push(self, kind: str, payload: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        self.updates.append({"update_id": update_id, kind: payload})
        self._new_update.set()
        return update_id

    def send_message(self, user_id: int, chat_id: int | None = None, language: str | None = None, **content: Any) -> dict[str, Any]:
        """A user's message (text, photo, document, sticker...) arriving at the bot; ``language``: their app's."""
        sender: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": f"user{user_id}"}
        if language is not None:
            sender["language_code"] = language
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": _chat(chat_id if chat_id is not None else user_id),
            "from": sender,
            **content,
        }
        if isinstance(message.get("text"), str) and message["text"].startswith("/"):
            command = message["text"].split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        if isinstance(message.get("caption"), str):  # as Telegram marks them (offsets in UTF-16 units: ASCII here)
            found = re.finditer(r"@\w+", message["caption"])
            message["caption_entities"] = [{"type": "mention", "offset": m.start(), "length": len(m.group())} for m in found]
        self.push("message", message)
        return message

    def send_photo(
        self, user_id: int, data: bytes, chat_id: int | None = None, language: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        file_id = self.add_file(data)
        sizes = [
            {"file_id": f"{file_id}-small", "file_unique_id": f"u{file_id}s", "width": 90, "height": 90, "file_size": 1000},
            {"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 1280, "height": 960, "file_size": len(data)},
        ]
        self.files[f"{file_id}-small"] = b"not the largest size"
        return self.send_message(user_id, chat_id, language, photo=sizes, **extra)

    def send_document(self, user_id: int, data: bytes, mime_type: str, name: str = "file", chat_id: int | None = None) -> dict[str, Any]:
        file_id = self.add_file(data)
        document = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_name": name, "mime_type": mime_type, "file_size": len(data)}
        return self.send_message(user_id, chat_id, document=document)

    def press(self, user_id: int, bot_message: dict[str, Any], data: str) -> str:
        """A user pressing an inline button under one of the bot's messages."""
        query_id = f"q{next(self._update_ids)}"
        query = {
            "id": query_id,
            "from": {"id": user_id, "is_bot": False, "first_name": f"user{user_id}"},
            "message": bot_message,
            "chat_instance": "ci",
            "data": data,
        }
        self.push("callback_query", query)
        return query_id

    def fail_next(self, method: str, status: int = 500, description: str = "Internal Server Error", retry_after: int | None = None) -> None:
        self.failures.setdefault(method, []).append(Failure(status, description, retry_after))

    def of(self, method: str, chat_id: int | None = None) -> list[Call]:
        return [c for c in self.calls if c.method == method and (chat_id is None or c.params.get("chat_id") == chat_id)]

    async def wait_for(self, predicate: Callable[[Call], bool], timeout: float = 20.0, after: int = 0) -> Call:  # noqa: ASYNC109
        """The first recorded call (from index ``after``) that matches; fails after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            for call in self.calls[after:]:
                if predicate(call):
                    return call
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = [(c.method, c.params.get("text", "")[:60]) for c in self.calls[after:]]
                raise TimeoutError(f"no matching call within {timeout} s; saw {seen}")
            self._new_call.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_call.wait(), timeout=min(remaining, 0.5))

    async def reply_to(self, message: dict[str, Any], timeout: float = 20.0) -> Call:  # noqa: ASYNC109
        """The bot's sendMessage/sendPhoto answering ``message``."""
        chat_id, message_id = message["chat"]["id"], message["message_id"]

        def answers(call: Call) -> bool:
            reply = call.params.get("reply_parameters") or {}
            return (
                call.method in ("sendMessage", "sendPhoto")
                and call.params.get("chat_id") == chat_id
                and reply.get("message_id") == message_id
            )

        return await self.wait_for(answers, timeout)

    # -- the Bot API ----------------------------------------------------------------------
    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != TOKEN:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        status, body = await self.call(request.match_info["method"], *await _parse(request))
        return web.json_response(body, status=status)

    async def call(self, method: str, params: dict[str, Any], files: dict[str, bytes]) -> tuple[int, dict[str, Any]]:
        """One Bot API call, however it arrived (HTTP, or ``devkit.offline`` in the same process)."""
        queued = self.failures.get(method)
        if queued:
            failure = queued.pop(0)
            body: dict[str, Any] = {"ok": False, "error_code": failure.status, "description": failure.description}
            if failure.retry_after is not None:
                body["parameters"] = {"retry_after": failure.retry_after}
            return failure.status, body
        if method != "getUpdates":
            self.calls.append(Call(method, params, files))
            self._new_call.set()
        handler = getattr(self, f"_m_{method}", None)
        result = await handler(params, files) if handler else True
        return 200, {"ok": True, "result": result}

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != TOKEN:
            return web.Response(status=401)
        await asyncio.sleep(self.file_delay)
        data = self.files.get(request.match_info["path"].rsplit("/", 1)[-1])
        return web.Response(body=data) if data is not None else web.Response(status=404)

    async def _m_getMe(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return BOT_USER

    async def _m_getUpdates(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), LONG_POLL)
        while True:
            pending = [u for u in self.updates if u["update_id"] >= offset]
            if pending or time.monotonic() >= deadline:
                now = time.monotonic()
                for u in pending:
                    self.delivered.setdefault(u["update_id"], now)
                return pending[:100]
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), timeout=max(0.01, deadline - time.monotonic()))

    async def _m_getFile(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        file_id = str(params["file_id"])
        size = len(self.files.get(file_id, b""))
        return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": size, "file_path": f"photos/{file_id}"}

    async def _m_sendMessage(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return self._message(params, text=params.get("text", ""))

    async def _m_sendPhoto(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        photo = [{"file_id": "sent", "file_unique_id": "sent", "width": 1, "height": 1}]
        return self._message(params, photo=photo, **({"caption": params["caption"]} if params.get("caption") else {}))

    async def _m_editMessageCaption(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        photo = [{"file_id": "sent", "file_unique_id": "sent", "width": 1, "height": 1}]
        return self._message(params, message_id=params["message_id"], photo=photo, caption=params.get("caption", ""))

    async def _m_editMessageText(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return self._message(params, message_id=params["message_id"], text=params.get("text", ""))

    def _message(self, params: dict[str, Any], message_id: int | None = None, **content: Any) -> dict[str, Any]:
        message = {
            "message_id": message_id if message_id is not None else next(self._message_ids),
            "date": int(time.time()),
            "chat": _chat(params["chat_id"]),
            "from": BOT_USER,
            **content,
        }
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:  # Telegram echoes only inline keyboards
            message["reply_markup"] = markup
        self.calls[-1].params["_result"] = message
        return message


def _chat(chat_id: int) -> dict[str, Any]:
    return {"id": chat_id, "type": "private"} if chat_id > 0 else {"id": chat_id, "type": "group", "title": "a group"}


async def _parse(request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
    """PTB posts form data (multipart when a file is attached), JSON-encoding nested values."""
    params: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    if request.content_type == "application/json":
        return dict(await request.json()), files
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, web.FileField):
            files[key] = value.file.read()
        elif key in JSON_FIELDS:
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = value
        else:
            params[key] = value
    return params, files
