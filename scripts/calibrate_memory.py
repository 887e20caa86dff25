"""Choose the distance at which a person's memory of corrected shapes may decide a digit.

    python -m scripts.calibrate_memory --data-root ../shared/data [--model models] [--write-card]

Ordinary digits: photo-like renders of MNIST *training* digits (never a test set). Styles:
the drawn handwriting styles of ``devkit.styles`` from a calibration seed (benchmarks use
others). The chosen threshold, the rules' other parameters and the precision of memory
answers go on the model's card, where the bot reads them; without them the memory is off.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from devkit.styles import STYLES, draw
from model.data import sets
from model.data.digits import load_mnist
from model.learning.memory_calibration import calibrate
from model.reading import registry
from model.reading.memory import MemoryParams, Shape
from model.reading.predictor import Predictor

SEED = 31337
"""Calibration's own seed: no benchmark or test draws from it."""


def shapes(predictor: Predictor, photos: list[tuple[bytes | Image.Image, int]], desc: str) -> list[Shape]:
    """The one digit each photo shows, as the memory sees it; photos not read as one digit are left out."""
    out = []
    for photo, label in tqdm(photos, desc=desc, unit="img"):
        reading = predictor.predict(photo)
        if len(reading.items) == 1:
            item = reading.items[0]
            out.append(Shape(item.vector, item.probabilities, label))
    return out


def main(argv: list[str] | None = None) -> MemoryParams:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(registry.SHIPPED))
    parser.add_argument("--data-root", default="data")
    parser.add_argument("--no-download", action="store_true")
    parser.add_argument("--ordinary", type=int, default=1100, help="ordinary digits (the first 100 are remembered)")
    parser.add_argument("--per-style", type=int, default=40, help="drawings per style (the first 3 are corrected)")
    parser.add_argument("--write-card", action="store_true")
    args = parser.parse_args(argv)
    predictor = Predictor.load(args.model)
    images, labels = load_mnist(args.data_root, train=True, download=not args.no_download)
    ordinary = shapes(predictor, [(s.photo, int(s.label)) for s in sets.photos(images, labels, args.ordinary, seed=SEED)], "ordinary")
    rng = np.random.default_rng(SEED)
    styles = [
        shapes(predictor, [(draw(name, rng), int(label)) for _ in range(args.per_style)], name) for name, (label, _) in STYLES.items()
    ]
    chosen, trials = calibrate(ordinary, styles, replace(predictor.memory, threshold=0.0))
    print(f"{'threshold':>9}{'broken':>8}{'fixed':>7}{'styles right':>14}{'precision':>11}")
    for t in trials:
        print(f"{t.threshold:>9.2f}{t.broken:>8}{t.fixed:>7}{t.styles_right:>8}/{t.styles:<5}{t.precision:>11.3f}")
    print(f"chosen: {chosen} ({len(ordinary)} ordinary digits, {sum(map(len, styles))} drawings of {len(styles)} styles)")
    if args.write_card:
        weights, card_path = registry.resolve(Path(args.model))
        card = json.loads(card_path.read_text()) if card_path.exists() else {}
        card["memory"] = chosen.to_dict() | {"calibrated_on": f"{len(ordinary)} MNIST-train photos, {len(STYLES)} styles, seed {SEED}"}
        registry.write_card(weights, card)
        print(f"written to {card_path}")
    return chosen


if __name__ == "__main__":
    main()
