"""Handlers, offline: the real Application and database, updates handed over in-process.

No server, port or polling: ``handle`` returns when the handlers are done, so each test
reads what the bot sent at once. What only a network can show (polling, restarts, flood
control, concurrency, crashes) stays in ``test_bot.py`` and ``test_trust.py``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import select, update

from bot.replies import texts
from bot.storage import MemoryRow, Storage, StoredPrediction
from devkit.fake_telegram import FakeTelegram
from devkit.harness import buttons, storage_at
from devkit.offline import handle, offline_bot
from devkit.photos import png_header_only
from model.data.styles import draw

USER, STRANGER, ADMIN, GROUP = 7001, 7002, 1, -100500
STICKER = {"file_id": "s", "file_unique_id": "s", "width": 512, "height": 512, "is_animated": False, "is_video": False, "type": "regular"}


@pytest.fixture
def offline() -> FakeTelegram:
    """The fake's state and recorded calls only: it never listens on a port here."""
    return FakeTelegram()


def sent(fake: FakeTelegram) -> list[str]:
    return [c.params.get("text") or c.params.get("caption") or "" for c in fake.calls if c.method in ("sendMessage", "sendPhoto")]


async def test_start_and_help_explain_the_bot_and_commands_are_registered(offline, tmp_path):
    async with offline_bot(offline, tmp_path) as bot:
        (registered,) = [c for c in offline.of("setMyCommands") if "language_code" not in c.params]  # the default: English
        assert [c["command"] for c in registered.params["commands"]] == ["start", "help", "read", "forget"]
        offline.send_message(USER, text="/start")
        await handle(bot, offline)
        offline.send_message(USER, text="/help")
        await handle(bot, offline)
    start, help_ = sent(offline)
    assert start == texts.START and "photo of a handwritten number" in start and "/forget" in start
    assert help_ == texts.HELP


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ({"document": ("application/pdf", b"%PDF-1.4 ...")}, texts.NOT_AN_IMAGE),
        ({"document": ("image/png", b"")}, "couldn't open that image"),
        ({"document": ("image/jpeg", b"\xff\xd8\xff\xe0truncated")}, "couldn't open that image"),
        ({"document": ("image/png", png_header_only(40000, 40000))}, "too large"),
        (
            {"sticker": STICKER},
            texts.NOT_A_PHOTO,
        ),
        ({"animation": {"file_id": "a", "file_unique_id": "a", "width": 1, "height": 1, "duration": 1}}, texts.NOT_A_PHOTO),
        ({"video": {"file_id": "v", "file_unique_id": "v", "width": 1, "height": 1, "duration": 1}}, texts.NOT_A_PHOTO),
        ({"voice": {"file_id": "o", "file_unique_id": "o", "duration": 1}}, texts.NOT_A_PHOTO),
        ({"text": "hello, what do you do?"}, texts.NOT_A_PHOTO),
        ({"text": "x" * 4000}, texts.NOT_A_PHOTO),
        ({"text": "/frobnicate now"}, texts.UNKNOWN_COMMAND),
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
    assert expected in reply and texts.SORRY not in reply
    storage = storage_at(tmp_path)
    try:
        assert (await storage.stats()).predictions == 0, "nothing readable, nothing stored"
    finally:
        await storage.close()


async def test_a_strangers_press_and_typed_reply_in_a_group_are_refused(offline, tmp_path, photo_of):
    async with offline_bot(offline, tmp_path) as bot:
        offline.send_photo(USER, photo_of(3), chat_id=GROUP, caption="@digit_test_bot what is this?")
        await handle(bot, offline)
        (answer,) = offline.of("sendMessage", GROUP)
        prediction_id = int(buttons(answer)[0].split(":")[1])
        offline.press(STRANGER, answer.params["_result"], f"fb:{prediction_id}:8")
        await handle(bot, offline)
        (ack,) = offline.of("answerCallbackQuery")
        assert ack.params["text"] == texts.NOT_YOURS and ack.params["show_alert"] is True
        offline.send_message(STRANGER, chat_id=GROUP, text="8", reply_to_message=answer.params["_result"])
        await handle(bot, offline)
        assert sent(offline)[-1] == texts.NOT_YOURS
        found = await bot.bot_data.services.storage.prediction(prediction_id)
    assert found is not None and found.label is None and not offline.of("editMessageText")


