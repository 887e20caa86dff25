"""Evaluate a model through the full photo path, beside the reference reader, and draw the pictures.

    python -m scripts.evaluate --data-root ../shared/data --out runs/eval [--write-card]
    python -m scripts.evaluate --real ../shared/data/real-dev --only real real_faint_small real_small
    python -m scripts.evaluate --numbers ../shared/data/numbers-dev --only real_numbers

Sets (``model.data.sets``): ``mnist`` (MNIST test as it is, white on black), ``photo`` (single
digits rendered as phone photos), ``turned`` (those lying on their side), ``numbers`` (3-digit numbers rendered the same way), ``written``
(numbers of 2-8 digits as ``model.data.numbers`` writes them: cheques, cells, touching digits),
``non_digits`` (drawn faces, stars, scribbles: "no digit" is right), ``scenes`` (everyday pictures
with no digit: screenshots, printed pages, clock faces, textures, objects), ``sizes`` (a digit at
5%..95% of a 400x400 frame, on white and on paper), ``tight`` (scans cut tight to the digit),
``screen`` (drawn on a flat canvas, 45-95% of it), ``strokes`` and ``rings`` (every lone stroke
a 1, every ring a 0), ``blank`` (paper with nothing on it) and, with ``--real DIR``, ``real``
(real photos, per writer) and the sets derived from it on the fly, ``real_faint_small``,
``real_small`` and ``real_turned`` (every photo a quarter turn either way); with ``--numbers DIR``,
``real_numbers`` (real handwritten numbers, per length: string accuracy, digit accuracy as 1 - edit
distance / length, the share read with the right length). Every set is read by the reference reader
too (``model.judging.reference``; for numbers, its components left to right), printed beside the
product; per writer, the writers where the product reads fewer are named.
Writes confusion matrices, misread grids and a reliability diagram, prints a table, and with
``--write-card`` stores the figures in the card. ``--readings FILE`` keeps what was read of each
photo; ``--against FILE`` counts, set by set, the photos a later run answers differently (another
build of OpenCV or ONNX Runtime must leave every answer as it was).
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from model.data import sets
from model.data.digits import load_mnist
from model.judging import readings
from model.judging.evaluation import SURE, Reader, Report, compare
from model.judging.plots import plot_calibration, plot_confusion, plot_misreads
from model.judging.reference import NAME, ReferenceReader, digit_span
from model.reading import registry
from model.reading.predictor import Predictor

REAL = ("real", *sets.DERIVED, "real_turned")
NUMBERS = ("numbers", "written", "real_numbers")
"""The sets of numbers: scored digit by digit and by length too, the reference reading every component."""
SETS = (*sets.NAMES, *REAL, "real_numbers")


def main(argv: list[str] | None = None) -> list[Report]:
    """Returns the product's reports, one per set read."""
    args = _parse(argv)
    product = Predictor.load(args.model)
    reference = Path(args.reference)
    with_reference = not args.no_reference and reference.exists()

    def readers(name: str) -> list[Reader]:
        return [product, ReferenceReader.load(reference.parent, numbers=name in NUMBERS)] if with_reference else [product]

    args.out.mkdir(parents=True, exist_ok=True)
    both = [compare(readers(name), samples, name, total) for name, samples, total in _chosen(args)]
    print(f"model {product.version}" + (f", beside the {NAME} reader" if with_reference else ""))
    print(f"{'set':<17}{'n':>6}{'accuracy':>10}{NAME:>11}{'no digit':>10}{'ECE':>8}{'sure':>7}{'sure+wrong':>12}")
    for reports in both:
        _line(reports)
    for reports in both:
        if reports[0].name in NUMBERS:
            _numbers(reports)
    for reports in both:
        _details(reports)
    ours = [reports[0] for reports in both]
    for report in ours:
        if report.has_digits:
            plot_confusion(report, args.out / f"confusion_{report.name}.png")
        plot_misreads(report, args.out / f"misread_{report.name}.png")
    plot_calibration([r for r in ours if r.has_digits], args.out / "calibration.png")
    print(f"pictures in {args.out}; 'sure' = answers at >= {SURE:.0%} confidence")
    if args.readings:
        readings.write(ours, args.readings)
    if args.against:
        _against(readings.against(ours, args.against), args.against)
    if args.write_card:
        _write_card(Path(args.model), ours)
    return ours


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.evaluate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default=str(registry.SHIPPED), help="registry directory or .safetensors file")
    parser.add_argument("--reference", default=str(registry.SHIPPED / f"{NAME}.safetensors"), help="the reference reader's weights")
    parser.add_argument("--no-reference", action="store_true", help="read with the product alone")
    parser.add_argument("--data-root", default="data", help="where MNIST is (or is downloaded to)")
    parser.add_argument("--no-download", action="store_true", help="never download MNIST")
    parser.add_argument("--out", type=Path, default=Path("runs/eval"), help="where the pictures go")
    parser.add_argument("--mnist", type=int, default=10000, help="MNIST test images to use")
    parser.add_argument("--photos", type=int, default=2000, help="photo-like single digits")
    parser.add_argument("--turned", type=int, default=1000, help="photo-like single digits lying on their side")
    parser.add_argument("--number-renders", type=int, default=300, help="photo-like 3-digit numbers")
    parser.add_argument("--written", type=int, default=500, help="numbers of 2-8 digits as model.data.numbers writes them")
    parser.add_argument("--non-digits", type=int, default=500, help="photo-like drawings that are not digits")
    parser.add_argument("--scenes", type=int, default=300, help="everyday pictures with no digit (screenshots, clocks, textures)")
    parser.add_argument("--sizes", type=int, default=100, help="digits per size step, on white and on paper each")
    parser.add_argument("--tight", type=int, default=500, help="scans cut tight to the digit")
    parser.add_argument("--screen", type=int, default=1000, help="digits drawn on a flat canvas")
    parser.add_argument("--blank", type=int, default=300, help="photos of blank paper")
    parser.add_argument("--real", type=Path, help="a folder of real photos with labels.csv (file,label[,writer])")
    parser.add_argument("--numbers", type=Path, help="a folder of real handwritten numbers with labels.csv (file,label[,source])")
    parser.add_argument("--only", nargs="+", choices=SETS, default=list(SETS), help="evaluate only these sets")
    parser.add_argument("--write-card", action="store_true", help="store the test figures in the card")
    parser.add_argument("--readings", type=Path, help="write what the product read of each photo here (JSON lines)")
    parser.add_argument("--against", type=Path, help="compare each photo's reading with a file --readings wrote (same sets and sizes)")
    return parser.parse_args(argv)


