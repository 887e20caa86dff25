"""End to end: the real telegram.ext.Application polling the fake Bot API over HTTP, a real database.

Kept for what only a running bot shows: polling, downloads, the answer's stored message id,
restarts, flood control, concurrency. Replies to single updates are in ``test_handlers.py``.
"""

from __future__ import annotations

import asyncio
import io
import logging
from pathlib import Path

from PIL import Image

from bot.handlers import photos
from bot.ops import logs
from bot.reading.inference import Reader
from bot.replies import texts
from bot.storage import StoredPrediction
from devkit.fake_telegram import TOKEN
from devkit.harness import buttons, running, settings_for, storage_at
from devkit.photos import digit, on_paper, png

USER = 7001


async def stored(data_dir: Path, prediction_id: int) -> StoredPrediction:
    """The prediction as the bot committed it, read back through a fresh connection."""
    storage = storage_at(data_dir)
    try:
        found = await storage.prediction(prediction_id)
    finally:
        await storage.close()
    assert found is not None
    return found


def encode_heic(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="HEIF")
    return buffer.getvalue()


async def test_photo_is_read_stored_and_answered_with_buttons(fake, tmp_path, photo_of, predictor):
    async with running(settings_for(fake, tmp_path)):
        message = fake.send_photo(USER, photo_of(7))
        answer = await fake.reply_to(message)
        assert not fake.of("sendChatAction"), "an answer within a second spends no request on 'typing'"
        assert "<b>7</b>" in answer.params["text"] and "% sure" in answer.params["text"]
        data = buttons(answer)
        assert data[0].startswith("ok:") and "saw:" in data[1] and len(data) == 12
        assert all(len(d.encode()) <= 64 for d in data)
        prediction_id = int(data[0].split(":")[1])
    found = await stored(tmp_path, prediction_id)
    assert found.digits == "7" and found.user_id == USER
    assert found.model_version == predictor.version and found.input_count == 1 and len(found.model_inputs) == 784
    assert found.reply_message_id == answer.params["_result"]["message_id"]


async def test_typing_is_shown_only_when_the_answer_takes_long(fake, tmp_path, photo_of, monkeypatch):
    monkeypatch.setattr(photos, "TYPING_AFTER", 0.0)
    async with running(settings_for(fake, tmp_path)):
        await fake.reply_to(fake.send_photo(USER, photo_of(7)))
        (typing,) = fake.of("sendChatAction", USER)
        assert typing.params["action"] == "typing"


async def test_keypad_correction_is_stored_once_and_can_change(fake, tmp_path, photo_of):
    async with running(settings_for(fake, tmp_path)):
        answer = await fake.reply_to(fake.send_photo(USER, photo_of(4)))
        bot_message = answer.params["_result"]
        prediction_id = int(buttons(answer)[0].split(":")[1])
        storage = storage_at(tmp_path)
        try:
            for label, expected, redrawn in (("9", "Saved", True), ("9", "Already saved", False), ("4", "Saved", True)):
                mark = len(fake.calls)
                query_id = fake.press(USER, bot_message, f"fb:{prediction_id}:{label}")
                ack = await fake.wait_for(
                    lambda c, q=query_id: c.method == "answerCallbackQuery" and c.params["callback_query_id"] == q, after=mark
                )
                assert ack.params.get("text") == expected
                if redrawn:  # the answer is edited after the press is answered: wait for it, not for time
                    await fake.wait_for(lambda c: c.method == "editMessageText", after=mark)
                saved = await storage.prediction(prediction_id)
                assert saved is not None and saved.label == label
            edits = fake.of("editMessageText")
            assert len(edits) == 2 and "Saved the right answer: <b>9</b>" in edits[0].params["text"]
            assert "Remember it as <b>9</b>" in edits[0].params["text"], "a sure 4 corrected to 9 is asked about"
            assert "Thanks for confirming" in edits[1].params["text"] and buttons(edits[1]) == buttons(answer)
            assert len(await storage.export_corrections()) == 1
        finally:
            await storage.close()


