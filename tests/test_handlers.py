"""Handlers, offline: the real Application and database, updates handed over in-process.

No server, port or polling: ``handle`` returns when the handlers are done, so each test
reads what the bot sent at once. What only a network can show (polling, restarts, flood
control, concurrency, crashes) stays in ``test_bot.py`` and ``test_trust.py``.
"""

from __future__ import annotations

import pytest

from bot import replies
from devkit.fake_telegram import FakeTelegram
from devkit.harness import buttons, storage_at
from devkit.offline import handle, offline_bot
from devkit.photos import png_header_only

USER, STRANGER, ADMIN, GROUP = 7001, 7002, 1, -100500


@pytest.fixture
def offline() -> FakeTelegram:
    """The fake's state and recorded calls only: it never listens on a port here."""
    return FakeTelegram()


def sent(fake: FakeTelegram) -> list[str]:
    return [c.params.get("text") or c.params.get("caption") or "" for c in fake.calls if c.method in ("sendMessage", "sendPhoto")]


async def test_start_and_help_explain_the_bot_and_commands_are_registered(offline, tmp_path):
    async with offline_bot(offline, tmp_path) as bot:
        (registered,) = offline.of("setMyCommands")
        assert [c["command"] for c in registered.params["commands"]] == ["start", "help", "forget"]
        offline.send_message(USER, text="/start")
        await handle(bot, offline)
        offline.send_message(USER, text="/help")
        await handle(bot, offline)
    start, help_ = sent(offline)
    assert start == replies.START and "photo of a handwritten number" in start and "/forget" in start
    assert help_ == replies.HELP


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ({"document": ("application/pdf", b"%PDF-1.4 ...")}, replies.NOT_AN_IMAGE),
        ({"document": ("image/png", b"")}, "couldn't open that image"),
        ({"document": ("image/jpeg", b"\xff\xd8\xff\xe0truncated")}, "couldn't open that image"),
        ({"document": ("image/png", png_header_only(40000, 40000))}, "too large"),
        (
            {
                "sticker": {
                    "file_id": "s",
                    "file_unique_id": "s",
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                    "type": "regular",
                }
            },
            replies.NOT_A_PHOTO,
        ),
        ({"animation": {"file_id": "a", "file_unique_id": "a", "width": 1, "height": 1, "duration": 1}}, replies.NOT_A_PHOTO),
        ({"video": {"file_id": "v", "file_unique_id": "v", "width": 1, "height": 1, "duration": 1}}, replies.NOT_A_PHOTO),
        ({"voice": {"file_id": "o", "file_unique_id": "o", "duration": 1}}, replies.NOT_A_PHOTO),
        ({"text": "hello, what do you do?"}, replies.NOT_A_PHOTO),
        ({"text": "x" * 4000}, replies.NOT_A_PHOTO),
        ({"text": "/frobnicate now"}, replies.UNKNOWN_COMMAND),
    ],
    ids=["pdf", "zero-bytes", "truncated", "bomb", "sticker", "gif", "video", "voice", "text", "long-text", "unknown-command"],
)
async def test_bad_input_gets_one_clear_reply(offline, tmp_path, content, expected):
    async with offline_bot(offline, tmp_path) as bot:
        if "document" in content:
            mime, data = content["document"]
            offline.send_document(USER, data, mime)
        else:
            offline.send_message(USER, **content)
        await handle(bot, offline)
    (reply,) = sent(offline)
    assert expected in reply and replies.SORRY not in reply
    storage = storage_at(tmp_path)
    try:
        assert (await storage.stats()).predictions == 0, "nothing readable, nothing stored"
    finally:
        await storage.close()


async def test_a_strangers_press_and_typed_reply_in_a_group_are_refused(offline, tmp_path, photo_of):
    async with offline_bot(offline, tmp_path) as bot:
        offline.send_photo(USER, photo_of(3), chat_id=GROUP)
        await handle(bot, offline)
        (answer,) = offline.of("sendMessage", GROUP)
        prediction_id = int(buttons(answer)[0].split(":")[1])
        offline.press(STRANGER, answer.params["_result"], f"fb:{prediction_id}:8")
        await handle(bot, offline)
        (ack,) = offline.of("answerCallbackQuery")
        assert ack.params["text"] == replies.NOT_YOURS and ack.params["show_alert"] is True
        offline.send_message(STRANGER, chat_id=GROUP, text="8", reply_to_message=answer.params["_result"])
        await handle(bot, offline)
        assert sent(offline)[-1] == replies.NOT_YOURS
        found = await bot.bot_data.services.storage.prediction(prediction_id)
    assert found is not None and found.label is None and not offline.of("editMessageText")


async def test_button_data_the_bot_never_wrote_is_gone(offline, tmp_path):
    async with offline_bot(offline, tmp_path) as bot:
        for data in ("fb:1:²", "fb:1:10", f"fb:{2**63}:3", "ok:1:x", "drop table", "fb:999:3"):
            offline.press(USER, {"message_id": 5, "date": 0, "chat": {"id": USER, "type": "private"}}, data)
            await handle(bot, offline)
    acks = offline.of("answerCallbackQuery")
    assert [a.params.get("text") for a in acks] == [replies.GONE] * 6, "every press is answered, none is stored"


async def test_stats_are_for_admins_and_forget_deletes(offline, tmp_path, photo_of):
    async with offline_bot(offline, tmp_path) as bot:
        offline.send_photo(USER, photo_of(3))
        await handle(bot, offline)
        offline.press(USER, offline.of("sendMessage")[0].params["_result"], buttons(offline.of("sendMessage")[0])[0])
        await handle(bot, offline)
        for user, text in ((ADMIN, "/stats"), (USER, "/stats"), (USER, "/forget"), (USER, "/forget")):
            offline.send_message(user, text=text)
            await handle(bot, offline)
    _, stats, refused, gone, again = sent(offline)
    assert "Predictions: 1 from 1 users" in stats and "100.0%" in stats
    assert refused == replies.ADMINS_ONLY
    assert "deleted 1 photo," in gone and "nothing stored" in again
