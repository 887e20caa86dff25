"""Benchmarks whose output is quoted in notes and README: figures, not tests.

python -m scripts.bench photo       # ms per 1280x960 JPEG vs Pillow's bare decode; photos/s on 2 cores
python -m scripts.bench mnist-cli   # MNIST test accuracy through `python -m model.predict --json`
python -m scripts.bench decode      # memory of huge palette PNGs (the 100 KB decompression bomb), one and four at once
python -m scripts.bench export      # peak memory of the retraining export: 1,000 corrections with 2 MB photos
python -m scripts.bench press       # database time of a button press on a prediction whose photo is 20 MB
python -m scripts.bench picture     # cost of drawing the boxed picture of a reading
python -m scripts.bench memory      # per-user memory of corrections: what it fixes, what it leaves alone, its cost
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from model.data.digits import load_mnist
from model.data.render import photo_of
from model.reading import registry
from model.reading.predictor import Predictor

ROOT = Path(__file__).resolve().parent.parent


def phone_jpeg(images: np.ndarray, seed: int) -> bytes:
    """A 1280x960 JPEG with sensor-like noise, so decoding costs what a real photo costs."""
    rng = np.random.default_rng(seed)
    photo = photo_of([images[int(rng.integers(len(images)))] for _ in range(2)], seed, 0).resize((1280, 960), Image.Resampling.BICUBIC)
    noisy = np.asarray(photo, dtype=np.float32) + rng.normal(0, 4.0, (960, 1280, 3))
    buffer = io.BytesIO()
    Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def bare_decode(data: bytes) -> None:
    Image.open(io.BytesIO(data)).load()


def timed(fn: Callable[[], object], repeat: int) -> float:
    fn()
    best = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best.append(time.perf_counter() - start)
    return float(np.median(best)) * 1000


def _worker(args: tuple[str, list[bytes]]) -> int:
    torch.set_num_threads(1)
    predictor = Predictor.load(args[0])
    for data in args[1]:
        predictor.predict(data)
    return len(args[1])


def bench_photo(args: argparse.Namespace) -> None:
    torch.set_num_threads(1)
    predictor = Predictor.load(args.model)
    images, _ = load_mnist(args.data_root, train=False, download=not args.no_download)
    photos = [phone_jpeg(images, seed) for seed in range(8)]
    decode = np.mean([timed(partial(bare_decode, d), 20) for d in photos])
    full = np.mean([timed(partial(predictor.predict, d), 20) for d in photos])
    segment = np.mean([timed(partial(predictor.transform.segment, d), 20) for d in photos])
    print(f"1280x960 JPEG, single thread, median over 20 runs x {len(photos)} photos, model {predictor.version}")
    print(f"  Pillow bare decode        {decode:7.2f} ms")
    print(f"  transform (incl. decode)  {segment:7.2f} ms")
    print(f"  predict (decode+transform+CNN) {full:7.2f} ms  = {full / decode:.2f}x bare decode, {1000 / full:.1f} photos/s")
    per_worker = [photos * 25, photos * 25]
    start = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(2) as pool:
        done = sum(pool.map(_worker, [(args.model, chunk) for chunk in per_worker]))
    elapsed = time.perf_counter() - start
    print(f"  2 processes x 1 thread: {done} photos in {elapsed:.1f} s = {done / elapsed:.1f} photos/s (including model load)")


def bench_mnist_cli(args: argparse.Namespace) -> None:
    images, labels = load_mnist(args.data_root, train=False, download=not args.no_download)
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i, image in enumerate(images):
            path = Path(tmp) / f"{i:05d}.png"
            Image.fromarray(image, mode="L").save(path)
            files.append(str(path))
        start = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-m", "model.predict", "--json", "--model", args.model, *files], capture_output=True, text=True, check=True
        )
        elapsed = time.perf_counter() - start
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["file"] for r in rows] == files, "CLI output order differs from input order"
    correct = sum(r["digits"] == str(label) for r, label in zip(rows, labels, strict=True))
    none = sum(r["digits"] == "" for r in rows)
    print(f"MNIST test through `python -m model.predict --json` (one call, {len(files)} PNG files)")
    rate = len(files) / elapsed
    print(f"  accuracy {correct / len(files):.4%} ({correct}/{len(files)}), no digit {none}, {elapsed:.1f} s = {rate:.0f} files/s")


def bench_bot(args: argparse.Namespace) -> None:
    """`python -m bot` in its own process against the fake Bot API (tests/fake_telegram.py), same 2 cores."""
    asyncio.run(_bench_bot(args))


def start_bot(python: str, env: dict[str, str], cwd: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([python, "-m", "bot"], cwd=cwd, env={"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), **env})


async def _bench_bot(args: argparse.Namespace) -> None:
    from devkit.fake_telegram import TOKEN, FakeTelegram

    images, _ = load_mnist(args.data_root, train=False, download=not args.no_download)
    photos = [phone_jpeg(images, seed) for seed in range(8)]
    fake = FakeTelegram()
    await fake.start()
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": fake.api_url,
            "TELEGRAM_FILE_URL": fake.file_url,
            "DATA_DIR": tmp,
            "RATE_LIMIT_PER_MINUTE": "100000",
            "LOG_LEVEL": "WARNING",
            "MEMORY": "true" if args.memory == "on" else "false",
            **({"DATABASE_URL": args.database_url} if args.database_url else {}),
        }
        bot = start_bot(args.bot_python, env, tmp)
        try:
            await fake.wait_for(lambda c: c.method == "setMyCommands", timeout=120)
            if args.remembered:
                await _remember(args, Path(tmp), [9100 + u for u in range(args.users)])
            latencies: list[float] = []

            async def user(uid: int, rounds: int, record: bool) -> None:
                for r in range(rounds):
                    start = time.monotonic()
                    message = fake.send_photo(uid, photos[(uid + r) % len(photos)])
                    answer = await fake.reply_to(message, timeout=60)
                    if record:
                        latencies.append(answer.at - start)
                        await asyncio.sleep(args.think)

            await asyncio.gather(*(user(9000 + u, 3, False) for u in range(args.users)))
            rss_before = _status_mb(bot.pid, "VmRSS")
            started = time.monotonic()
            await asyncio.gather(*(user(9100 + u, args.rounds, True) for u in range(args.users)))
            elapsed = time.monotonic() - started
            rss_after = _status_mb(bot.pid, "VmRSS")
        finally:
            bot.terminate()
            await asyncio.to_thread(bot.wait, 60)  # the fake must keep answering while the bot stops
            await fake.stop()
    ms = np.array(latencies) * 1000
    pace = f"{args.think:g} s after each answer" if args.think else "the moment it is answered (saturation)"
    print(f"bot: {args.users} users x {args.rounds} photos (1280x960 JPEG), each user sending the next photo {pace}")
    print(f"  replies {len(ms)} in {elapsed:.1f} s = {len(ms) / elapsed:.1f} photos/s")
    p50, p90, p99 = np.percentile(ms, [50, 90, 99])
    print(f"  latency ms: p50 {p50:.0f}, p90 {p90:.0f}, p99 {p99:.0f}, max {ms.max():.0f}")
    print(f"  bot RSS: {rss_before:.0f} MB after warm-up, {rss_after:.0f} MB after the run")


async def _remember(args: argparse.Namespace, data_dir: Path, users: list[int]) -> None:
    """Give each measured user ``--remembered`` corrected digits (random vectors: the look-up costs the same)."""
    from bot.config import database_url
    from bot.storage import NewMemory, NewPrediction, Storage, utcnow

    version = Predictor.load(args.model).version
    storage = Storage(database_url(args.database_url, data_dir))
    rng = np.random.default_rng(0)
    try:
        for user in users:
            for i in range(args.remembered):
                new = NewPrediction(user, user, 10**6 + i, version, "7", 0.5, {"digits": []}, b"x", "0" * 64, bytes(784), 1)
                prediction_id = await storage.save_prediction(new, utcnow())
                assert prediction_id is not None
                memory = NewMemory(version, int(rng.integers(10)), _unit(rng, 1)[0].tobytes(), bytes(784))
                await storage.record_correction(prediction_id, user, "1", [memory])
    finally:
        await storage.close()
    print(f"  {args.remembered} remembered digits for each of {len(users)} users")


def _status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def bench_retrain(args: argparse.Namespace) -> None:
    """Seed a database with corrections (square-looped 9s the shipped model reads as 7, plus
    ordinary digits), retrain a copy of the registry with the real script and its default
    sizes, and compare the failure kind before and after on fresh photos."""
    import shutil

    from devkit.seeding import seed_corrections
    from devkit.styles import STYLES, draw
    from scripts import retrain

    style = "square-9"
    label = STYLES[style][0]
    current = Predictor.load(args.model)
    images, labels = load_mnist(args.data_root, train=False, download=not args.no_download)
    rng = np.random.default_rng(11)
    samples = [(draw(style, rng), label) for _ in range(args.corrections * 4 // 5)]
    for i in range(args.corrections - len(samples)):
        k = int(rng.integers(len(images)))
        samples.append((photo_jpeg(images[k], 500 + i), str(labels[k])))
    fresh = [draw(style, np.random.default_rng(2000 + i)) for i in range(200)]
    before = float(np.mean([current.predict(p).digits == label for p in fresh]))

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bot.sqlite3"
        asyncio.run(seed_corrections(url, current, [(photo, truth, 1000 + i % 40) for i, (photo, truth) in enumerate(samples)]))
        shutil.copytree(args.model, f"{tmp}/models")
        start = time.perf_counter()
        verdict = retrain.main(
            ["--models", f"{tmp}/models", "--database-url", url, "--data-root", args.data_root, "--report", "runs/retrain"]
        )
        elapsed = time.perf_counter() - start
        after_model = Predictor.load(f"{tmp}/models")
        after = float(np.mean([after_model.predict(p).digits == label for p in fresh]))
    print(f"retrain on {len(samples)} corrections ({style} x{args.corrections * 4 // 5}, ordinary digits for the rest), 40 users")
    promoted = verdict.promote if verdict else None
    print(f"  wall time {elapsed:.0f} s (export, rebuild, replay data, fine-tune, gate, report); promoted: {promoted}")
    print(f"  {style} on 200 fresh photos: {before:.1%} -> {after:.1%} (model {current.version} -> {after_model.version})")
    for c in verdict.comparisons if verdict else []:
        print(f"  {c.name:<24} n={c.count:<6} {c.current:.4f} -> {c.candidate:.4f} ({(c.candidate - c.current) * 100:+.2f} points)")


def palette_png(side: int, glyph: np.ndarray | None = None, transparency: bool = False) -> bytes:
    """A palette PNG of ``side`` x ``side``: tens of kilobytes on the wire, ``side``² bytes and more decoded."""
    image = Image.new("L", (side, side), 235)
    if glyph is not None:
        ink = Image.fromarray(255 - glyph).resize((side // 2, side // 2), Image.Resampling.BILINEAR)
        image.paste(ink.point(lambda v: 30 if v < 128 else 235), (side // 4, side // 4))
    palette = image.convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    buffer = io.BytesIO()
    palette.save(buffer, format="PNG", **({"transparency": 3} if transparency else {}))
    return buffer.getvalue()


def _memory_case(model: str, photos: list[bytes], normal: bytes) -> dict[str, Any]:
    """In a fresh process: RSS before, peak while reading ``photos`` at once, RSS after, and a normal photo's time."""
    from concurrent.futures import ThreadPoolExecutor

    from model.reading.transform import ImageError

    torch.set_num_threads(1)
    predictor = Predictor.load(model)
    normal_ms = timed(lambda: predictor.predict(normal), 5)
    before = _status_mb(os.getpid(), "VmRSS")

    def read(data: bytes) -> str:
        try:
            return predictor.predict(data).digits or "no digit"
        except ImageError as err:
            return f"refused: {err}"

    start = time.perf_counter()
    with ThreadPoolExecutor(len(photos)) as pool:
        outcomes = list(pool.map(read, photos))
    seconds = time.perf_counter() - start
    return {
        "before": before,
        "peak": _status_mb(os.getpid(), "VmHWM"),
        "after": _status_mb(os.getpid(), "VmRSS"),
        "seconds": seconds,
        "normal_ms": normal_ms,
        "normal_after_ms": timed(lambda: predictor.predict(normal), 5),
        "outcome": outcomes[0],
    }