async def test_several_digits_are_corrected_by_a_typed_reply(fake, tmp_path, photo_of):
    async with running(settings_for(fake, tmp_path)):
        answer = await fake.reply_to(fake.send_photo(USER, photo_of(2, 0, 2, 6)))
        assert answer.method == "sendPhoto" and answer.files["photo"].startswith(b"\xff\xd8"), "a number comes boxed"
        assert "<b>2026</b>" in answer.params["caption"]
        prediction_id = int(buttons(answer)[0].split(":")[1])
        assert buttons(answer) == [f"ok:{prediction_id}", f"wr:{prediction_id}", f"saw:{prediction_id}"]
        mark = len(fake.calls)
        fake.press(USER, answer.params["_result"], f"wr:{prediction_id}")
        prompt = await fake.wait_for(lambda c: c.method == "sendMessage" and "Reply to this message" in c.params["text"], after=mark)
        assert prompt.params["reply_markup"]["force_reply"] is True
        # The prompt's id is stored once Telegram has answered sendMessage: milliseconds, which a
        # person cannot reply within, but this test can. Wait for it as a person would.
        storage = storage_at(tmp_path)
        try:
            for _ in range(100):
                if await storage.prediction_for_reply(USER, prompt.params["_result"]["message_id"]) is not None:
                    break
                await asyncio.sleep(0.02)
        finally:
            await storage.close()
        not_digits = fake.send_message(USER, text="twenty", reply_to_message=prompt.params["_result"])
        assert (await fake.reply_to(not_digits)).params["text"] == texts.DIGITS_ONLY
        typed = fake.send_message(USER, text="2 027", reply_to_message=prompt.params["_result"])
        assert "<b>2027</b>" in (await fake.reply_to(typed)).params["text"]
        edited = await fake.wait_for(lambda c: c.method == "editMessageCaption")
        assert "Saved the right answer: <b>2027</b>" in edited.params["caption"], "the boxed answer's caption is redrawn"
    found = await stored(tmp_path, prediction_id)
    assert found.label == "2027"


async def test_what_i_saw_sends_the_model_inputs(fake, tmp_path, photo_of):
    async with running(settings_for(fake, tmp_path)):
        answer = await fake.reply_to(fake.send_photo(USER, photo_of(5, 1)))
        fake.press(USER, answer.params["_result"], buttons(answer)[2])
        sent = await fake.wait_for(lambda c: c.method == "sendPhoto" and c.params["caption"] == texts.WHAT_I_SAW)
        picture = Image.open(io.BytesIO(sent.files["photo"]))
        assert picture.format == "JPEG" and max(picture.size) <= 1280 and picture.height > 360, "the photo, boxed, inputs below"


async def test_photo_with_a_4000_character_caption(fake, tmp_path, photo_of):
    async with running(settings_for(fake, tmp_path)):
        reply = await fake.reply_to(fake.send_photo(USER, photo_of(8), caption="y" * 4000))
        assert "<b>8</b>" in reply.params["text"]


async def test_image_document_and_oversize_photo(fake, tmp_path, mnist_test):
    async with running(settings_for(fake, tmp_path, max_image_bytes=200_000)):
        doc = fake.send_document(USER, png(on_paper([digit(mnist_test, 6)])), "image/png", "six.png")
        assert "<b>6</b>" in (await fake.reply_to(doc)).params["text"]
        heic = fake.send_document(USER, encode_heic(on_paper([digit(mnist_test, 4)])), "image/heic", "IMG_0001.HEIC")
        assert "<b>4</b>" in (await fake.reply_to(heic)).params["text"]
        big = fake.send_document(USER, b"\0" * 300_000, "image/png", "big.png")
        assert "too large" in (await fake.reply_to(big)).params["text"]


async def test_blank_page_says_no_digit_and_offers_a_typed_answer(fake, tmp_path):
    async with running(settings_for(fake, tmp_path)):
        reply = await fake.reply_to(fake.send_photo(USER, png(on_paper([]))))
        assert "can't find a digit" in reply.params["text"] and "darker pen" in reply.params["text"]
        assert buttons(reply)[0].startswith("wr:")


