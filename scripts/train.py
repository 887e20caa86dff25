"""Train the digit CNN on MNIST, photo-like renders of it, drawings of non-digits and of lone strokes and rings; calibrate; register.

python -m scripts.train --data-root ../shared/data --out models
"""

from __future__ import annotations

import argparse
from pathlib import Path

from model.learning.train import TrainConfig, run


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.train", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-root", default="data", help="where MNIST is (or is downloaded to)")
    parser.add_argument("--no-download", action="store_true", help="never download MNIST")
    parser.add_argument("--out", type=Path, default=Path("models"), help="model registry directory")
    parser.add_argument("--epochs", type=int, default=9, help="passes over the data")
    parser.add_argument("--photos", type=int, default=24000, help="photo-like renders of training digits")
    parser.add_argument("--non-digits", type=int, default=4000, help="drawings of non-digits, half of them as photos")
    parser.add_argument("--plain", type=int, default=3000, help="drawings of lone strokes (1) and rings (0), half of them as photos")
    parser.add_argument("--limit", type=int, default=0, help="use only this many MNIST training digits (smoke runs)")
    parser.add_argument("--workers", type=int, default=2, help="processes rendering and transforming")
    parser.add_argument("--seed", type=int, default=0, help="batch order, augmentation and initial weights")
    parser.add_argument("--no-promote", action="store_true", help="write the version but leave 'current' alone")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> Path:
    args = parse_args(argv)
    return run(
        TrainConfig(
            out=args.out,
            data_root=args.data_root,
            download=not args.no_download,
            epochs=args.epochs,
            photos=args.photos,
            non_digits=args.non_digits,
            plain=args.plain,
            limit=args.limit,
            workers=args.workers,
            promote=not args.no_promote,
            seed=args.seed,
        )
    )


if __name__ == "__main__":
    main()
