"""``retrain``: seed a database with corrections (square-looped 9s the shipped model reads as 7, plus
ordinary digits), retrain a copy of the registry with the real script and its default sizes, and
compare the failure kind before and after on fresh photos."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from model.data.styles import STYLES, draw
from model.learning import versions
from model.reading.predictor import Predictor
from scripts.bench.common import mnist_test, photo_jpeg, with_model
from scripts.bench.gate import describe

STYLE = "square-9"


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = with_model(sub.add_parser("retrain", help="retraining on seeded corrections with the defaults, and its gate"))
    parser.add_argument("--corrections", type=int, default=1000, help="corrections stored before the run")
    parser.add_argument("--real", default="", help="a folder of real photos (labels.csv) for the gate, as scripts.retrain --real")
    parser.add_argument("--seed", type=int, default=0, help="the retraining's seed (scripts.retrain --seed)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    from devkit.seeding import seed_corrections
    from scripts import retrain

    label = STYLES[STYLE][0]
    current = Predictor.load(args.model)
    images, labels = mnist_test(args)
    rng = np.random.default_rng(11)
    samples = [(draw(STYLE, rng), label) for _ in range(args.corrections * 4 // 5)]
    for i in range(args.corrections - len(samples)):
        k = int(rng.integers(len(images)))
        samples.append((photo_jpeg(images[k], 500 + i), str(labels[k])))
    fresh = [draw(STYLE, np.random.default_rng(2000 + i)) for i in range(200)]
    before = float(np.mean([current.predict(p).number == label for p in fresh]))
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bot.sqlite3"
        asyncio.run(seed_corrections(url, current, [(photo, truth, 1000 + i % 40) for i, (photo, truth) in enumerate(samples)]))
        shutil.copytree(args.model, f"{tmp}/models")
        start = time.perf_counter()
        real = ["--real", args.real] if args.real else []
        command = ["--models", f"{tmp}/models", "--database-url", url, "--data-root", args.data_root, "--report", "runs/retrain"]
        verdict = retrain.main([*command, "--seed", str(args.seed), *real])
        elapsed = time.perf_counter() - start
        after_model = Predictor.load(f"{tmp}/models")
        after = float(np.mean([after_model.predict(p).number == label for p in fresh]))
        state, _ = versions.load(Path(tmp) / "models")
        weights = hashlib.sha256(b"".join(state[k].contiguous().numpy().tobytes() for k in sorted(state))).hexdigest()[:16]
    print(f"retrain on {len(samples)} corrections ({STYLE} x{args.corrections * 4 // 5}, ordinary digits for the rest), 40 users")
    promoted = verdict.promote if verdict else None
    print(f"  wall time {elapsed:.0f} s (export, rebuild, replay data, fine-tune, gate, report, memory calibration); promoted: {promoted}")
    print(f"  {STYLE} on 200 fresh photos: {before:.1%} -> {after:.1%} (model {current.version} -> {after_model.version})")
    print(f"  memory after: {after_model.memory}; weights sha256 {weights} (seed {args.seed})")
    for c in verdict.comparisons if verdict else []:
        print(f"  {c.current:.4f} -> {c.candidate:.4f} ({(c.candidate - c.current) * 100:+.2f} points)  {describe(c)}")
