"""Evaluate a model through the full photo path and draw the pictures.

    python -m scripts.evaluate --data-root ../shared/data --out runs/eval [--write-card]
    python -m scripts.evaluate --real ../shared/data/real-dev --only real

Sets (``model.data.sets``): ``mnist`` (MNIST test as it is, white on black), ``photo`` (single
digits rendered as phone photos), ``numbers`` (3-digit numbers rendered the same way),
``non_digits`` (drawn faces, stars, scribbles: "no digit" is right), ``sizes`` (a digit at
5%..95% of a 400x400 frame, on white and on paper), ``tight`` (scans cut tight to the
digit) and, with ``--real DIR``, ``real`` (real photos, per writer). Writes confusion
matrices, misread grids and a calibration plot, prints a table, and with
``--write-card`` stores the figures in the card.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from model.data import sets
from model.data.digits import load_mnist
from model.judging.evaluation import SURE, Report, evaluate
from model.judging.plots import plot_calibration, plot_confusion, plot_misreads
from model.reading import registry
from model.reading.predictor import Predictor

SETS = ("mnist", "photo", "numbers", "non_digits", "sizes", "tight", "real")


def main(argv: list[str] | None = None) -> list[Report]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(registry.SHIPPED))
    parser.add_argument("--data-root", default="data")
    parser.add_argument("--no-download", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("runs/eval"))
    parser.add_argument("--mnist", type=int, default=10000, help="MNIST test images to use")
    parser.add_argument("--photos", type=int, default=2000, help="photo-like single digits")
    parser.add_argument("--numbers", type=int, default=300, help="photo-like 3-digit numbers")
    parser.add_argument("--non-digits", type=int, default=500, help="photo-like drawings that are not digits")
    parser.add_argument("--sizes", type=int, default=100, help="digits per size step, on white and on paper each")
    parser.add_argument("--tight", type=int, default=500, help="scans cut tight to the digit")
    parser.add_argument("--real", type=Path, help="a folder of real photos with labels.csv (file,label[,writer])")
    parser.add_argument("--only", nargs="+", choices=SETS, default=list(SETS), help="evaluate only these sets")
    parser.add_argument("--write-card", action="store_true", help="store the test figures in the model card")
    args = parser.parse_args(argv)
    predictor = Predictor.load(args.model)
    args.out.mkdir(parents=True, exist_ok=True)
    reports = [evaluate(predictor, samples, name, total) for name, samples, total in _chosen(args)]
    print(f"model {predictor.version}")
    print(f"{'set':<11}{'n':>6}{'accuracy':>10}{'no digit':>10}{'ECE':>8}{'sure':>7}{'sure+wrong':>12}")
    for report in reports:
        ece = f"{report.calibration()[0]:>8.4f}" if report.has_digits else f"{'-':>8}"
        line = f"{report.name:<11}{len(report.outcomes):>6}{report.accuracy:>10.4f}{report.no_digit_rate:>10.4f}{ece}"
        print(f"{line}{report.sure:>7}{report.confident_misreads:>12}")
        if report.has_digits:
            plot_confusion(report, args.out / f"confusion_{report.name}.png")
        plot_misreads(report, args.out / f"misread_{report.name}.png")
    for report in reports:
        _details(report)
    plot_calibration([r for r in reports if r.has_digits], args.out / "calibration.png")
    print(f"pictures in {args.out}; 'sure' = answers at >= {SURE:.0%} confidence")
    if args.write_card:
        _write_card(Path(args.model), reports)
    return reports


def _chosen(args: argparse.Namespace) -> Iterator[tuple[str, Iterable[sets.Sample], int]]:
    sizes = {"mnist": args.mnist, "photo": args.photos, "numbers": args.numbers, "non_digits": args.non_digits}
    sizes |= {"sizes": args.sizes, "tight": args.tight}
    rendered = [name for name in sets.NAMES if name in args.only]
    if set(rendered) - {"non_digits"}:
        images, labels = load_mnist(args.data_root, train=False, download=not args.no_download)
    else:  # non-digits need no MNIST
        images, labels = np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.int64)
    for name in rendered:
        yield name, *sets.named(name, images, labels, sizes[name])
    if "real" in args.only and args.real is not None:
        real = sets.real_photos(args.real)
        yield "real", real, len(real)


def _details(report: Report) -> None:
    """Per writer or size step, and why digits that were there got "no digit"."""
    groups = report.by_group()
    if len(groups) > 1:
        print(f"{report.name} by group: " + ", ".join(f"{g} {right}/{total}" for g, (right, total) in groups.items()))
    reasons = report.no_digit_reasons()
    if reasons:
        print(f"{report.name} 'no digit' reasons: " + "; ".join(f"{n} x {reason}" for reason, n in reasons.most_common()))


def _write_card(model: Path, reports: list[Report]) -> None:
    """Adds the test figures to the card (a card without figures gets them), written atomically."""
    weights, card_path = registry.resolve(model)
    card = json.loads(card_path.read_text()) if card_path.exists() else {}
    metrics = card.setdefault("metrics", {})
    for report in reports:
        metrics[f"test_{report.name}_accuracy"] = round(report.accuracy, 5)
        metrics[f"test_{report.name}_count"] = len(report.outcomes)
        if report.has_digits:
            metrics[f"test_{report.name}_ece"] = round(report.calibration()[0], 5)
    registry.write_card(weights, card)


if __name__ == "__main__":
    main()