def _chosen(args: argparse.Namespace) -> Iterator[tuple[str, Iterable[sets.Sample], int]]:
    sizes = {"mnist": args.mnist, "photo": args.photos, "turned": args.turned, "numbers": args.number_renders}
    sizes |= {"written": args.written, "non_digits": args.non_digits, "scenes": args.scenes}
    sizes |= {"sizes": args.sizes, "tight": args.tight, "screen": args.screen, "blank": args.blank, "strokes": 0, "rings": 0}
    rendered = [name for name in sets.NAMES if name in args.only]
    if set(rendered) - {"non_digits", "scenes", "strokes", "rings", "blank"}:
        images, labels = load_mnist(args.data_root, train=False, download=not args.no_download)
    else:  # these need no MNIST
        images, labels = np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.int64)
    for name in rendered:
        yield name, *sets.named(name, images, labels, sizes[name])
    if args.numbers is not None and "real_numbers" in args.only:
        numbers = sets.real_numbers(args.numbers)
        yield "real_numbers", numbers, len(numbers)
    if args.real is None:
        return
    real = sets.real_photos(args.real)
    span = functools.cache(digit_span)  # each photo's digit measured once for both derived sets
    for name in REAL:
        if name in args.only:
            if name == "real_turned":
                samples = [sets.Sample(sets.turned(sample.photo, i), sample.label, sample.group) for i, sample in enumerate(real)]
            else:
                samples = real if name == "real" else sets.derived(name, real, span)
            yield name, samples, len(samples)


