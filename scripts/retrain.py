"""Retrain from user corrections, and promote the result only if it is safe.

    python -m scripts.retrain [--database-url URL] [--models DIR] [--dry-run]
    python -m scripts.retrain rollback [--models DIR] [--to vN]

Corrections come from the bot's database (DATABASE_URL, SQLite or PostgreSQL), their
original photos go through the *current* shared transform, the current model is
fine-tuned on them mixed with MNIST, photo-like and non-digit replay, and the candidate is
compared with the current model on MNIST test, the photo-like set, photos of non-digits
and held-out corrections. It
is promoted (a new registry version, ``current`` moved atomically; the bot hot-reloads)
only when no fixed set drops by more than ``--tolerance`` and held-out corrections improve.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import tempfile
from pathlib import Path

import numpy as np
import torch

from bot.config import DatabaseSettings, database_url
from bot.storage import Storage
from model import registry
from model.data import Digits, concat, load_mnist, non_digit_sets, transform_digits
from model.evaluation import pyplot
from model.labels import is_label
from model.network import DigitNet
from model.retraining import (
    CorrectionDigits,
    Guards,
    LabelledPhoto,
    Verdict,
    curate,
    fine_tune,
    gate,
    is_held_out,
    per_digit_accuracy,
    rebuild,
    temperature_for,
)
from model.training import FitConfig, Stopwatch
from model.transform import DigitTransform, TransformParams


async def export(url: str, spool: Path) -> list[LabelledPhoto]:
    """Corrections with a valid label, their photos written under ``spool`` (never all in memory)."""
    storage = Storage(url)
    try:
        rows = await storage.export_corrections()
        bad = [r.prediction_id for r in rows if not is_label(r.label)]
        if bad:
            print(f"skipped {len(bad)} corrections whose label is not 0-9 digits (prediction ids {bad[:10]})")
        rows = [r for r in rows if is_label(r.label)]
        await storage.spool_photos((r.photo_sha256 for r in rows), spool)
    finally:
        await storage.close()
    return [LabelledPhoto(spool / r.photo_sha256, r.photo_sha256, r.label, r.user_id, r.predicted, r.confidence) for r in rows]


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.retrain", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    models = Path(os.environ.get("MODEL_PATH", registry.SHIPPED))
    parser.add_argument("--models", type=Path, default=models, help="model registry directory")
    sub = parser.add_subparsers(dest="command")
    back = sub.add_parser("rollback", help="point 'current' back at the previous (or a given) version")
    back.add_argument("--to", help="version to return to, e.g. v1")
    # Also after the command, as operators type it; SUPPRESS keeps a --models given before it.
    back.add_argument("--models", type=Path, default=argparse.SUPPRESS, help="model registry directory")
    database = DatabaseSettings()
    parser.add_argument("--database-url", default=database.database_url, help="default: DATABASE_URL, as the bot reads it")
    parser.add_argument("--data-dir", type=Path, default=database.data_dir, help="default: DATA_DIR, as the bot reads it")
    parser.add_argument("--data-root", default="data", help="where MNIST is (or is downloaded to)")
    parser.add_argument("--no-download", action="store_true")
    parser.add_argument("--dry-run", action="store_true", help="train and compare, but write nothing")
    parser.add_argument("--tolerance", type=float, default=0.001, help="largest allowed drop on a fixed set (0.001 = 0.1 point)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--replay", type=int, default=6000, help="MNIST training digits replayed")
    parser.add_argument("--photos", type=int, default=4000, help="photo-like renders replayed")
    parser.add_argument("--non-digits", type=int, default=600, help="non-digit drawings replayed (models with that class)")
    parser.add_argument("--test-non-digits", type=int, default=1000, help="non-digit photos in the gate (0.1 point = 1 photo)")
    parser.add_argument("--test", type=int, default=10000, help="MNIST test digits in the gate")
    parser.add_argument("--test-photos", type=int, default=2000, help="photo-like test digits in the gate (0.1 point = 2 photos)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--report", type=Path, default=Path("runs/retrain"), help="where the per-digit PNG goes")
    return parser.parse_args(argv)


def rollback(models: Path, to: str | None) -> str:
    existing = registry.versions(models)
    current = registry.current_version(models)
    target = to or (existing[existing.index(current) - 1] if current in existing and existing.index(current) > 0 else None)
    if target is None:
        raise SystemExit(f"no version before {current} to roll back to")
    registry.set_current(models, target)
    print(f"current model: {current} -> {target}")
    return target


def main(argv: list[str] | None = None) -> Verdict | None:
    args = parse(argv)
    if args.command == "rollback":
        rollback(args.models, args.to)
        return None
    with tempfile.TemporaryDirectory(prefix="digitbot-photos-") as spool:
        return retrain(args, Path(spool))


def retrain(args: argparse.Namespace, spool: Path) -> Verdict:
    clock = Stopwatch()
    torch.manual_seed(args.seed)
    guards = Guards()
    corrections = asyncio.run(export(database_url(args.database_url, args.data_dir), spool))
    curation = curate(corrections, guards)
    print(
        f"corrections: {len(corrections)} exported, {len(curation.kept)} kept; {curation.capped} over the per-user cap, "
        f"{curation.conflicts_resolved} conflicts resolved, {curation.conflicts_dropped} dropped; "
        f"{len(curation.suspicious)} contradict a very confident model (weighed down); "
        f"distrusted users: {curation.distrusted_users or 'none'}"
    )
    state, card = registry.load(args.models)
    current = DigitNet.from_state(state).eval()
    params = TransformParams.from_dict(card.get("transform", {}))
    transform = DigitTransform(params)
    held = [is_held_out(item, guards.held_out) for item in curation.kept]
    train_items = [(i, w) for i, w, h in zip(curation.kept, curation.weights, held, strict=True) if not h]
    test_items = [i for i, h in zip(curation.kept, held, strict=True) if h]
    train_corr = rebuild([i for i, _ in train_items], [w for _, w in train_items], transform)
    held_out = rebuild(test_items, [1.0] * len(test_items), transform)
    learn, hold = len(train_corr.digits.labels), len(held_out.digits.labels)
    print(f"model inputs rebuilt through the current transform: {learn} to learn, {hold} held out")
    if len(train_corr.digits.labels) == 0:
        print("nothing to learn from: keeping the current model")
        return Verdict(False, ["no usable corrections"], [])

    mnist_x, mnist_y = load_mnist(args.data_root, train=True, download=not args.no_download)
    test_x, test_y = load_mnist(args.data_root, train=False, download=not args.no_download)
    rng = np.random.default_rng(args.seed)
    pick = rng.choice(len(mnist_x) - 5000, args.replay, replace=False)
    val = slice(len(mnist_x) - 2000, len(mnist_x))
    workers = args.workers
    raw = transform_digits(mnist_x[pick], mnist_y[pick], params, photo=False, seed=args.seed, workers=workers, desc="replay")
    photos = transform_digits(
        mnist_x[pick[: args.photos]],
        mnist_y[pick[: args.photos]],
        params,
        photo=True,
        seed=args.seed + 7,
        workers=workers,
        desc="replay photos",
    )
    # Calibrated on the same mix as training calibrates on (raw MNIST, photos, non-digits), so a
    # promoted model's confidences mean what the first model's meant.
    val_x, val_y = mnist_x[val], mnist_y[val]
    validation = concat(
        transform_digits(val_x, val_y, params, photo=False, seed=args.seed, workers=workers, desc="validation"),
        transform_digits(val_x[:250], val_y[:250], params, photo=True, seed=args.seed + 2, workers=workers, desc="validation photos"),
    )
    fixed = {
        "MNIST test": transform_digits(
            test_x[: args.test], test_y[: args.test], params, photo=False, seed=0, workers=workers, desc="MNIST test"
        ),
        "photo-like test": transform_digits(
            test_x[: args.test_photos], test_y[: args.test_photos], params, photo=True, seed=2024, workers=workers, desc="photo test"
        ),
    }
    replay = concat(raw, photos)
    if current.rejects:  # keep the "not a digit" class alive, and make the gate check it
        shapes, fixed["non-digits"] = non_digit_sets(args.non_digits, args.test_non_digits, params, args.seed + 11, workers)
        replay = concat(replay, shapes)
        validation = concat(validation, non_digit_sets(0, 100, params, args.seed + 13, workers)[1])
    candidate = fine_tune(
        current, train_corr, replay, transform, FitConfig(epochs=args.epochs, max_lr=1e-4, seed=args.seed, freeze_norm=True)
    )
    verdict = gate(current, candidate, fixed, held_out.digits, transform, args.tolerance)
    report(verdict, current, candidate, fixed["photo-like test"], train_corr, held_out, transform, args.report)
    if not verdict.promote:
        print("NOT promoted, keeping " + str(card.get("version")) + ":\n  " + "\n  ".join(verdict.reasons))
        return verdict
    if args.dry_run:
        print("would promote (dry run: nothing written)")
        return verdict
    version = registry.next_version(args.models)
    new_card = dict(card)
    new_card.update(
        version=version,
        parent=card.get("version"),
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        temperature=temperature_for(candidate, validation, transform),
        metrics={
            f"gate_{c.name.replace(' ', '_').replace('-', '_')}": {"current": c.current, "candidate": c.candidate, "n": c.count}
            for c in verdict.comparisons
        },
        data={
            "corrections_exported": len(corrections),
            "corrections_used": len(train_corr.digits.labels),
            "held_out": len(held_out.digits.labels),
            "suspicious": len(curation.suspicious),
            "distrusted_users": len(curation.distrusted_users),
            "replay_mnist": len(raw.labels),
            "replay_photos": len(photos.labels),
        },
        training={
            "kind": "fine-tune on corrections",
            "epochs": args.epochs,
            "seed": args.seed,
            "seconds": clock.seconds(),
            "torch": torch.__version__,
        },
        git_revision=registry.git_revision(),
    )
    registry.save(args.models, version, candidate.state_dict(), new_card)
    registry.set_current(args.models, version)
    print(f"promoted {version} (was {card.get('version')}) in {clock.seconds()} s")
    return verdict


def report(
    verdict: Verdict,
    current: DigitNet,
    candidate: DigitNet,
    photos: Digits,
    learned: CorrectionDigits,
    held_out: CorrectionDigits,
    transform: DigitTransform,
    out: Path,
) -> None:
    """A table on stdout and a PNG of per-digit accuracy before and after."""
    print(f"\n{'set':<24}{'n':>7}{'current':>10}{'candidate':>11}")
    for c in verdict.comparisons:
        print(f"{c.name:<24}{c.count:>7}{c.current:>10.4f}{c.candidate:>11.4f}")
    plt = pyplot()
    sets = {"photo-like test": photos, "corrections (learned)": learned.digits, "corrections (held out)": held_out.digits}
    fig, axes = plt.subplots(1, len(sets), figsize=(5 * len(sets), 3.6), sharey=True)
    for ax, (name, digits) in zip(axes, sets.items(), strict=True):
        before = per_digit_accuracy(current, digits, transform)
        after = per_digit_accuracy(candidate, digits, transform)
        ax.bar(np.arange(10) - 0.2, np.nan_to_num(before), width=0.4, label="current")
        ax.bar(np.arange(10) + 0.2, np.nan_to_num(after), width=0.4, label="candidate")
        ax.set_xticks(range(10))
        ax.set_title(f"{name} (n={len(digits.labels)})")
        ax.set_ylim(0, 1.05)
    axes[0].set_ylabel("accuracy per digit")
    axes[0].legend()
    fig.suptitle("promoted" if verdict.promote else "not promoted: " + "; ".join(verdict.reasons)[:120], fontsize=9)
    fig.tight_layout()
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "per_digit.png", dpi=100)
    plt.close(fig)
    print(f"per-digit picture: {out / 'per_digit.png'}")


if __name__ == "__main__":
    main()
