"""Two bot replicas on one PostgreSQL keep one bot's send budget between them, as Telegram counts it."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest

from devkit.fake_telegram import BOT_USER, TOKEN, Call, FakeTelegram
from devkit.harness import TEST_DEADLINE, bot_process, free_port
from devkit.local import ROOT, fresh_database, postgres_missing
from devkit.photos import digit, jpeg, on_paper

RATE, BURST = 30, 30
"""Telegram's budget for one bot, as ``bot.delivery.ratelimit`` keeps it: 30 a second, 30 at once."""
PHOTOS = 240
"""Enough that reading them all takes well under the time the shared budget spreads their answers over."""


GROUP, GROUP_BURST, GROUP_RATE = -700, 20, 20 / 60
"""A group's budget, as ``bot.delivery.ratelimit`` keeps it: 20 a minute, 20 at once."""


def _update(update_id: int, user: int, file_id: str, group: int | None = None) -> dict[str, object]:
    """A photo sent to the bot in private, or in ``group`` with the bot mentioned (what a group has it read)."""
    photo = {"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 200, "height": 200, "file_size": 1000}
    sender = {"id": user, "is_bot": False, "first_name": "u"}
    chat = {"id": user, "type": "private"} if group is None else {"id": group, "type": "group", "title": "logbook"}
    message = {"message_id": update_id, "date": 0, "chat": chat, "from": sender, "photo": [photo]}
    if group is not None:
        mention = f"@{BOT_USER['username']}"
        message |= {"caption": mention, "caption_entities": [{"type": "mention", "offset": 0, "length": len(mention)}]}
    return {"update_id": update_id, "message": message}


@dataclass
class Replica:
    process: subprocess.Popen[str]
    logs: list[str] = field(default_factory=list)
    """What it wrote to stderr, read as it comes: a full pipe would stop it."""


def _replica(fake: FakeTelegram, folder: Path, database: str, port: int, **extra: str) -> Replica:
    """``python -m bot`` as one replica of several: webhook mode on ``port``, the shared ``database``."""
    folder.mkdir()
    env = {"BOT_TOKEN": TOKEN, "DATABASE_URL": database, "DATA_DIR": str(folder), "MODEL_PATH": str(ROOT / "models")}
    env |= {"MODE": "webhook", "WEBHOOK_URL": f"http://127.0.0.1:{port}", "WEBHOOK_SECRET": "s3cret", "WEBHOOK_LISTEN": "127.0.0.1"}
    env |= {"WEBHOOK_PORT": str(port), "RATE_LIMIT_PER_MINUTE": "1000", "LOG_LEVEL": "WARNING"}
    env |= {"DATABASE_TIMEOUT": str(TEST_DEADLINE)}  # many photos at once on two cores: about pacing, not the deadline
    replica = Replica(bot_process(fake, folder, **env | extra))
    stderr = replica.process.stderr
    assert stderr is not None
    threading.Thread(target=lambda: replica.logs.extend(stderr), daemon=True).start()
    return replica


async def _deliver(ports: list[int], updates: list[dict[str, object]]) -> None:
    """POST each update to a replica's webhook, as Telegram does; each is kept once this answers 200."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:

        async def one(i: int, update: dict[str, object]) -> int:
            url = f"http://127.0.0.1:{ports[i % len(ports)]}/telegram"
            async with http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"}) as response:
                return response.status

        assert set(await asyncio.gather(*(one(i, u) for i, u in enumerate(updates)))) == {200}


async def _stop(replicas: list[Replica]) -> None:
    processes = [replica.process for replica in replicas]
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            await asyncio.wait_for(asyncio.to_thread(process.wait), timeout=30)
        except TimeoutError:
            process.kill()


async def _answers(fake: FakeTelegram, count: int, after: int) -> list[Call]:
    """The answers sent since ``after``, once there are ``count`` of them (or two minutes passed)."""
    answers: list[Call] = []
    for _ in range(1200):
        answers = fake.of("sendMessage")[after:]
        if len(answers) >= count:
            break
        await asyncio.sleep(0.1)
    return answers


async def test_two_replicas_together_send_no_faster_than_one_bot_may(fake, tmp_path, mnist_test):
    if why := postgres_missing():
        pytest.skip(why)
    ports = [free_port(), free_port()]
    replicas: list[Replica] = []
    async with fresh_database() as database:
        try:
            replicas = [_replica(fake, tmp_path / f"r{i}", database, port, ANSWERS_IN_FLIGHT="16") for i, port in enumerate(ports)]
            for port in ports:  # each replica registers its webhook once it is up
                await fake.wait_for(lambda c, port=port: c.method == "setWebhook" and f":{port}/" in c.params["url"], timeout=120)
            files = [fake.add_file(jpeg(on_paper([digit(mnist_test, i % 10)]))) for i in range(PHOTOS)]
            sent_before = len(fake.of("sendMessage"))
            await _deliver(ports, [_update(1000 + i, 50000 + i, files[i]) for i in range(PHOTOS)])
            answers = await _answers(fake, PHOTOS, sent_before)
            assert len(answers) == PHOTOS, f"{len(answers)} answers to {PHOTOS} photos"
            assert {call.params["chat_id"] for call in answers} == {50000 + i for i in range(PHOTOS)}, "each photo answered once"
            assert all("I read:" in call.params["text"] for call in answers)
            times = sorted(call.at for call in answers)
            # The long-run rate: how many land in a single second also depends on how the two processes,
            # sharing two cores with the rest of the suite, happen to be scheduled after their slots.
            span = times[-1] - times[0]
            assert span >= 0.9 * (PHOTOS - BURST) / RATE, f"{PHOTOS} answers in {span:.2f} s: faster than one bot may send"
            logs = [line for replica in replicas for line in replica.logs]
            assert not [line for line in logs if "shared send budget unavailable" in line], "every slot came from the shared budget"
        finally:
            await _stop(replicas)


async def test_two_replicas_keep_a_groups_minute_together(fake, tmp_path, mnist_test):
    """A group's photos arriving at both replicas: past the group's burst, its answers go out at the
    group's pace, as if one bot sent them (each replica alone would send its share at once)."""
    if why := postgres_missing():
        pytest.skip(why)
    ports, count = [free_port(), free_port()], GROUP_BURST + 4
    replicas: list[Replica] = []
    async with fresh_database() as database:
        try:
            replicas = [_replica(fake, tmp_path / f"r{i}", database, port) for i, port in enumerate(ports)]
            for port in ports:
                await fake.wait_for(lambda c, port=port: c.method == "setWebhook" and f":{port}/" in c.params["url"], timeout=120)
            files = [fake.add_file(jpeg(on_paper([digit(mnist_test, i % 10)]))) for i in range(count)]
            sent_before = len(fake.of("sendMessage"))
            await _deliver(ports, [_update(3000 + i, 70000 + i, files[i], GROUP) for i in range(count)])
            answers = [call for call in await _answers(fake, count, sent_before) if call.params["chat_id"] == GROUP]
            assert len(answers) == count, f"{len(answers)} answers to {count} photos in the group"
            times = sorted(call.at for call in answers)
            span = times[-1] - times[0]
            assert span >= 0.9 * (count - GROUP_BURST) / GROUP_RATE, f"{count} answers in {span:.2f} s: faster than a group allows"
        finally:
            await _stop(replicas)


async def test_a_replica_killed_for_good_loses_nothing_its_sibling_answers_once(fake, tmp_path, mnist_test):
    """kill -9 of one replica while it holds photos (their downloads stalled), never restarted: the
    other takes its updates over once its heartbeat is silent, and each is answered exactly once."""
    if why := postgres_missing():
        pytest.skip(why)
    ports, count = [free_port(), free_port()], 12
    replicas: list[Replica] = []
    async with fresh_database() as database:
        try:
            silence = {"REPLICA_SILENCE_SECONDS": "3"}
            replicas = [_replica(fake, tmp_path / f"r{i}", database, port, **silence) for i, port in enumerate(ports)]
            for port in ports:
                await fake.wait_for(lambda c, port=port: c.method == "setWebhook" and f":{port}/" in c.params["url"], timeout=120)
            files = [fake.add_file(jpeg(on_paper([digit(mnist_test, i % 10)]))) for i in range(count)]
            sent_before = len(fake.of("sendMessage"))
            fake.file_delay = 30.0  # the first replica's photos wait for their downloads when it is killed
            await _deliver(ports[:1], [_update(2000 + i, 60000 + i, files[i]) for i in range(count)])
            await asyncio.sleep(2)  # the sibling beats twice meanwhile and takes nothing: the first is alive
            assert fake.of("sendMessage")[sent_before:] == []
            replicas[0].process.send_signal(signal.SIGKILL)
            await asyncio.to_thread(replicas[0].process.wait, 30)
            fake.file_delay = 0.0
            assert len(await _answers(fake, count, sent_before)) == count, "the sibling answers what the killed replica held"
            await asyncio.sleep(4)  # more beats: nothing is taken, or answered, twice
            answers = fake.of("sendMessage")[sent_before:]
            assert sorted(call.params["chat_id"] for call in answers) == [60000 + i for i in range(count)], "each answered once"
            assert any("resuming 12 updates" in line for line in replicas[1].logs)
        finally:
            await _stop(replicas)
