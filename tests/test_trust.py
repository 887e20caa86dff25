"""Trust, tried as an attacker and as an unlucky operator would: nothing lost, nothing leaked, bad labels refused.

Each test reproduces a way the bot used to fail (issue 10) over the fake Bot API.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import signal
import time
import uuid
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from PIL import Image, PngImagePlugin

from bot.replies import texts
from bot.storage.engine import DEADLINE
from devkit.fake_telegram import TOKEN, Call, FakeTelegram
from devkit.harness import bot_process, buttons, free_port, running, settings_for, storage_at
from devkit.local import PG_ADMIN, fresh_database, postgres_missing
from devkit.photos import digit, palette_png

USER, STRANGER, GROUP = 7101, 7102, -100777
LIMITED = "faster than I can look"


async def press(fake: FakeTelegram, user: int, bot_message: dict[str, Any], data: str, timeout: float = 20.0) -> Call:  # noqa: ASYNC109
    """Press a button and wait for the bot to answer the callback query."""
    query_id = fake.press(user, bot_message, data)
    return await fake.wait_for(lambda c: c.method == "answerCallbackQuery" and c.params["callback_query_id"] == query_id, timeout)


async def until(condition: Callable[[], bool], timeout: float = 60.0) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def answers_to(fake: FakeTelegram, message: dict[str, Any]) -> list[Call]:
    return [
        c
        for c in fake.of("sendMessage", message["chat"]["id"])
        if (c.params.get("reply_parameters") or {}).get("message_id") == message["message_id"]
    ]


async def test_labels_that_are_not_ascii_digits_are_refused(fake, tmp_path, photo_of):
    async with running(settings_for(fake, tmp_path)):
        answer = await fake.reply_to(fake.send_photo(USER, photo_of(4)))
        prediction_id = int(buttons(answer)[0].split(":")[1])
        forged = (f"fb:{prediction_id}:²", f"fb:{prediction_id}:10", "fb:²:3", f"fb:{9 * 10**18}:3", f"fb:{2**63}:3", "junk")
        for data in (*forged, f"ok:{prediction_id}:x", f"fb:{'9' * 20}:3"):
            ack = await press(fake, USER, answer.params["_result"], data)
            assert ack.params.get("text") == texts.GONE, data
        for typed in ("²", "٣", "\uff17", "1" * 59):
            reply = await fake.reply_to(fake.send_message(USER, text=typed, reply_to_message=answer.params["_result"]))
            assert reply.params["text"] == texts.DIGITS_ONLY, typed
        assert texts.SORRY not in [c.params.get("text") for c in fake.calls]
    storage = storage_at(tmp_path)
    found = await storage.prediction(prediction_id)
    await storage.close()
    assert found is not None and found.label is None


async def test_every_attempt_counts_against_the_rate_limit(fake, tmp_path, photo_of):
    """A burst of photos at once, then junk files and a photo: the limit holds for all of them."""
    async with running(settings_for(fake, tmp_path, rate_limit_per_minute=5)):
        burst = [fake.send_photo(USER, photo_of(i % 10)) for i in range(12)]
        texts = [r.params["text"] for r in await asyncio.gather(*(fake.reply_to(m) for m in burst))]
        assert sum(LIMITED in t for t in texts) == 7 and sum("<b>" in t for t in texts) == 5
        junk = [fake.send_document(STRANGER, b"this is not an image", "image/png") for _ in range(8)]
        texts = [r.params["text"] for r in await asyncio.gather(*(fake.reply_to(m) for m in junk))]
        assert sum(LIMITED in t for t in texts) == 3
        assert LIMITED in (await fake.reply_to(fake.send_photo(STRANGER, photo_of(3)))).params["text"]


async def test_only_the_sender_sees_what_i_saw(fake, tmp_path, photo_of):
    async with running(settings_for(fake, tmp_path)):
        private = await fake.reply_to(fake.send_photo(USER, photo_of(5)))
        saw = next(b for b in buttons(private) if b.startswith("saw:"))
        ack = await press(fake, STRANGER, private.params["_result"], saw)
        assert ack.params["text"] == texts.NOT_YOURS_TO_SEE and ack.params.get("show_alert") is True
        grouped = await fake.reply_to(fake.send_photo(USER, photo_of(6), chat_id=GROUP, caption="@digit_test_bot"))
        await press(fake, STRANGER, grouped.params["_result"], next(b for b in buttons(grouped) if b.startswith("saw:")))
        sent = await fake.wait_for(lambda c: c.method == "sendPhoto")
        assert sent.params["chat_id"] == GROUP, "in a group, the group already saw the photo"
        await press(fake, USER, private.params["_result"], saw)
        await fake.wait_for(lambda c: c.method == "sendPhoto" and c.params["chat_id"] == USER)
        assert [c.params["chat_id"] for c in fake.of("sendPhoto")] == [GROUP, USER]


def marked_photo(photo: bytes, marker: str) -> bytes:
    """The same picture as a PNG that carries ``marker`` as text, to look for in the database file."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", marker)
    buffer = io.BytesIO()
    Image.open(io.BytesIO(photo)).save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