def _line(reports: list[Report]) -> None:
    ours = reports[0]
    theirs = f"{reports[1].accuracy:>11.4f}" if len(reports) > 1 else f"{'-':>11}"
    ece = f"{ours.calibration()[0]:>8.4f}" if ours.has_digits else f"{'-':>8}"
    line = f"{ours.name:<17}{len(ours.outcomes):>6}{ours.accuracy:>10.4f}{theirs}{ours.no_digit_rate:>10.4f}{ece}"
    print(f"{line}{ours.sure:>7}{ours.confident_misreads:>12}")


def _numbers(reports: list[Report]) -> None:
    """How numbers are measured in the field: digit by digit, and whether the length is right, beside the reference."""
    for report in reports:
        who = "product" if report is reports[0] else NAME
        print(
            f"{report.name} ({who}): {report.accuracy:.4f} of numbers read exactly, digits {report.digit_accuracy:.4f}, "
            f"right length {report.right_length:.4f}, {report.confident_misreads} wrong at >= {SURE:.0%}"
        )


def _details(reports: list[Report]) -> None:
    """Per writer or size step: every group, the mean and the worst, beside the reference; why digits got "no digit"."""
    ours = reports[0]
    groups = ours.by_group()
    if len(groups) > 1:
        print(f"{ours.name} by group: " + ", ".join(f"{g} {right}/{total}" for g, (right, total) in groups.items()))
        worst, low = ours.worst_group
        summary = f"{ours.name} groups: mean {ours.mean_group:.4f}, worst {worst} {low:.4f}"
        if len(reports) > 1:
            theirs = reports[1]
            their_worst, their_low = theirs.worst_group
            summary += f"; {NAME}: mean {theirs.mean_group:.4f}, worst {their_worst} {their_low:.4f}"
            mine, other = ours.group_accuracy(), theirs.group_accuracy()
            below = [f"{g} {mine[g]:.2f} < {other[g]:.2f}" for g in mine if mine[g] < other[g]]
            summary += "; below the reference: " + (", ".join(below) or "none")
        print(summary)
    if "turned" in ours.name:
        swaps, sure = ours.swapped()
        print(f"{ours.name}: {ours.said_turned} read turned upright; 6 and 9 swapped {swaps} times, {sure} of them surely")
    reasons = ours.no_digit_reasons()
    if reasons:
        print(f"{ours.name} 'no digit' reasons: " + "; ".join(f"{n} x {reason}" for reason, n in reasons.most_common()))


def _against(differences: list[readings.Difference], path: Path) -> None:
    print(f"against {path}: photos answered differently, and the largest change of confidence among the rest")
    for difference in differences:
        print(f"  {difference.name:<17}{difference.answers:>6} of {difference.photos:<7}{difference.confidence:>10.5f}")


def _write_card(model: Path, reports: list[Report]) -> None:
    """Adds the test figures to the card (a card without figures gets them), written atomically."""

    def add(card: dict[str, Any]) -> None:
        metrics = card.setdefault("metrics", {})
        for report in reports:
            metrics[f"test_{report.name}_accuracy"] = round(report.accuracy, 5)
            metrics[f"test_{report.name}_count"] = len(report.outcomes)
            if report.has_digits:
                metrics[f"test_{report.name}_ece"] = round(report.calibration()[0], 5)
            if len(report.by_group()) > 1 and report.name in REAL:
                metrics[f"test_{report.name}_writer_mean"] = round(report.mean_group, 5)
                metrics[f"test_{report.name}_writer_worst"] = round(report.worst_group[1], 5)
                metrics[f"test_{report.name}_sure_wrong"] = report.confident_misreads
            if report.name in NUMBERS:
                metrics[f"test_{report.name}_digit_accuracy"] = round(report.digit_accuracy, 5)
                metrics[f"test_{report.name}_right_length"] = round(report.right_length, 5)
                metrics[f"test_{report.name}_sure_wrong"] = report.confident_misreads

    registry.update_card(model, add)


if __name__ == "__main__":
    main()