def bench_decode(args: argparse.Namespace) -> None:
    images, _ = load_mnist(args.data_root, train=False, download=not args.no_download)
    normal = phone_jpeg(images, 1)
    cases = {
        "9400x9400 palette PNG": [palette_png(9400)],
        "9400x9400 palette PNG with transparency": [palette_png(9400, transparency=True)],
        "4 x 9400x9400 palette PNGs at once": [palette_png(9400, transparency=i % 2 == 1) for i in range(4)],
        "6000x6000 palette PNG of a 3 (36 MP, read)": [palette_png(6000, images[18], transparency=True)],
        "4 x 6000x6000 palette PNGs at once": [palette_png(6000, images[18], transparency=True)] * 4,
    }
    context = multiprocessing.get_context("spawn")
    for name, photos in cases.items():
        with context.Pool(1) as pool:
            r = pool.apply(_memory_case, (args.model, photos, normal))
        size = sum(len(p) for p in photos) // 1024
        print(f"{name} ({size} KB): {r['outcome']!r} in {r['seconds']:.2f} s")
        print(
            f"  RSS {r['before']:.0f} MB before, peak +{r['peak'] - r['before']:.0f} MB, after +{r['after'] - r['before']:.0f} MB;"
            f" a normal photo {r['normal_ms']:.1f} ms before, {r['normal_after_ms']:.1f} ms after"
        )