async def test_forget_is_a_barrier_and_leaves_no_bytes_behind(fake, tmp_path, photo_of):
    marker = f"digitbot-{uuid.uuid4().hex}"
    async with running(settings_for(fake, tmp_path)):
        kept = fake.send_photo(STRANGER, marked_photo(photo_of(1), "another user's photo"))
        await fake.reply_to(kept)
        photos = [fake.send_photo(USER, marked_photo(photo_of(i), marker)) for i in range(6)]
        forget = fake.send_message(USER, text="/forget")
        await asyncio.gather(*(fake.reply_to(m) for m in [*photos, forget]))
        await asyncio.sleep(1.1)  # Telegram dates have whole seconds: a photo sent at the same second counts as before
        after = await fake.reply_to(fake.send_photo(USER, photo_of(2)))
        assert "<b>2</b>" in after.params["text"] and texts.NOT_KEPT not in after.params["text"]
    storage = storage_at(tmp_path)
    stats = await storage.stats()
    await storage.close()
    assert stats.predictions == 2, "the other user's photo and the one sent after /forget"
    files = b"".join(p.read_bytes() for p in tmp_path.glob("digitbot.sqlite3*"))
    assert marker.encode() not in files and b"another user's photo" in files


async def test_edits_and_channel_posts_are_not_new_photos(fake, tmp_path, photo_of):
    async with running(settings_for(fake, tmp_path)):
        message = fake.send_photo(USER, photo_of(8))
        await fake.reply_to(message)
        fake.push("edited_message", {**message, "caption": "edited", "edit_date": int(time.time())})
        channel = {"message_id": 5, "date": int(time.time()), "chat": {"id": -100999, "type": "channel", "title": "news"}}
        fake.push("channel_post", {**channel, "photo": message["photo"]})
        fake.push("channel_post", {**channel, "message_id": 6, "text": "hello"})
        await fake.reply_to(fake.send_message(USER, text="/help"))
        assert len(fake.of("sendMessage")) == 2, [c.params.get("text", "")[:40] for c in fake.of("sendMessage")]


