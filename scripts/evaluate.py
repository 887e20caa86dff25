"""Evaluate a model through the full photo path and draw the pictures.

    python -m scripts.evaluate --data-root ../shared/data --out runs/eval [--write-card]

Sets: ``mnist`` (the MNIST test images as they are, white on black), ``photo`` (single
digits rendered as phone photos from MNIST test digits, fixed seed) and ``numbers``
(3-digit numbers rendered the same way) and ``non_digits`` (drawn faces, stars,
scribbles... rendered the same way, where "no digit" is the right answer). Writes
confusion matrices, misread grids and a calibration plot, prints a table, and with
``--write-card`` stores the figures in the card.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from PIL import Image

from model import registry
from model.data import load_mnist, non_digit_test_set, photo_test_set
from model.evaluation import Report, evaluate, plot_calibration, plot_confusion, plot_misreads
from model.predictor import Predictor


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
    parser.add_argument("--write-card", action="store_true", help="store the test figures in the model card")
    args = parser.parse_args(argv)
    predictor = Predictor.load(args.model)
    images, labels = load_mnist(args.data_root, train=False, download=not args.no_download)
    args.out.mkdir(parents=True, exist_ok=True)
    n = min(args.mnist, len(images))
    mnist = ((Image.fromarray(images[i], mode="L"), str(labels[i])) for i in range(n))
    reports = [
        evaluate(predictor, mnist, "mnist", total=n),
        evaluate(predictor, photo_test_set(images, labels, args.photos), "photo", total=args.photos),
        evaluate(predictor, photo_test_set(images, labels, args.numbers, digits=3), "numbers", total=args.numbers),
        evaluate(predictor, non_digit_test_set(args.non_digits), "non_digits", total=args.non_digits),
    ]
    print(f"model {predictor.version}")
    print(f"{'set':<10}{'n':>7}{'accuracy':>10}{'no digit':>10}{'ECE':>8}")
    for report in reports:
        ece = f"{report.calibration()[0]:>8.4f}" if report.has_digits else f"{'-':>8}"
        print(f"{report.name:<10}{len(report.outcomes):>7}{report.accuracy:>10.4f}{report.no_digit_rate:>10.4f}{ece}")
        if report.has_digits:
            plot_confusion(report, args.out / f"confusion_{report.name}.png")
        plot_misreads(report, args.out / f"misread_{report.name}.png")
    plot_calibration([r for r in reports if r.has_digits], args.out / "calibration.png")
    print(f"pictures in {args.out}")
    if args.write_card:
        _, card_path = registry.resolve(Path(args.model))
        card = json.loads(card_path.read_text())
        for report in reports:
            card["metrics"][f"test_{report.name}_accuracy"] = round(report.accuracy, 5)
            card["metrics"][f"test_{report.name}_count"] = len(report.outcomes)
            if report.has_digits:
                card["metrics"][f"test_{report.name}_ece"] = round(report.calibration()[0], 5)
        card_path.write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    return reports


if __name__ == "__main__":
    main()