async def test_button_data_the_bot_never_wrote_is_gone(offline, tmp_path):
    async with offline_bot(offline, tmp_path) as bot:
        for data in ("fb:1:²", "fb:1:10", f"fb:{2**63}:3", "ok:1:x", "drop table", "fb:999:3"):
            offline.press(USER, {"message_id": 5, "date": 0, "chat": {"id": USER, "type": "private"}}, data)
            await handle(bot, offline)
    acks = offline.of("answerCallbackQuery")
    assert [a.params.get("text") for a in acks] == [texts.GONE] * 6, "every press is answered, none is stored"


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
    assert refused == texts.ADMINS_ONLY
    assert "deleted 1 photo," in gone and "nothing stored" in again


async def send_and_answer(bot, fake: FakeTelegram, user: int, photo: bytes):
    fake.send_photo(user, photo)
    await handle(bot, fake)
    return fake.of("sendMessage", user)[-1]


async def correct_misreads(bot, fake: FakeTelegram, rng: np.random.Generator) -> None:
    """The person sends three square-looped 9s and corrects each one read wrong (once the
    first is corrected, the next may already be read right: the memory acts at once)."""
    for _ in range(3):
        answer = await send_and_answer(bot, fake, USER, draw("square-9", rng))
        if "<b>9</b>" not in answer.params["text"]:
            fake.press(USER, answer.params["_result"], f"fb:{buttons(answer)[0].split(':')[1]}:9")
            await handle(bot, fake)
            asked = [b for b in buttons(fake.of("editMessageText", USER)[-1]) if b.startswith("my:")]
            if asked:  # it was sure: "remember it as 9?" Yes
                fake.press(USER, answer.params["_result"], asked[0])
                await handle(bot, fake)


async def memory_rows(storage) -> list[tuple[int, str]]:
    async with storage.sessions() as session:
        return [(int(u), str(v)) for u, v in (await session.execute(select(MemoryRow.user_id, MemoryRow.model_version))).all()]


async def test_corrections_act_at_once_for_that_person_only(offline, tmp_path):
    rng = np.random.default_rng(4)
    later = [draw("square-9", rng) for _ in range(6)]
    async with offline_bot(offline, tmp_path) as bot:
        storage = bot.bot_data.services.storage
        await correct_misreads(bot, offline, rng)
        remembered = await memory_rows(storage)
        assert remembered and {u for u, _ in remembered} == {USER}
        mine = [await send_and_answer(bot, offline, USER, p) for p in later]
        theirs = [await send_and_answer(bot, offline, STRANGER, p) for p in later]
        recalled = [a for a in mine if "like the one you corrected" in a.params["text"]]
        assert len(recalled) >= 2 and all("<b>9</b>" in a.params["text"] for a in recalled)
        nines = [sum("<b>9</b>" in a.params["text"] for a in answers) for answers in (mine, theirs)]
        assert nines[0] >= nines[1] + 2, nines
        assert not any("corrected" in a.params["text"] for a in theirs), "another person's answers are the network's"

        offline.press(USER, recalled[0].params["_result"], buttons(recalled[0])[0])  # "Right"
        await handle(bot, offline)
        offline.send_message(ADMIN, text="/stats")
        await handle(bot, offline)
        from_memory = sum("like the one you corrected" in c.params["text"] for c in offline.of("sendMessage", USER))
        assert f"From memory: {from_memory} answers (1 confirmed, 0 corrected again, 0 'not this time')" in sent(offline)[-1]

        offline.send_message(USER, text="/forget")
        await handle(bot, offline)
        assert await memory_rows(storage) == []
        after = await send_and_answer(bot, offline, USER, later[0])
        assert "corrected" not in after.params["text"]


async def test_a_new_model_recomputes_the_memory_instead_of_comparing_across_versions(offline, tmp_path):
    rng = np.random.default_rng(4)
    later = [draw("square-9", rng) for _ in range(6)]
    async with offline_bot(offline, tmp_path) as bot:
        storage = bot.bot_data.services.storage
        await correct_misreads(bot, offline, rng)
        before = await memory_rows(storage)

        async with storage.sessions.begin() as session:  # as if kept under the model before: vectors that mean nothing now
            await session.execute(update(MemoryRow).values(model_version="v0", vector=np.zeros(128, np.float32).tobytes()))
        mine = [await send_and_answer(bot, offline, USER, p) for p in later]
        version = bot.bot_data.services.reader.version
        assert await memory_rows(storage) == [(USER, version)] * len(before)
        assert sum("like the one you corrected" in a.params["text"] for a in mine) >= 2