async def _seed_big(url: str, count: int, size: int) -> None:
    from bot.storage import NewPrediction, Storage, utcnow

    storage = Storage(url)
    await storage.migrate()
    rng = np.random.default_rng(0)
    try:
        for i in range(count):
            photo = rng.bytes(size)
            new = NewPrediction(i % 40, i % 40, i, "v", "1", 0.5, {}, photo, hashlib.sha256(photo).hexdigest(), b"", 0)
            prediction_id = await storage.save_prediction(new, utcnow())
            if prediction_id is not None:
                await storage.record_correction(prediction_id, i % 40, "7")
    finally:
        await storage.close()


def _export_case(url: str, spool: str) -> dict[str, float]:
    from scripts.retrain import export

    before = _status_mb(os.getpid(), "VmRSS")
    start = time.perf_counter()
    items = asyncio.run(export(url, Path(spool)))
    return {"count": len(items), "seconds": time.perf_counter() - start, "before": before, "peak": _status_mb(os.getpid(), "VmHWM")}


def bench_export(args: argparse.Namespace) -> None:
    count, size = args.corrections, 2 * 1024 * 1024
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bot.sqlite3"
        asyncio.run(_seed_big(url, count, size))
        spool = Path(tmp) / "spool"
        spool.mkdir()
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            r = pool.apply(_export_case, (url, str(spool)))
    print(f"export of {r['count']:.0f} corrections with {size >> 20} MB photos (SQLite): {r['seconds']:.1f} s")
    print(f"  RSS {r['before']:.0f} MB before, peak {r['peak']:.0f} MB (+{r['peak'] - r['before']:.0f} MB)")


