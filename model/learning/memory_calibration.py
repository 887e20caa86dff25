"""Choose the distance at which a person's memory of corrected shapes may decide a digit.

A trial remembers one person's ordinary digits and a few corrections of each drawn style,
and counts what that does to the digits after them; the calibration keeps the largest
threshold that breaks almost no ordinary digit. ``calibrate_model`` runs it for a model on
its own data (what ``scripts.calibrate_memory`` and every promotion run), ``calibrate`` is
the choice itself.

Ordinary digits: photo-like renders of MNIST *training* digits (never a test set). Styles:
the drawn handwriting styles of ``model.data.styles``, from a calibration seed no benchmark uses.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from PIL import Image
from tqdm import tqdm

from model.data import sets
from model.data.digits import load_mnist
from model.data.styles import STYLES, draw
from model.reading.memory import Memory, MemoryParams, Shape, recall
from model.reading.predictor import Predictor

SEED = 31337
"""Calibration's own seed: no benchmark or test draws from it."""
ORDINARY = 3100
"""Ordinary digits per calibration: the first 100 are remembered, the other 3,000 are what a
threshold may break (at most 0.1% of them, 3)."""
PER_STYLE = 40
"""Drawings per style: the first 3 are corrected, the rest read after them."""


@dataclass(frozen=True)
class Trial:
    """At one threshold: what a memory of ordinary digits did to other ordinary digits (``broken``:
    right before, wrong after), and what a few corrections of a style did to that style."""

    threshold: float
    ordinary: int
    broken: int
    fixed: int
    styles: int
    styles_right: int
    changed: int
    changed_right: int

    @property
    def precision(self) -> float:
        """Right answers among those the memory changed, by the rule of succession: (right + 1) /
        (changed + 2). Never 100% from a finite run: a memory answer is shown no surer than that."""
        return (self.changed_right + 1) / (self.changed + 2)


def trial(params: MemoryParams, ordinary: list[Shape], styles: list[list[Shape]], remembered: int = 100, corrected: int = 3) -> Trial:
    """The calibration's measure: one person's ``remembered`` ordinary digits, and for each style
    ``corrected`` drawings of it, each against the digits that come after them."""
    counts = np.zeros(6, np.int64)  # broken, fixed, styles_right, changed, changed_right, styles
    kept = ordinary[:remembered]
    plain = Memory.of(kept)
    for shape in ordinary[remembered:]:
        after = _answer(shape, plain, params)
        counts[:2] += (shape.read == shape.label and after != shape.label, shape.read != shape.label and after == shape.label)
        counts[3:5] += (after != shape.read, after != shape.read and after == shape.label)
    for drawings in styles:
        memory = Memory.of(drawings[:corrected])
        for shape in drawings[corrected:]:
            after = _answer(shape, memory, params)
            counts[2] += after == shape.label
            counts[3:6] += (after != shape.read, after != shape.read and after == shape.label, 1)
    broken, fixed, styles_right, changed, changed_right, total = (int(c) for c in counts)
    return Trial(params.threshold, len(ordinary) - remembered, broken, fixed, total, styles_right, changed, changed_right)


def calibrate(
    ordinary: list[Shape], styles: list[list[Shape]], base: MemoryParams, most_broken: float = 0.001
) -> tuple[MemoryParams, list[Trial]]:
    """The largest threshold up to which remembering ordinary digits breaks at most ``most_broken``
    of the other ordinary digits, and the precision of memory answers there. Calibrate on
    training digits and styles drawn from seeds no benchmark uses."""
    trials = [trial(replace(base, threshold=t), ordinary, styles) for t in np.round(np.arange(0.05, 0.61, 0.01), 2)]
    chosen = None
    for t in trials:  # thresholds grow: stop at the first one that breaks too much
        if t.broken > most_broken * t.ordinary:
            break
        chosen = t
    if chosen is None:
        return replace(base, threshold=0.0), trials
    return replace(base, threshold=float(chosen.threshold), precision=round(chosen.precision, 4)), trials


def shapes(predictor: Predictor, photos: list[tuple[bytes | Image.Image, int]], desc: str) -> list[Shape]:
    """The one digit each photo shows, as the memory sees it; photos not read as one digit are left out."""
    out = []
    for photo, label in tqdm(photos, desc=desc, unit="img"):
        reading = predictor.predict(photo)
        if len(reading.items) == 1:
            item = reading.items[0]
            out.append(Shape(item.vector, item.probabilities, label))
    return out


def calibrate_model(
    predictor: Predictor, data_root: str, download: bool = True, ordinary: int = ORDINARY, per_style: int = PER_STYLE
) -> tuple[MemoryParams, list[Trial], str]:
    """The memory's parameters for ``predictor`` (its ratio and seed kept), the trials, and what they were calibrated on."""
    images, labels = load_mnist(data_root, train=True, download=download)
    plain = shapes(predictor, [(s.photo, int(s.label)) for s in sets.photos(images, labels, ordinary, seed=SEED)], "ordinary")
    rng = np.random.default_rng(SEED)
    styles = [shapes(predictor, [(draw(name, rng), int(label)) for _ in range(per_style)], name) for name, (label, _) in STYLES.items()]
    chosen, trials = calibrate(plain, styles, replace(predictor.memory, threshold=0.0))
    return chosen, trials, f"{len(plain)} MNIST-train photos, {len(STYLES)} styles x {per_style}, seed {SEED}"


def _answer(shape: Shape, memory: Memory, params: MemoryParams) -> int:
    found = recall(shape.vector, memory, params)
    return found.label if found is not None else shape.read