async def forget_after_the_press_was_read(storage: Storage, prediction_id: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """``/forget`` lands between a press reading its prediction and writing what it decided."""
    read_before_forget = await storage.prediction(prediction_id)
    await storage.forget_user(USER, dt.datetime.now(dt.UTC))

    async def stale(_: int) -> StoredPrediction | None:
        return read_before_forget

    monkeypatch.setattr(storage, "prediction", stale)


async def test_a_correction_racing_forget_is_gone_and_leaves_nothing(offline, tmp_path, monkeypatch):
    async with offline_bot(offline, tmp_path) as bot:
        storage = bot.bot_data.services.storage
        answer = await send_and_answer(bot, offline, USER, draw("square-9", np.random.default_rng(1)))
        prediction_id = int(buttons(answer)[0].split(":")[1])
        await forget_after_the_press_was_read(storage, prediction_id, monkeypatch)
        offline.press(USER, answer.params["_result"], f"fb:{prediction_id}:9")
        await handle(bot, offline)
        (ack,) = offline.of("answerCallbackQuery")
        assert ack.params["text"] == texts.GONE
        assert await memory_rows(storage) == []
        assert (await storage.stats()).feedback == 0


async def test_in_a_group_only_what_is_asked_is_read(offline, tmp_path, photo_of):
    async with offline_bot(offline, tmp_path) as bot:
        holiday = offline.send_photo(USER, photo_of(4), chat_id=GROUP, caption="the beach!")
        await handle(bot, offline)
        offline.send_message(USER, chat_id=GROUP, text="lovely")
        await handle(bot, offline)
        offline.send_message(USER, chat_id=GROUP, text="/frobnicate")
        await handle(bot, offline)
        offline.send_document(USER, b"%PDF", "application/pdf", chat_id=GROUP)
        await handle(bot, offline)
        offline.send_message(STRANGER, chat_id=GROUP, text="nice", reply_to_message=holiday)
        await handle(bot, offline)
        assert sent(offline) == [], "nothing unasked in a group: no 'no digit', no hints"

        asked = offline.send_message(STRANGER, chat_id=GROUP, text="/read@digit_test_bot", reply_to_message=holiday)
        await handle(bot, offline)
        (answer,) = offline.of("sendMessage", GROUP)
        assert "<b>4</b>" in answer.params["text"]
        assert answer.params["reply_parameters"]["message_id"] == holiday["message_id"], "answered in the photo's thread"
        prediction = (await bot.bot_data.services.storage.admit(GROUP, asked["message_id"], [], 0, 60)).done
        assert prediction is not None and prediction.user_id == STRANGER, "the one who asked owns the answer"

        offline.press(USER, answer.params["_result"], f"fb:{prediction.id}:9")  # the photo's sender did not ask
        await handle(bot, offline)
        offline.press(STRANGER, answer.params["_result"], f"fb:{prediction.id}:4")
        await handle(bot, offline)
        refused, saved = offline.of("answerCallbackQuery")
        assert refused.params["text"] == texts.NOT_YOURS and saved.params["text"] == "Saved"

        offline.send_photo(USER, photo_of(7), chat_id=GROUP, caption="@Digit_Test_Bot is this a 1?")
        await handle(bot, offline)
        assert "<b>7</b>" in sent(offline)[-1]
        offline.send_message(USER, chat_id=GROUP, text="/read@someone_elses_bot", reply_to_message=holiday)
        await handle(bot, offline)
        assert len(offline.of("sendMessage", GROUP)) == 2, "another bot's command is not ours"


async def test_an_answer_goes_to_the_forum_topic_it_was_asked_in(offline, tmp_path, photo_of):
    async with offline_bot(offline, tmp_path) as bot:
        topic = {"message_thread_id": 17, "is_topic_message": True}
        photo = offline.send_photo(USER, photo_of(3), chat_id=GROUP, **topic)
        offline.send_message(USER, chat_id=GROUP, text="/read@digit_test_bot", reply_to_message=photo, **topic)
        await handle(bot, offline)
        (answer,) = offline.of("sendMessage", GROUP)
        assert "<b>3</b>" in answer.params["text"]
        assert answer.params["reply_parameters"]["message_id"] == photo["message_id"]
        assert answer.params["message_thread_id"] == 17, "in the topic, not in the group's general chat"


@pytest.mark.parametrize(
    "target",
    [
        None,  # no reply at all, or a reply to a message Telegram no longer has (it sends none)
        {"message_id": 1, "date": 0, "chat": {"id": GROUP, "type": "group", "title": "g"}, "text": "hi"},
        {
            "message_id": 2,
            "date": 0,
            "chat": {"id": GROUP, "type": "group", "title": "g"},
            "sticker": STICKER,
        },
    ],
    ids=["nothing-or-deleted", "text", "sticker"],
)
async def test_read_of_something_that_is_not_a_photo_gets_one_clear_answer(offline, tmp_path, target):
    async with offline_bot(offline, tmp_path) as bot:
        extra = {"reply_to_message": target} if target is not None else {}
        offline.send_message(USER, chat_id=GROUP, text="/read", **extra)
        await handle(bot, offline)
    assert sent(offline) == [texts.READ_WHAT]


async def test_a_group_has_its_own_rate_limit(offline, tmp_path, photo_of):
    async with offline_bot(offline, tmp_path, rate_limit_per_minute=2) as bot:
        for user in (USER, STRANGER, ADMIN):  # three people, each within their own limit
            offline.send_photo(user, photo_of(1), chat_id=GROUP, caption="@digit_test_bot")
            await handle(bot, offline)
    assert ["<b>1</b>" in t for t in sent(offline)] == [True, True, False]
    assert "faster than I can look" in sent(offline)[-1]


def last_edit(fake: FakeTelegram) -> tuple[str, list[str]]:
    edit = fake.of("editMessageText", USER)[-1]
    return edit.params["text"], buttons(edit)


async def test_a_correction_of_a_sure_answer_is_remembered_only_after_yes(offline, tmp_path, photo_of):
    """A sure 3 "corrected" to 8: stored for retraining at once, asked about in place, remembered on Yes
    (once), and from then on that photo reads 8 for this person only, until "not this time"."""
    photo = photo_of(3)
    async with offline_bot(offline, tmp_path) as bot:
        storage = bot.bot_data.services.storage
        answer = await send_and_answer(bot, offline, USER, photo)
        assert "I read: <b>3</b>" in answer.params["text"]
        prediction_id = int(buttons(answer)[0].split(":")[1])
        offline.press(USER, answer.params["_result"], f"fb:{prediction_id}:8")
        await handle(bot, offline)
        text, keys = last_edit(offline)
        assert "sure this is <b>3</b>. Remember it as <b>8</b> for your photos?" in text
        assert keys == [f"my:{prediction_id}:8", f"no:{prediction_id}"]
        assert await memory_rows(storage) == [] and (await storage.stats()).feedback == 1, "stored, not yet remembered"

        offline.press(STRANGER, answer.params["_result"], f"my:{prediction_id}:8")
        await handle(bot, offline)
        assert offline.of("answerCallbackQuery")[-1].params["text"] == texts.NOT_YOURS and await memory_rows(storage) == []
        for _ in range(2):
            offline.press(USER, answer.params["_result"], f"my:{prediction_id}:8")
            await handle(bot, offline)
        acks = [a.params.get("text") for a in offline.of("answerCallbackQuery")[-2:]]
        assert acks == [texts.SAVED, texts.ALREADY_SAVED]
        assert await memory_rows(storage) == [(USER, bot.bot_data.services.reader.version)]
        text, keys = last_edit(offline)
        assert "Remembered" in text and keys[:2] == [f"ok:{prediction_id}", f"saw:{prediction_id}"]

        again = await send_and_answer(bot, offline, USER, photo)
        theirs = await send_and_answer(bot, offline, STRANGER, photo)
        assert "<b>8</b>" in again.params["text"] and "like the one you corrected" in again.params["text"]
        assert "I read: <b>3</b>" in theirs.params["text"], "another person's answer is the network's"
        second = int(buttons(again)[0].split(":")[1])
        assert f"nt:{second}" in buttons(again)
        for _ in range(2):
            offline.press(USER, again.params["_result"], f"nt:{second}")
            await handle(bot, offline)
        assert [a.params.get("text") for a in offline.of("answerCallbackQuery")[-2:]] == [texts.SAVED, texts.ALREADY_SAVED]
        text, keys = last_edit(offline)
        assert texts.DROPPED in text and "<b>3</b>" in text and f"nt:{second}" not in keys
        assert await memory_rows(storage) == []
        assert "I read: <b>3</b>" in (await send_and_answer(bot, offline, USER, photo)).params["text"]
        offline.send_message(ADMIN, text="/stats")
        await handle(bot, offline)
        assert "From memory: 1 answers (0 confirmed, 0 corrected again, 1 'not this time')" in sent(offline)[-1]


async def test_no_a_typed_correction_and_a_stale_question(offline, tmp_path, photo_of):
    """A typed correction of a sure answer asks under the reply; No keeps it unremembered. A question
    whose correction changed since is out of date; after /forget it is gone."""
    async with offline_bot(offline, tmp_path) as bot:
        storage = bot.bot_data.services.storage
        answer = await send_and_answer(bot, offline, USER, photo_of(3))
        prediction_id = int(buttons(answer)[0].split(":")[1])
        offline.send_message(USER, text="8", reply_to_message=answer.params["_result"])
        await handle(bot, offline)
        question = offline.of("sendMessage", USER)[-1]
        assert "Remember it as <b>8</b>" in question.params["text"] and buttons(question) == [
            f"my:{prediction_id}:8",
            f"no:{prediction_id}",
        ]
        offline.press(USER, question.params["_result"], f"no:{prediction_id}")
        await handle(bot, offline)
        assert offline.of("answerCallbackQuery")[-1].params["text"] == texts.NOT_REMEMBERED
        text, keys = last_edit(offline)
        assert "Remember" not in text and keys == [] and await memory_rows(storage) == []

        offline.press(USER, answer.params["_result"], f"fb:{prediction_id}:5")  # changed their mind: a new question
        await handle(bot, offline)
        offline.press(USER, question.params["_result"], f"my:{prediction_id}:8")
        await handle(bot, offline)
        assert offline.of("answerCallbackQuery")[-1].params["text"] == texts.OUT_OF_DATE and await memory_rows(storage) == []
        offline.send_message(USER, text="/forget")
        await handle(bot, offline)
        offline.press(USER, answer.params["_result"], f"my:{prediction_id}:5")
        await handle(bot, offline)
        assert offline.of("answerCallbackQuery")[-1].params["text"] == texts.GONE and await memory_rows(storage) == []


async def test_yes_racing_forget_is_gone_and_leaves_nothing(offline, tmp_path, monkeypatch, photo_of):
    async with offline_bot(offline, tmp_path) as bot:
        storage = bot.bot_data.services.storage
        answer = await send_and_answer(bot, offline, USER, photo_of(3))
        prediction_id = int(buttons(answer)[0].split(":")[1])
        offline.press(USER, answer.params["_result"], f"fb:{prediction_id}:8")
        await handle(bot, offline)
        await forget_after_the_press_was_read(storage, prediction_id, monkeypatch)
        offline.press(USER, answer.params["_result"], f"my:{prediction_id}:8")
        await handle(bot, offline)
        assert offline.of("answerCallbackQuery")[-1].params["text"] == texts.GONE
        assert await memory_rows(storage) == [] and (await storage.stats()).feedback == 0


async def test_a_correction_of_an_unsure_answer_is_remembered_at_once(offline, tmp_path, photo_of):
    async with offline_bot(offline, tmp_path, low_confidence=1.0) as bot:  # every answer is "not sure"
        answer = await send_and_answer(bot, offline, USER, photo_of(3))
        offline.press(USER, answer.params["_result"], f"fb:{buttons(answer)[0].split(':')[1]}:8")
        await handle(bot, offline)
        text, keys = last_edit(offline)
        assert "Remember it as" not in text and not any(k.startswith("my:") for k in keys)
        assert await memory_rows(bot.bot_data.services.storage) == [(USER, bot.bot_data.services.reader.version)]
