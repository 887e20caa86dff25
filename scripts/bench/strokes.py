"""``strokes``: ink a person sees is ink the network sees: stroke recall and precision of the
transform per kind of render (README's table), with ``model.judging.strokes``."""

from __future__ import annotations

import argparse

from model.judging.strokes import score_kinds
from model.reading.transform import DigitTransform
from scripts.bench.common import mnist_test


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("strokes", help="stroke recall and precision of the transform per kind of render")
    parser.add_argument("--data-root", default="data", help="where MNIST is (or is downloaded to)")
    parser.add_argument("--no-download", action="store_true", help="never download MNIST")
    parser.add_argument("--digits", type=int, default=60, help="MNIST test digits rendered per kind (the first ones)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    images, _ = mnist_test(args)
    print(f"strokes: {args.digits} MNIST test digits per kind of render; recall: true stroke pixels kept; precision: kept on a stroke")
    for score in score_kinds(DigitTransform(), images[: args.digits]):
        print(f"  {score.kind:42s} recall {score.recall:.3f}  precision {score.precision:.3f}")
