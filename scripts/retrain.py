"""Retrain from user corrections, and promote the result only if it is safe.

    python -m scripts.retrain [--database-url URL] [--models DIR] [--dry-run]
    python -m scripts.retrain rollback [--models DIR] [--to vN]

Corrections come from the bot's database (DATABASE_URL, SQLite or PostgreSQL), their
original photos go through the *current* shared transform, the current model is
fine-tuned on them mixed with MNIST, photo-like and non-digit replay, and the candidate is
compared with the current model on MNIST test, the photo-like set, photos of non-digits
held-out corrections and, with ``--real DIR``, real photos. It is promoted (a new registry
version with its own memory threshold, ``current`` moved atomically; the bot hot-reloads)
only when no fixed set is worse beyond chance (a paired exact test) or beyond its margin
(``--margin SET=SHARE``), no more real photos are lost than gained, and the held-out corrections
improve beyond chance (``model.judging.gate``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
from pathlib import Path

from bot.config import DatabaseSettings, database_url
from bot.storage import Storage
from model.judging.gate import ALPHA, MARGINS, Rules, Verdict
from model.learning.corrections import LabelledPhoto
from model.learning.memory_calibration import ORDINARY
from model.learning.retrain import RetrainConfig, run
from model.learning.train import VALIDATION
from model.reading import registry
from model.reading.labels import is_label


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
    database, defaults = DatabaseSettings(), RetrainConfig(models=Path())
    parser.add_argument("--database-url", default=database.database_url, help="default: DATABASE_URL, as the bot reads it")
    parser.add_argument("--data-dir", type=Path, default=database.data_dir, help="default: DATA_DIR, as the bot reads it")
    parser.add_argument("--data-root", default="data", help="where MNIST is (or is downloaded to)")
    parser.add_argument("--no-download", action="store_true", help="never download MNIST")
    parser.add_argument("--dry-run", action="store_true", help="train and compare, but write nothing")
    _gate_arguments(parser, defaults)
    _learning_arguments(parser, defaults)
    parser.add_argument("--report", type=Path, default=Path("runs/retrain"), help="where the per-digit PNG goes")
    return parser.parse_args(argv)


def _gate_arguments(parser: argparse.ArgumentParser, defaults: RetrainConfig) -> None:
    """What the gate reads, and how much worse a candidate may do there."""
    parser.add_argument("--alpha", type=float, default=ALPHA, help="the gate's one-sided level per set")
    parser.add_argument(
        "--margin", action="append", default=[], metavar="SET=SHARE", help="a fixed set's largest net loss, e.g. photo=0.006 (repeatable)"
    )
    parser.add_argument("--test-non-digits", type=int, default=defaults.test_non_digits, help="non-digit photos in the gate")
    parser.add_argument("--test", type=int, default=defaults.test, help="MNIST test digits in the gate")
    parser.add_argument("--test-photos", type=int, default=defaults.test_photos, help="photo-like test digits in the gate")
    parser.add_argument("--real", type=Path, help="a folder of real photos (labels.csv) the gate reads too: fewer read right refuses")
    parser.add_argument("--test-numbers", type=int, default=defaults.test_numbers, help="drawn numbers in the gate (with a number reader)")


def _learning_arguments(parser: argparse.ArgumentParser, defaults: RetrainConfig) -> None:
    """What the candidate learns from, and how."""
    parser.add_argument("--epochs", type=int, default=3, help="passes over the data")
    parser.add_argument("--replay", type=int, default=6000, help="MNIST training digits replayed")
    parser.add_argument("--photos", type=int, default=6000, help="photo-like renders replayed (at most --replay)")
    parser.add_argument("--non-digits", type=int, default=600, help="non-digit drawings replayed (models with that class)")
    parser.add_argument("--validation", type=int, default=2000, help=f"MNIST digits the temperature is fitted on (at most {VALIDATION})")
    parser.add_argument("--memory-ordinary", type=int, default=ORDINARY, help="ordinary digits of the new version's memory calibration")
    parser.add_argument("--number-replay", type=int, default=defaults.number_replay, help="drawn numbers replayed beside corrected ones")
    parser.add_argument(
        "--number-validation", type=int, default=defaults.number_validation, help="drawn numbers the number reader's temperature is fit on"
    )
    parser.add_argument("--workers", type=int, default=2, help="processes drawing and transforming replay")
    parser.add_argument("--threads", type=int, default=2, help="torch's threads (the same count, seed and data give the same weights)")
    parser.add_argument("--seed", type=int, default=0, help="batch order, augmentation and initial weights")


def rollback(models: Path, to: str | None) -> str:
    existing = registry.versions(models)
    current = registry.current_version(models)
    target = to or (existing[existing.index(current) - 1] if current in existing and existing.index(current) > 0 else None)
    if target is None:
        raise SystemExit(f"no version before {current} to roll back to")
    registry.set_current(models, target)
    print(f"current model: {current} -> {target}")
    return target


def margins(given: list[str]) -> dict[str, float]:
    parsed = {}
    for item in given:
        name, _, share = item.partition("=")
        try:
            parsed[name] = float(share)
        except ValueError:
            raise SystemExit(f"--margin {item!r}: expected SET=SHARE, e.g. photo=0.006") from None
    return parsed


def main(argv: list[str] | None = None) -> Verdict | None:
    args = parse(argv)
    if args.command == "rollback":
        rollback(args.models, args.to)
        return None
    config = RetrainConfig(
        models=args.models,
        data_root=args.data_root,
        download=not args.no_download,
        dry_run=args.dry_run,
        rules=Rules(args.alpha, MARGINS | margins(args.margin)),
        epochs=args.epochs,
        replay=args.replay,
        photos=args.photos,
        non_digits=args.non_digits,
        test_non_digits=args.test_non_digits,
        test=args.test,
        test_photos=args.test_photos,
        validation=args.validation,
        real=args.real,
        memory_ordinary=args.memory_ordinary,
        number_replay=args.number_replay,
        number_validation=args.number_validation,
        test_numbers=args.test_numbers,
        workers=args.workers,
        threads=args.threads,
        report=args.report,
        seed=args.seed,
    )
    with tempfile.TemporaryDirectory(prefix="digitbot-photos-") as spool:
        return run(config, asyncio.run(export(database_url(args.database_url, args.data_dir), Path(spool))))


if __name__ == "__main__":
    main()