async def _press(url: str, rounds: int) -> list[float]:
    """What a keypad press asks of the database: the prediction by id, then the correction's upsert."""
    from bot.storage import NewPrediction, Storage, utcnow

    storage = Storage(url)
    await storage.migrate()
    try:
        photo = np.random.default_rng(1).bytes(20 * 1024 * 1024)
        new = NewPrediction(1, 1, 1, "v", "7", 0.9, {"digits": []}, photo, hashlib.sha256(photo).hexdigest(), bytes(784), 1)
        prediction_id = await storage.save_prediction(new, utcnow())
        assert prediction_id is not None
        times = []
        for i in range(rounds):
            start = time.perf_counter()
            await storage.prediction(prediction_id)
            await storage.record_correction(prediction_id, 1, str(i % 10))
            times.append(time.perf_counter() - start)
        return times
    finally:
        await storage.close()


def bench_press(args: argparse.Namespace) -> None:
    from bot.config import database_url

    with tempfile.TemporaryDirectory() as tmp:
        for name, url in (("SQLite", f"sqlite+aiosqlite:///{tmp}/bot.sqlite3"), ("PostgreSQL", args.database_url)):
            if not url:
                continue
            ms = np.array(asyncio.run(_press(database_url(url, Path(tmp)), 200))) * 1000
            p50, p99 = np.percentile(ms, [50, 99])
            print(f"button press, prediction with a 20 MB photo ({name}, 200 presses): database time p50 {p50:.1f} ms, p99 {p99:.1f} ms")


def bench_picture(args: argparse.Namespace) -> None:
    """The boxed picture of a reading: a 1280x960 phone JPEG of a 2-digit number, and a 4000x3000 one."""
    from bot import picture, replies

    predictor = Predictor.load(args.model)
    images, _ = load_mnist(args.data_root, train=False, download=not args.no_download)
    photos = [phone_jpeg(images, seed) for seed in range(8)]
    big = []
    for data in photos[:4]:
        buffer = io.BytesIO()
        Image.open(io.BytesIO(data)).resize((4000, 3000), Image.Resampling.BICUBIC).save(buffer, format="JPEG", quality=90)
        big.append(buffer.getvalue())
    for name, group in (("1280x960", photos), ("4000x3000", big)):
        readings = [(p, replies.summarize(r), r) for p in group for r in [predictor.predict(p)]]
        answer = np.mean([timed(partial(picture.boxed, p, d), 20) for p, d, _ in readings])
        inputs = [np.stack([(i.pixels * 255).round().astype(np.uint8) for i in r.items]).tobytes() for _, _, r in readings]
        saw = np.mean([timed(partial(picture.boxed, p, d, x, len(r.items)), 20) for (p, d, r), x in zip(readings, inputs, strict=True)])
        print(
            f"{name} JPEG: boxed answer {answer:.1f} ms, 'What I saw' (boxes and inputs) {saw:.1f} ms (median of 20, {len(group)} photos)"
        )


