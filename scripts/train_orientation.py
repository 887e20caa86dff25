"""Train the orientation network (upright, or turned a quarter either way) on MNIST's training digits; register.

    python -m scripts.train_orientation --data-root ../shared/data

Writes a new version: the base version's networks (the current one unless --base says) with the
new orientation network beside them, and moves 'current' to it (unless --no-promote).
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from model.learning.train_orientation import OrientationTrainConfig, run


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    defaults = OrientationTrainConfig()
    parser = argparse.ArgumentParser(
        prog="python -m scripts.train_orientation", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-root", default="data", help="where MNIST is (or is downloaded to)")
    parser.add_argument("--no-download", action="store_true", help="never download MNIST")
    parser.add_argument("--models", type=Path, default=defaults.models, help="model registry directory")
    parser.add_argument("--base", default="", help="the version whose networks to keep (default: the current one)")
    parser.add_argument("--raw", type=int, default=defaults.raw, help="raw MNIST digits to learn from")
    parser.add_argument("--photos", type=int, default=defaults.photos, help="further digits rendered as photos to learn from")
    parser.add_argument("--validation", type=int, default=defaults.validation, help="held-out digits rendered as photos to measure on")
    parser.add_argument("--epochs", type=int, default=defaults.fit.epochs, help="passes over the data")
    parser.add_argument("--limit", type=int, default=0, help="use only this many MNIST training digits (smoke runs)")
    parser.add_argument("--workers", type=int, default=defaults.workers, help="processes rendering and transforming")
    parser.add_argument("--seed", type=int, default=defaults.fit.seed, help="batch order and jitter")
    parser.add_argument("--no-promote", action="store_true", help="write the version but leave 'current' alone")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> Path:
    args = parse_args(argv)
    defaults = OrientationTrainConfig()
    return run(
        replace(
            defaults,
            models=args.models,
            base=args.base,
            data_root=args.data_root,
            download=not args.no_download,
            raw=args.raw,
            photos=args.photos,
            validation=args.validation,
            fit=replace(defaults.fit, epochs=args.epochs, seed=args.seed),
            limit=args.limit,
            workers=args.workers,
            promote=not args.no_promote,
        )
    )


if __name__ == "__main__":
    main()
