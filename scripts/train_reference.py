"""Train the reference reader (evaluation only; it never answers users) in a few minutes.

python -m scripts.train_reference --data-root ../shared/data --out models
"""

from __future__ import annotations

import argparse
from pathlib import Path

from model.learning.reference import ReferenceConfig, run


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.train_reference", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-root", default="data", help="where MNIST is (or is downloaded to)")
    parser.add_argument("--no-download", action="store_true", help="never download MNIST")
    parser.add_argument("--out", type=Path, default=Path("models"), help="where models/reference.safetensors goes")
    parser.add_argument("--epochs", type=int, default=3, help="passes over the data")
    parser.add_argument("--limit", type=int, default=0, help="use only this many MNIST training digits (smoke runs)")
    parser.add_argument("--seed", type=int, default=0, help="batch order, augmentation and initial weights")
    args = parser.parse_args(argv)
    config = ReferenceConfig(args.out, args.data_root, not args.no_download, args.epochs, args.limit, args.seed)
    return run(config)


if __name__ == "__main__":
    main()
