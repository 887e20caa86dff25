"""A playground: the real bot in a chat page on 127.0.0.1, no Telegram account or token needed.

    python -m devkit.playground [--port 8765] [--language en]      (or: make demo)

The bot runs as it runs for Telegram (the Application, the model, a database in a temporary
folder) against ``devkit.fake_telegram``; the page stands in for a Telegram client: send a photo
or an image file, read the reply and the boxed picture, press the buttons, and reply to a message
with a number, as in a chat.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import sys
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from devkit.fake_telegram import Call, FakeTelegram
from devkit.harness import sandbox

USER = 4242
SHOWN = ("sendMessage", "sendPhoto", "editMessageText", "editMessageCaption")
PAGE = Path(__file__).with_name("playground.html")


class Playground:
    """The person's side of the chat: what they sent, and the bot's messages as its calls left them."""

    def __init__(self, fake: FakeTelegram, language: str) -> None:
        self.fake, self.language = fake, language
        self.sent: list[dict[str, Any]] = []

    def chat(self) -> list[dict[str, Any]]:
        """Every message of the chat in order, each bot message as its last edit left it."""
        messages: dict[int, dict[str, Any]] = {m["id"]: m for m in self.sent}
        for call in self.fake.calls:
            if call.method in SHOWN and call.params.get("chat_id") == USER and "_result" in call.params:
                messages[call.params["_result"]["message_id"]] = self._shown(call, messages.get(call.params["_result"]["message_id"]))
        return sorted(messages.values(), key=lambda m: m["order"])

    def _shown(self, call: Call, before: dict[str, Any] | None) -> dict[str, Any]:
        result = call.params["_result"]
        markup = result.get("reply_markup") or {}
        buttons = [[{"text": b["text"], "data": b.get("callback_data", "")} for b in row] for row in markup.get("inline_keyboard", [])]
        photo = before["photo"] if before else None
        if "photo" in call.files:
            photo = "data:image/jpeg;base64," + base64.b64encode(call.files["photo"]).decode()
        order = before["order"] if before else call.at
        return {"id": result["message_id"], "from": "bot", "text": result.get("text") or result.get("caption") or "", "photo": photo,
                "buttons": buttons, "order": order}  # fmt: skip

    def bot_message(self, message_id: int) -> dict[str, Any]:
        for call in reversed(self.fake.calls):
            result = call.params.get("_result")
            if result is not None and result["message_id"] == message_id:
                return dict(result)
        raise web.HTTPNotFound(text=f"no bot message {message_id}")

    def send_photo(self, data: bytes) -> None:
        message = self.fake.send_photo(USER, data, language=self.language)
        self.sent.append(_yours(message["message_id"], "", "data:image/jpeg;base64," + base64.b64encode(data).decode()))

    def send_text(self, text: str, reply_to: int | None) -> None:
        extra: dict[str, Any] = {"reply_to_message": self.bot_message(reply_to)} if reply_to is not None else {}
        message = self.fake.send_message(USER, None, self.language, text=text, **extra)
        self.sent.append(_yours(message["message_id"], text, None))


def _yours(message_id: int, text: str, photo: str | None) -> dict[str, Any]:
    return {"id": message_id, "from": "you", "text": text, "photo": photo, "buttons": [], "order": time.monotonic()}


def app(playground: Playground) -> web.Application:
    async def page(request: web.Request) -> web.Response:
        return web.Response(text=PAGE.read_text(), content_type="text/html")

    async def chat(request: web.Request) -> web.Response:
        return web.json_response(playground.chat())

    async def photo(request: web.Request) -> web.Response:
        form = await request.post()
        upload = form.get("photo")
        if not isinstance(upload, web.FileField):
            raise web.HTTPBadRequest(text="no photo")
        playground.send_photo(upload.file.read())
        return web.json_response({"ok": True})

    async def text(request: web.Request) -> web.Response:
        body = await request.json()
        playground.send_text(str(body["text"]), body.get("reply_to"))
        return web.json_response({"ok": True})

    async def press(request: web.Request) -> web.Response:
        body = await request.json()
        playground.fake.press(USER, playground.bot_message(int(body["id"])), str(body["data"]))
        return web.json_response({"ok": True})

    application = web.Application(client_max_size=32 * 1024 * 1024)
    application.router.add_get("/", page)
    application.router.add_get("/chat", chat)
    application.router.add_post("/photo", photo)
    application.router.add_post("/text", text)
    application.router.add_post("/press", press)
    return application


async def serve(port: int, language: str) -> None:
    async with sandbox() as fake:
        runner = web.AppRunner(app(Playground(fake, language)))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        print(f"digitbot playground: http://127.0.0.1:{port}/  (Ctrl-C stops it)", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devkit.playground", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, default=8765, help="the page's port on 127.0.0.1")
    parser.add_argument("--language", default="en", help="the language the bot answers in: en, es, ru, de, pt, hi")
    args = parser.parse_args(argv)
    try:
        asyncio.run(serve(args.port, args.language))
    except KeyboardInterrupt:
        print("playground stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
