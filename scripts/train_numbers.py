"""Train the number reader on numbers drawn from MNIST's training digits; calibrate; register.

    python -m scripts.train_numbers --data-root ../shared/data

Writes a new version: the base version's digit network (the current one unless --base says)
beside the new number reader, and moves 'current' to it (unless --no-promote).
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from model.learning.number_fit import NumberFitConfig
from model.learning.train_numbers import NumberTrainConfig, run


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    defaults, fit = NumberTrainConfig(), NumberFitConfig()
    parser = argparse.ArgumentParser(
        prog="python -m scripts.train_numbers", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-root", default="data", help="where MNIST is (or is downloaded to)")
    parser.add_argument("--no-download", action="store_true", help="never download MNIST")
    parser.add_argument("--models", type=Path, default=defaults.models, help="model registry directory")
    parser.add_argument("--base", default="", help="the version whose digit network to keep (default: the current one)")
    parser.add_argument("--samples", type=int, default=defaults.samples, help="numbers drawn to learn from")
    parser.add_argument("--validation", type=int, default=defaults.validation, help="numbers drawn from held-out digits, to calibrate on")
    parser.add_argument("--epochs", type=int, default=fit.epochs, help="passes over the drawn numbers")
    parser.add_argument("--limit", type=int, default=0, help="use only this many MNIST training digits (smoke runs)")
    parser.add_argument("--workers", type=int, default=defaults.workers, help="processes drawing and transforming")
    parser.add_argument("--seed", type=int, default=defaults.seed, help="which numbers are drawn; fitting's seed is --fit-seed")
    parser.add_argument("--fit-seed", type=int, default=fit.seed, help="batch order and augmentation")
    parser.add_argument("--no-promote", action="store_true", help="write the version but leave 'current' alone")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> Path:
    args = parse_args(argv)
    return run(
        NumberTrainConfig(
            models=args.models,
            base=args.base,
            data_root=args.data_root,
            download=not args.no_download,
            samples=args.samples,
            validation=args.validation,
            fit=replace(NumberFitConfig(), epochs=args.epochs, seed=args.fit_seed),
            limit=args.limit,
            workers=args.workers,
            promote=not args.no_promote,
            seed=args.seed,
        )
    )


if __name__ == "__main__":
    main()