async def test_kill_9_loses_no_photo_and_no_correction(fake, tmp_path, photo_of):
    """kill -9 with photos and corrections in flight, then a restart on the same database."""
    env = {"BOT_TOKEN": TOKEN, "RATE_LIMIT_PER_MINUTE": "1000", "MODEL_CHECK_SECONDS": "0"}
    first = bot_process(fake, tmp_path, **env)
    second = None
    try:
        await fake.wait_for(lambda c: c.method == "setMyCommands", timeout=90)
        earlier = [fake.send_photo(USER, photo_of(i)) for i in range(10)]
        answered = await asyncio.gather(*(fake.reply_to(m) for m in earlier))
        ids = [buttons(a)[0].split(":")[1] for a in answered]
        queries = [fake.press(USER, a.params["_result"], f"fb:{ids[i]}:{(i + 1) % 10}") for i, a in enumerate(answered)]
        photos = [fake.send_photo(USER + 1 + i % 3, photo_of(i % 10)) for i in range(30)]
        await fake.wait_for(lambda c: c.method == "answerCallbackQuery")
        await until(lambda: sum(bool(answers_to(fake, m)) for m in photos) >= 3)
        first.send_signal(signal.SIGKILL)
        await asyncio.to_thread(first.wait, 30)
        acked = {c.params["callback_query_id"] for c in fake.of("answerCallbackQuery") if c.params.get("text") == "Saved"}
        in_flight = sum(not answers_to(fake, m) for m in photos)
        second = bot_process(fake, tmp_path, **env)
        for message in photos:
            await fake.reply_to(message, timeout=120)
        for query_id in queries:
            await fake.wait_for(lambda c, q=query_id: c.method == "answerCallbackQuery" and c.params["callback_query_id"] == q, timeout=60)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(process.wait, 60)
                if process.poll() is None:
                    process.kill()
    assert in_flight > 0, "the kill came after every photo was answered: nothing was tested"
    assert acked, "no correction was acknowledged before the kill: nothing was tested"
    twice = [m["message_id"] for m in photos if len(answers_to(fake, m)) > 1]
    assert len(twice) <= 2, f"at most ANSWERS_IN_FLIGHT (2) answers are between their send and their commit: {twice}"
    storage = storage_at(tmp_path / "data")
    stats = await storage.stats()
    corrections = await storage.export_corrections()
    pending = await storage.pending_updates()
    await storage.close()
    assert stats.predictions == 40 and len(corrections) == 10 and pending == []


class Valve:
    """A TCP proxy to PostgreSQL that can stop passing bytes: the database as a frozen server shows it."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.listen_port = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> Valve:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.listen_port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.flowing.set()
        if self._server is not None:
            self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(self.host, self.port)
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                await self.flowing.wait()
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()


async def test_a_frozen_database_gives_try_again_and_503(fake, tmp_path, photo_of):
    if why := postgres_missing():
        pytest.skip(why)
    server = PG_ADMIN.split("@", 1)[1].rsplit("/", 1)[0]
    host, port = server.split(":")
    async with fresh_database() as database:
        name = database.rsplit("/", 1)[1]
        async with Valve(host, int(port)) as valve:
            url = f"postgresql://postgres@127.0.0.1:{valve.listen_port}/{name}"
            settings = settings_for(fake, tmp_path, database_url=url, health_port=free_port(), database_timeout=DEADLINE)
            async with running(settings), aiohttp.ClientSession() as http:
                health_url = f"http://127.0.0.1:{settings.health_port}/healthz"
                answer = await fake.reply_to(fake.send_photo(USER, photo_of(7)))
                assert "<b>7</b>" in answer.params["text"]
                valve.flowing.clear()  # frozen until set again: whatever answers before that, the deadline gave
                sorry = await fake.reply_to(fake.send_photo(USER, photo_of(3)), timeout=30)
                assert sorry.params["text"] == texts.SORRY
                ack = await press(fake, USER, answer.params["_result"], buttons(answer)[0], timeout=30)
                assert ack.params["text"] == texts.SORRY
                health = await http.get(health_url)
                assert health.status == 503
                valve.flowing.set()
                back = await fake.reply_to(fake.send_photo(USER, photo_of(2)), timeout=30)
                assert "<b>2</b>" in back.params["text"]


def test_a_huge_palette_png_is_refused_before_decoding(predictor):
    from model.reading.transform import ImageError

    data = palette_png(9400)
    assert len(data) < 1_000_000
    with pytest.raises(ImageError, match="too large"):
        predictor.predict(data)


def test_a_large_palette_png_is_read_at_reduced_size(predictor, mnist_test):
    assert predictor.predict(palette_png(5000, digit(mnist_test, 3), transparency=True)).number == "3"