def bench_memory(args: argparse.Namespace) -> None:
    """Per-user memory of corrections (``model.reading.memory``), with the thresholds on the model's card."""
    from devkit.styles import draw
    from model.data import sets
    from model.reading.memory import Memory
    from scripts.calibrate_memory import shapes

    predictor = Predictor.load(args.model)
    images, labels = load_mnist(args.data_root, train=False, download=not args.no_download)
    print(f"model {predictor.version}, memory {predictor.memory}")

    def remembered(photos: list[tuple[bytes | Image.Image, int]]) -> Memory:
        """What a user's corrections leave: each photo's one digit with the label they gave."""
        return Memory.of(shapes(predictor, photos, "corrections"))

    def right(photos: Sequence[tuple[bytes | Image.Image, str]], memory: Memory | None) -> int:
        return sum(predictor.predict(p, memory).digits == label for p, label in photos)

    rng = np.random.default_rng(2026)
    for style in ("square-9", "open-top-4", "continental-1"):
        label = STYLE_LABELS[style]
        corrected = remembered([(draw(style, rng), int(label)) for _ in range(3)])
        nxt = [(draw(style, rng), label) for _ in range(50)]
        print(f"{style}: after 3 corrections, next 50 read right: {right(nxt, corrected)} (another user: {right(nxt, Memory.empty())})")
    ordinary = remembered([(s.photo, int(s.label)) for s in sets.photos(images, labels, 100, seed=sets.SEED + 1)])
    test = [(s.photo, s.label) for s in sets.photos(images, labels, args.photos)]
    plain, mine = right(test, None), right(test, ordinary)
    print(f"photo-like set ({len(test)}), read as a user with {len(ordinary)} corrections of ordinary digits: {plain} -> {mine} right")
    ones = [(s.photo, s.label) for s in sets.photos(images, labels, 400, seed=sets.SEED + 2) if s.label == "1"]
    liar = remembered([(p, 7) for p, _ in ones[:20]])
    rest = ones[20:]
    sevens = sum(predictor.predict(p, liar).digits == "7" for p, _ in rest)
    others = len(rest) - right(rest, None)
    print(f"a user who 'corrects' 20 ones to 7: {sevens} of their next {len(rest)} ones read as 7; another user's: {others} misread")
    big = Memory(np.arange(10000, dtype=np.int64), rng.integers(0, 10, 10000), _unit(rng, 10000))
    query, probabilities = _unit(rng, 1)[0], np.full(10, 0.1, np.float32)
    from model.reading.memory import recall

    per_digit = timed(lambda: recall(query, probabilities, big, predictor.memory), 2000)
    print(f"look-up among 10,000 remembered digits: {per_digit:.3f} ms per digit (median of 2,000)")


STYLE_LABELS = {"square-9": "9", "open-top-4": "4", "continental-1": "1"}


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    from model.reading.memory import DIMS

    v = rng.normal(size=(n, DIMS)).astype(np.float32)
    unit: np.ndarray = v / np.linalg.norm(v, axis=1, keepdims=True)
    return unit


def photo_jpeg(image: np.ndarray, seed: int) -> bytes:
    buffer = io.BytesIO()
    photo_of([image], seed, 0).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("which", choices=["photo", "mnist-cli", "bot", "retrain", "decode", "export", "press", "memory", "picture"])
    parser.add_argument("--photos", type=int, default=2000, help="memory: photo-like digits read as a user with a memory")
    parser.add_argument("--memory", choices=["on", "off"], default="on", help="bot: MEMORY for the bot")
    parser.add_argument("--remembered", type=int, default=0, help="bot: corrected digits each measured user has in memory")
    parser.add_argument("--corrections", type=int, default=1000)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=25, help="photos per user in the measured run")
    parser.add_argument("--think", type=float, default=1.0, help="seconds a user looks at an answer before the next photo")
    parser.add_argument("--bot-python", default=sys.executable, help="interpreter that runs the bot (e.g. a venv with CPU-only torch)")
    parser.add_argument("--model", default=str(registry.SHIPPED))
    parser.add_argument("--database-url", default="", help="bot: the database the bot uses (default: SQLite in a temporary folder)")
    parser.add_argument("--data-root", default="data")
    parser.add_argument("--no-download", action="store_true")
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse()
    benches = {
        "photo": bench_photo,
        "mnist-cli": bench_mnist_cli,
        "bot": bench_bot,
        "retrain": bench_retrain,
        "decode": bench_decode,
        "export": bench_export,
        "press": bench_press,
        "memory": bench_memory,
        "picture": bench_picture,
    }
    benches[arguments.which](arguments)
