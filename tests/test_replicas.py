"""Two bot replicas on one PostgreSQL keep one bot's send budget between them, as Telegram counts it."""

from __future__ import annotations

import asyncio
import threading

import aiohttp
import pytest

from devkit.fake_telegram import TOKEN
from devkit.harness import TEST_DEADLINE, bot_process, free_port
from devkit.local import ROOT, fresh_database, postgres_missing
from devkit.photos import digit, jpeg, on_paper

RATE, BURST = 30, 30
"""Telegram's budget for one bot, as ``bot.ratelimit`` keeps it: 30 a second, 30 at once."""
PHOTOS = 240
"""Enough that reading them all takes well under the time the shared budget spreads their answers over."""


def _update(update_id: int, user: int, file_id: str) -> dict[str, object]:
    photo = {"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 200, "height": 200, "file_size": 1000}
    sender, chat = {"id": user, "is_bot": False, "first_name": "u"}, {"id": user, "type": "private"}
    return {"update_id": update_id, "message": {"message_id": update_id, "date": 0, "chat": chat, "from": sender, "photo": [photo]}}


async def test_two_replicas_together_send_no_faster_than_one_bot_may(fake, tmp_path, mnist_test):
    if why := postgres_missing():
        pytest.skip(why)
    ports = [free_port(), free_port()]
    processes = []
    async with fresh_database() as database:
        try:
            for i, port in enumerate(ports):
                (tmp_path / f"r{i}").mkdir()
                env = {
                    "BOT_TOKEN": TOKEN,
                    "DATABASE_URL": database,
                    "DATA_DIR": str(tmp_path / f"r{i}"),
                    "MODEL_PATH": str(ROOT / "models"),
                }
                env |= {
                    "MODE": "webhook",
                    "WEBHOOK_URL": f"http://127.0.0.1:{port}",
                    "WEBHOOK_SECRET": "s3cret",
                    "WEBHOOK_LISTEN": "127.0.0.1",
                }
                env |= {"WEBHOOK_PORT": str(port), "RATE_LIMIT_PER_MINUTE": "1000", "ANSWERS_IN_FLIGHT": "16", "LOG_LEVEL": "WARNING"}
                env |= {"DATABASE_TIMEOUT": str(TEST_DEADLINE)}  # 240 photos at once on two cores: about pacing, not the deadline
                processes.append(bot_process(fake, tmp_path / f"r{i}", **env))
            logs: list[str] = []
            for process in processes:  # read what each writes, or a full pipe would stop it
                threading.Thread(target=lambda stream=process.stderr: logs.extend(stream), daemon=True).start()
            for port in ports:  # each replica registers its webhook once it is up
                await fake.wait_for(lambda c, port=port: c.method == "setWebhook" and f":{port}/" in c.params["url"], timeout=120)
            files = [fake.add_file(jpeg(on_paper([digit(mnist_test, i % 10)]))) for i in range(PHOTOS)]
            sent_before = len(fake.of("sendMessage"))
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:

                async def deliver(i: int) -> int:
                    url = f"http://127.0.0.1:{ports[i % 2]}/telegram"
                    update = _update(1000 + i, 50000 + i, files[i])
                    async with http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"}) as response:
                        return response.status

                assert set(await asyncio.gather(*(deliver(i) for i in range(PHOTOS)))) == {200}
            for _ in range(1200):
                answers = fake.of("sendMessage")[sent_before:]
                if len(answers) >= PHOTOS:
                    break
                await asyncio.sleep(0.1)
            assert len(answers) == PHOTOS, f"{len(answers)} answers to {PHOTOS} photos"
            assert {call.params["chat_id"] for call in answers} == {50000 + i for i in range(PHOTOS)}, "each photo answered once"
            assert all("I read:" in call.params["text"] for call in answers)
            times = sorted(call.at for call in answers)
            # The long-run rate: how many land in a single second also depends on how the two processes,
            # sharing two cores with the rest of the suite, happen to be scheduled after their slots.
            span = times[-1] - times[0]
            assert span >= 0.9 * (PHOTOS - BURST) / RATE, f"{PHOTOS} answers in {span:.2f} s: faster than one bot may send"
            assert not [line for line in logs if "shared send budget unavailable" in line], "every slot came from the shared budget"
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    await asyncio.wait_for(asyncio.to_thread(process.wait), timeout=30)
                except TimeoutError:
                    process.kill()