async def test_rate_limit_is_friendly(fake, tmp_path, photo_of):
    async with running(settings_for(fake, tmp_path, rate_limit_per_minute=2)):
        texts = []
        for _ in range(3):
            texts.append((await fake.reply_to(fake.send_photo(USER, photo_of(1)))).params["text"])
        assert "<b>1</b>" in texts[0] and "<b>1</b>" in texts[1]
        assert "faster than I can look" in texts[2]


async def test_data_and_buttons_survive_a_restart(fake, tmp_path, photo_of):
    settings = settings_for(fake, tmp_path)
    async with running(settings):
        answer = await fake.reply_to(fake.send_photo(USER, photo_of(9)))
    prediction_id = int(buttons(answer)[0].split(":")[1])
    async with running(settings):
        query_id = fake.press(USER, answer.params["_result"], f"ok:{prediction_id}")
        ack = await fake.wait_for(lambda c: c.method == "answerCallbackQuery" and c.params["callback_query_id"] == query_id)
        assert ack.params["text"] == "Saved"
    found = await stored(tmp_path, prediction_id)
    assert found.label == "9"


async def test_flood_control_server_errors_and_no_token_in_logs(fake, tmp_path, photo_of, capsys):
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    logs.setup(TOKEN, "text", "DEBUG")  # the bot's own logging, at its most talkative
    try:
        async with running(settings_for(fake, tmp_path)):
            fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
            reply = await fake.reply_to(fake.send_photo(USER, photo_of(2)))
            assert "<b>2</b>" in reply.params["text"]
            fake.fail_next("getFile", 500, "Internal Server Error")
            sorry = await fake.reply_to(fake.send_photo(USER, photo_of(2)))
            assert sorry.params["text"] == texts.SORRY
            assert "/forget" in (await fake.reply_to(fake.send_message(USER, text="/help"))).params["text"]
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    logged = capsys.readouterr().err
    assert "Set Bot API URL" in logged and "<token>" in logged, "PTB's DEBUG lines carry the token: they must be there, redacted"
    assert TOKEN not in logged and TOKEN.split(":")[1] not in logged
    assert "error while handling update" in logged


async def test_concurrent_users_are_served_in_parallel(fake, tmp_path, photo_of, monkeypatch):
    """Photos of different users are read at the same time, in the pool, not one after another."""
    reading, most = 0, 0
    real = Reader.read

    async def counted(self: Reader, data: bytes, memory=None):
        nonlocal reading, most
        reading += 1
        most = max(most, reading)
        try:
            await asyncio.sleep(0.2)  # every read overlaps the others' if they run together
            return await real(self, data, memory)
        finally:
            reading -= 1

    monkeypatch.setattr(Reader, "read", counted)
    async with running(settings_for(fake, tmp_path)):
        messages = [fake.send_photo(7100 + i, photo_of(i)) for i in range(8)]
        answers = await asyncio.gather(*(fake.reply_to(m) for m in messages))
        for i, answer in enumerate(answers):
            assert f"<b>{i}</b>" in answer.params["text"]
    assert most >= 4, f"at most {most} photos were being read at once"


async def test_a_group_asks_with_read_and_the_answer_goes_to_the_photo(fake, tmp_path, photo_of):
    group = -100900
    async with running(settings_for(fake, tmp_path)):
        photo = fake.send_photo(USER, photo_of(5), chat_id=group)
        asked = fake.send_message(7002, chat_id=group, text="/read@digit_test_bot", reply_to_message=photo)
        answer = await fake.wait_for(lambda c: c.method == "sendMessage" and c.params.get("chat_id") == group)
        assert "<b>5</b>" in answer.params["text"]
        assert answer.params["reply_parameters"]["message_id"] == photo["message_id"] != asked["message_id"]
        assert len(fake.of("sendMessage", group)) == 1, "the photo alone, unasked, got no answer"
