"""Storage against SQLite always, and against the real PostgreSQL on 127.0.0.1:5432 when it answers."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import itertools
import subprocess
import sys
import time

import pytest
import pytest_asyncio
from sqlalchemy import event, text

from bot.config import Settings
from bot.storage import NewMemory, NewPrediction, Remembered, Storage
from devkit.local import fresh_database, postgres_missing

NOW = dt.datetime.now(dt.UTC)


@pytest_asyncio.fixture(params=["sqlite", "postgresql"])
async def storage(request, tmp_path):
    if request.param == "sqlite":
        store = Storage(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}")
        await store.migrate()
        yield store
        await store.close()
        return
    if why := postgres_missing():
        pytest.skip(why)
    async with fresh_database() as url:
        store = Storage(Settings(_env_file=None, bot_token="x", database_url=url).database)
        try:
            await store.migrate()
            yield store
        finally:
            await store.close()


def new(user_id: int = 10, digits: str = "7", photo: bytes = b"jpeg-bytes") -> NewPrediction:
    return NewPrediction(
        user_id=user_id,
        chat_id=user_id,
        message_id=5,
        model_version="v1",
        digits=digits,
        details={
            "digits": [{"digit": 7, "p": 0.9, "top": [[7, 0.9], [1, 0.05], [9, 0.01]], "box": [0, 0, 1, 1]}],
            "reason": None,
            "confidence": 0.9,
        },
        photo=photo,
        photo_sha256="ab" * 32,
        model_inputs=bytes(784),
    )


async def test_migrations_are_idempotent(storage):
    await storage.migrate()
    assert await storage.ping()


async def test_prediction_round_trip_and_reply_lookup(storage):
    pid = await storage.save_prediction(new(photo=b"\xff\xd8 real bytes \x00"), NOW)
    await storage.set_reply_message(pid, 99)
    stored = await storage.prediction(pid)
    assert stored is not None and stored.digits == "7" and stored.reply_message_id == 99 and stored.label is None
    assert stored.details["digits"][0]["top"][1] == [1, 0.05]
    assert (await storage.prediction_for_reply(10, 99)) == stored
    assert await storage.prediction_for_reply(11, 99) is None
    assert await storage.prediction(pid + 1000) is None
    assert await storage.export_corrections() == []


async def test_correction_upsert_semantics(storage):
    pid = await storage.save_prediction(new(), NOW)
    assert await storage.record_correction(pid, 10, "1") is True
    assert await storage.record_correction(pid, 10, "1") is False
    assert await storage.record_correction(pid, 10, "7") is True
    stored = await storage.prediction(pid)
    assert stored is not None and stored.label == "7"
    (exported,) = await storage.export_corrections()
    assert exported.label == "7" and exported.predicted == "7" and exported.user_id == 10
    with pytest.raises(KeyError):
        await storage.record_correction(pid + 1000, 10, "1")


async def test_concurrent_presses_store_one_row(storage):
    pid = await storage.save_prediction(new(), NOW)
    results = await asyncio.gather(*(storage.record_correction(pid, 10, "3") for _ in range(5)), return_exceptions=True)
    assert [r for r in results if isinstance(r, Exception)] == []
    assert len(await storage.export_corrections()) == 1


async def test_forget_user_and_stats(storage):
    mine = [await storage.save_prediction(new(10, d), NOW) for d in ("1", "2", "")]
    other = await storage.save_prediction(new(11, "5"), NOW)
    await storage.record_correction(mine[0], 10, "1")
    await storage.record_correction(mine[1], 10, "3")
    await storage.record_correction(other, 11, "5")
    stats = await storage.stats()
    assert (stats.predictions, stats.users, stats.feedback, stats.confirmed, stats.no_digit) == (4, 2, 3, 2, 1)
    assert stats.confusion == {("1", "1"): 1, ("3", "2"): 1, ("5", "5"): 1}
    assert stats.reported_accuracy == pytest.approx(2 / 3)
    assert await storage.forget_user(10, NOW) == 3
    assert await storage.forget_user(10, NOW) == 0
    remaining = await storage.export_corrections()
    assert [c.user_id for c in remaining] == [11]
    assert await storage.save_prediction(new(10), NOW) is None, "sent before /forget: not stored"
    assert await storage.save_prediction(new(10), NOW + dt.timedelta(seconds=1)) is not None


async def test_rate_limit_holds_under_a_burst(storage):
    """50 attempts at once (the bot runs updates 64 at a time): exactly the limit gets through."""
    allowed = await asyncio.gather(*(storage.admit(10, 100 + i, [10], 20, 60) for i in range(50)))
    assert sum(a.allowed for a in allowed) == 20 and not any(a.done for a in allowed)
    assert (await storage.admit(11, 1, [11], 20, 60)).allowed, "another user has their own limit"
    assert (await storage.admit(10, 1, [10], 20, 0)).allowed, "a new window starts once the old one is over"


async def test_admission_finds_what_a_crash_left_and_stops_at_the_first_spent_budget(storage):
    prediction_id = await storage.save_prediction(new(user_id=10), NOW)
    found = await storage.admit(10, 5, [10], 0, 60)  # the message that made it (chat 10, message 5)
    assert found.done is not None and found.done.id == prediction_id and found.allowed, "a replay spends no budget"
    assert not (await storage.admit(-500, 6, [10, -500], 0, 60)).allowed
    assert (await storage.admit(-500, 7, [-500], 1, 60)).allowed, "a spent person's budget took nothing from the group's"


async def test_labels_are_ascii_digits(storage):
    pid = await storage.save_prediction(new(), NOW)
    for bad in ("²", "٣", "\uff17", "①", "", "1" * 59, "1a"):
        with pytest.raises(ValueError, match="not a label"):
            await storage.record_correction(pid, 10, bad)
    assert (await storage.prediction(pid)).label is None


async def test_inbox_keeps_each_update_once(storage):
    assert await storage.keep_update(5, '{"update_id": 5}', "a") is True
    assert await storage.keep_update(5, '{"update_id": 5}', "b") is False
    assert await storage.keep_update(3, '{"update_id": 3}', "a") is True
    assert await storage.pending_updates() == ['{"update_id": 3}', '{"update_id": 5}']
    await storage.drop_update(3)
    assert await storage.pending_updates() == ['{"update_id": 5}']


async def test_a_replica_adopts_only_what_stopped_or_silent_replicas_kept(storage):
    minute = dt.timedelta(minutes=1)
    await storage.beat("a")
    await storage.beat("b")
    for update_id, owner in [(1, "a"), (2, "b"), (3, "gone")]:  # "gone" never beat: a process before this one
        await storage.keep_update(update_id, f'{{"update_id": {update_id}}}', owner)
    assert await storage.adopt_updates("b", minute) == ['{"update_id": 3}'], "a is alive: only the orphan"
    assert await storage.adopt_updates("a", minute) == [], "3 is b's now, and b is alive"
    assert await storage.adopt_updates("b", dt.timedelta(0)) == ['{"update_id": 1}'], "a silent for longer than zero"
    assert await storage.adopt_updates("b", dt.timedelta(0)) == []
    await storage.leave("b")
    assert await storage.adopt_updates("c", minute) == ['{"update_id": 1}', '{"update_id": 2}', '{"update_id": 3}']
    assert await storage.pending_updates() == ['{"update_id": 1}', '{"update_id": 2}', '{"update_id": 3}'], "adopted, not dropped"


def test_database_url_forms():
    def url(value: str) -> str:
        return Settings(_env_file=None, bot_token="x", database_url=value).database

    assert url("postgres://u:p@db:5432/digitbot") == "postgresql+asyncpg://u:p@db:5432/digitbot"
    assert url("postgresql://u:p@db/digitbot") == "postgresql+asyncpg://u:p@db/digitbot"
    assert url("postgresql+asyncpg://u@db/x") == "postgresql+asyncpg://u@db/x"
    assert url("sqlite:////data/x.sqlite3") == "sqlite+aiosqlite:////data/x.sqlite3"
    default = Settings(_env_file=None, bot_token="x", data_dir="/srv/data").database
    assert default == "sqlite+aiosqlite:////srv/data/digitbot.sqlite3"


async def test_retraining_export_skips_a_bad_label_instead_of_stopping(storage, capsys, tmp_path):
    """A label stored before labels were checked (or written by hand) must not stop retraining for everyone."""
    from scripts.retrain import export

    good, bad = [await storage.save_prediction(new(), NOW) for _ in range(2)]
    await storage.record_correction(good, 10, "7")
    async with storage.engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO corrections (prediction_id, user_id, label, confirmed, created_at, updated_at)"
                " VALUES (:p, 10, :l, false, :t, :t)"
            ),
            {"p": bad, "l": "²", "t": NOW},
        )
    (item,) = await export(storage.url, tmp_path)
    assert item.label == "7" and item.photo.read_bytes() == b"jpeg-bytes"
    assert "skipped 1 corrections" in capsys.readouterr().out


async def test_photos_are_stored_once_and_never_read_by_a_button_press(storage, tmp_path):
    """The hot path (a press: look up, store the correction; /stats) touches no photo bytes."""
    big = b"\xff\xd8" + bytes(range(256)) * 8192  # 2 MB
    first = await storage.save_prediction(new(photo=big), NOW)
    again = await storage.save_prediction(new(photo=big), NOW)
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(storage.engine.sync_engine, "before_cursor_execute", record)
    try:
        found = await storage.prediction(first)
        await storage.record_correction(first, 10, "3")
        await storage.stats()
    finally:
        event.remove(storage.engine.sync_engine, "before_cursor_execute", record)
    assert found is not None and statements
    assert not [s for s in statements if "photos" in s or "data" in s], statements
    async with storage.engine.connect() as connection:
        assert (await connection.execute(text("SELECT COUNT(*) FROM photos"))).scalar() == 1
    assert await storage.spool_photos(["ab" * 32], tmp_path) == 1 and (tmp_path / ("ab" * 32)).read_bytes() == big
    assert await storage.forget_user(10, NOW) == 2
    async with storage.engine.connect() as connection:
        assert (await connection.execute(text("SELECT COUNT(*) FROM photos"))).scalar() == 0
    assert again != first


def migrate_to(connection, revision: str, down: bool = False) -> None:
    from alembic import command
    from alembic.config import Config

    from bot.storage import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    (command.downgrade if down else command.upgrade)(config, revision)


async def test_migration_moves_existing_photos_out_of_the_predictions(tmp_path):
    storage = Storage(f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}")
    try:
        async with storage.engine.begin() as connection:
            await connection.run_sync(migrate_to, "0002")
            for i, photo in enumerate((b"same", b"same", b"other")):
                await connection.execute(
                    text(
                        "INSERT INTO predictions (created_at, user_id, chat_id, message_id, model_version, digits, confidence,"
                        " details, photo, photo_sha256, model_inputs, input_count)"
                        " VALUES (:t, 10, 10, :m, 'v1', '7', 0.9, '{}', :p, :s, :e, 0)"
                    ),
                    {"t": NOW, "m": i, "p": photo, "s": photo.hex().ljust(64, "0"), "e": b""},
                )
        await storage.migrate()
        async with storage.engine.connect() as connection:
            photos: dict[str, bytes] = dict((await connection.execute(text("SELECT sha256, data FROM photos"))).all())
            assert (await connection.execute(text("SELECT COUNT(*) FROM predictions"))).scalar() == 3
        assert sorted(photos.values()) == [b"other", b"same"]
        assert await storage.spool_photos(photos, tmp_path) == 2
    finally:
        await storage.close()


def test_the_head_is_alembics_and_a_start_with_nothing_to_migrate_never_imports_alembic(tmp_path):
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from bot.storage import MIGRATIONS
    from bot.storage.engine import head_revision

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert head_revision() == ScriptDirectory.from_config(config).get_current_head()
    start = (
        "import asyncio, sys\n"
        "from bot.storage import Storage\n"
        "async def main():\n"
        f"    storage = Storage('sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}')\n"
        "    await storage.migrate()\n"
        "    await storage.close()\n"
        "asyncio.run(main())\n"
        "print('alembic' in sys.modules)\n"
    )
    runs = [subprocess.run([sys.executable, "-c", start], capture_output=True, text=True, timeout=120, check=True) for _ in range(2)]
    assert [run.stdout.strip() for run in runs] == ["True", "False"], "the first start migrates, the second finds the head"


async def test_the_answer_is_stored_once_and_a_downgrade_writes_its_columns_back(storage):
    """The confidence lives in the answer's JSON and the input count in the inputs themselves; an
    operator who rolls the schema back gets both columns, filled from those facts."""
    answer = new().details | {"confidence": 0.42}
    prediction_id = await storage.save_prediction(dataclasses.replace(new(), details=answer, model_inputs=bytes(2 * 784)), NOW)
    stored = await storage.prediction(prediction_id)
    assert stored is not None and stored.input_count == 2 and stored.details["confidence"] == 0.42
    async with storage.engine.begin() as connection:
        await connection.run_sync(migrate_to, "0007", True)
        back = (await connection.execute(text("SELECT confidence, input_count FROM predictions WHERE id = :i"), {"i": prediction_id})).one()
        assert tuple(back) == (0.42, 2)
        await connection.run_sync(migrate_to, "head")
        columns = (await connection.execute(text("SELECT * FROM predictions"))).keys()
    assert "confidence" not in columns and "input_count" not in columns
    assert await storage.prediction(prediction_id) == stored


def remembered(label: int, version: str = "v1") -> NewMemory:
    return NewMemory(version, label, bytes(range(4)) * 128, bytes(784))


async def test_memories_follow_their_correction_and_their_person(storage):
    mine = await storage.save_prediction(new(user_id=10), NOW)
    other = await storage.save_prediction(new(user_id=11), NOW)
    assert await storage.record_correction(mine, 10, "9", [remembered(9)])
    assert await storage.record_correction(other, 11, "1", [remembered(1)])
    first = await storage.memory_mark(10, "v1")
    assert (first.count, first.stale) == (1, 0) and first.last_id > 0
    assert [(label, len(vector)) for _, label, vector in await storage.memories(10, "v1")] == [(9, 512)]

    assert not await storage.record_correction(mine, 10, "9", [remembered(9)]), "a repeated press changes nothing"
    assert await storage.memory_mark(10, "v1") == first
    assert await storage.record_correction(mine, 10, "4", [remembered(4)])  # changed their mind: the old digit goes
    assert [label for _, label, _ in await storage.memories(10, "v1")] == [4]
    assert await storage.record_correction(mine, 10, "7")  # confirmed after all: nothing to remember
    assert (await storage.memory_mark(10, "v1")).count == 0

    await storage.record_correction(mine, 10, "3", [remembered(3, "v0")])
    assert (await storage.memory_mark(10, "v1")).stale == 1
    ((memory_id, pixels),) = await storage.stale_memories(10, "v1")
    assert pixels == bytes(784)
    await storage.revector("v1", [(memory_id, bytes(512))])
    assert (await storage.memory_mark(10, "v1")).count == 1

    await storage.forget_user(10, NOW + dt.timedelta(seconds=1))
    assert (await storage.memory_mark(10, "v1")).count == 0
    assert (await storage.memory_mark(11, "v1")).count == 1, "another person's memory stays"
    with pytest.raises(KeyError):
        await storage.record_correction(mine, 10, "9", [remembered(9)])
    assert (await storage.memory_mark(10, "v1")).count == 0, "a correction of a deleted answer leaves no row"


async def test_remember_once_only_while_it_is_the_correction_and_never_after_forget(storage):
    mine = await storage.save_prediction(new(user_id=10), NOW)
    await storage.record_correction(mine, 10, "9")  # a sure 7 corrected to 9: stored, not yet remembered
    assert (await storage.memory_mark(10, "v1")).count == 0
    assert await storage.remember(mine, "4", [remembered(4)]) is Remembered.CHANGED, "Yes to a question about another label"
    assert await storage.remember(mine, "9", [remembered(9)]) is Remembered.NOW
    assert await storage.remember(mine, "9", [remembered(9)]) is Remembered.BEFORE, "Yes pressed twice"
    assert [label for _, label, _ in await storage.memories(10, "v1")] == [9]
    await storage.forget_user(10, NOW + dt.timedelta(seconds=1))
    with pytest.raises(KeyError):
        await storage.remember(mine, "9", [remembered(9)])
    assert (await storage.memory_mark(10, "v1")).count == 0


async def test_yes_and_forget_at_once_leave_nothing_half_written(storage):
    for round_ in range(5):
        mine = await storage.save_prediction(new(user_id=20 + round_), NOW)
        await storage.record_correction(mine, 20 + round_, "9")
        outcomes = await asyncio.gather(
            storage.remember(mine, "9", [remembered(9)]),
            storage.forget_user(20 + round_, NOW + dt.timedelta(seconds=1)),
            return_exceptions=True,
        )
        assert outcomes[0] is Remembered.NOW or isinstance(outcomes[0], KeyError), outcomes
        assert (await storage.memory_mark(20 + round_, "v1")).count == 0, "forget came last either way: no shape left"


async def test_not_this_time_drops_only_the_owners_shapes_and_only_once(storage):
    first = await storage.save_prediction(new(user_id=10), NOW)
    theirs = await storage.save_prediction(new(user_id=11), NOW)
    await storage.record_correction(first, 10, "9", [remembered(9)])
    await storage.record_correction(theirs, 11, "9", [remembered(9)])
    ((mine_id, _, _),), ((their_id, _, _),) = await storage.memories(10, "v1"), await storage.memories(11, "v1")
    answer = await storage.save_prediction(new(user_id=10, digits="9"), NOW)
    plain = {"digits": [{"digit": 7, "p": 0.9, "top": [[7, 0.9]], "box": [0, 0, 1, 1]}], "reason": None, "confidence": 0.9}
    assert await storage.drop_recalled(answer, [mine_id, their_id], "7", plain)
    assert (await storage.memory_mark(10, "v1")).count == 0 and (await storage.memory_mark(11, "v1")).count == 1
    assert not await storage.drop_recalled(answer, [mine_id], "7", plain), "pressed twice"
    stored = await storage.prediction(answer)
    assert stored is not None and stored.digits == "7" and stored.details == plain
    assert (await storage.stats()).recalled_dropped == 1
    with pytest.raises(KeyError):
        await storage.drop_recalled(10**9, [], "7", plain)


async def test_a_shared_send_budget_hands_out_a_burst_then_one_slot_per_interval(storage):
    """``reserve_send`` is ``bot.delivery.ratelimit.Pacer`` kept in PostgreSQL for every replica at once."""
    if not storage.shared_by_replicas:
        assert storage.engine.dialect.name == "sqlite"  # one process: it paces itself
        return
    interval, burst = 1 / 30, 30
    started, waits, slots = time.monotonic(), [], []  # a slot's moment from the start: the time asked plus its wait
    for _ in range(2 * burst):
        asked = time.monotonic() - started
        waits.append(await storage.reserve_send("bot", interval, (burst - 1) * interval))
        slots.append(asked + waits[-1])
    assert max(waits[:burst]) == 0.0, "the burst goes at once"
    assert slots[-1] == pytest.approx(burst * interval, abs=0.5 * burst * interval), "then one slot per interval"
    assert all(b >= a - 0.01 for a, b in itertools.pairwise(slots)), "first come, first served (to the clocks' jitter)"
    assert await storage.reserve_send("group:-5", 3.0, 0.0) == 0.0, "each budget apart"
