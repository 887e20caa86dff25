"""Score a predictor on labelled photos, and draw what a person wants to look at.

Every evaluation goes through ``Predictor.predict`` — the whole path a user's photo
takes — so a segmentation mistake counts as a misread, as it would for a user.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import torch
from numpy.typing import NDArray
from PIL import Image
from tqdm import tqdm

from model.data.sets import Sample
from model.judging import scores
from model.judging.scores import CALIBRATION_BINS, calibration_error
from model.reading.predictor import Reading

SURE = 0.8
"""An answer given with at least this confidence is "sure": a wrong one costs the most trust."""


@dataclass
class Outcome:
    label: str
    reading: Reading
    photo: Image.Image
    group: str = ""

    @property
    def correct(self) -> bool:
        return self.reading.number == self.label

    @property
    def confident_misread(self) -> bool:
        return not self.correct and self.reading.confidence >= SURE


@dataclass
class Report:
    name: str
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return scores.accuracy([o.reading.number for o in self.outcomes], [o.label for o in self.outcomes])

    @property
    def digit_accuracy(self) -> float:
        """1 - edit distance / length, over all samples: a number with one digit wrong still counts most of its digits."""
        return scores.digit_accuracy([o.reading.number for o in self.outcomes], [o.label for o in self.outcomes])

    @property
    def right_length(self) -> float:
        """The share of samples read with as many digits as they have."""
        return float(np.mean([len(o.reading.number) == len(o.label) for o in self.outcomes])) if self.outcomes else float("nan")

    def per_digit(self) -> NDArray[np.float64]:
        """Accuracy per true digit over the one-digit samples; a reading of several digits or none counts as wrong."""
        single = [o for o in self.outcomes if len(o.label) == 1]
        read = [int(o.reading.number) if len(o.reading.number) == 1 else -1 for o in single]
        return scores.per_digit(read, [int(o.label) for o in single])

    @property
    def has_digits(self) -> bool:
        """False for a set of non-digits, where confusion and calibration mean nothing."""
        return any(o.label for o in self.outcomes)

    @property
    def no_digit_rate(self) -> float:
        return float(np.mean([not o.reading.number for o in self.outcomes])) if self.outcomes else float("nan")

    @property
    def sure(self) -> int:
        """Answers given with at least :data:`SURE` confidence."""
        return sum(o.reading.confidence >= SURE for o in self.outcomes)

    @property
    def confident_misreads(self) -> int:
        return sum(o.confident_misread for o in self.outcomes)

    @property
    def said_turned(self) -> int:
        """Answers read turned upright (the photo lay on its side)."""
        return sum(o.reading.turned for o in self.outcomes)

    def swapped(self, first: str = "6", second: str = "9") -> tuple[int, int]:
        """How often one of two digits was answered as the other, and how often surely: a 6 and a 9
        are one shape turned, and a turn must never swap them."""
        pairs = {(first, second), (second, first)}
        swaps = [o for o in self.outcomes if (o.label, o.reading.number) in pairs]
        return len(swaps), sum(o.reading.confidence >= SURE for o in swaps)

    def by_group(self) -> dict[str, tuple[int, int]]:
        """(correct, total) per writer or size step, in first-seen order."""
        table: dict[str, tuple[int, int]] = {}
        for o in self.outcomes:
            right, total = table.get(o.group, (0, 0))
            table[o.group] = (right + o.correct, total + 1)
        return table

    def group_accuracy(self) -> dict[str, float]:
        return {group: right / total for group, (right, total) in self.by_group().items()}

    @property
    def mean_group(self) -> float:
        """Accuracy averaged over writers (or size steps): each writer counts once, however many photos."""
        accuracies = list(self.group_accuracy().values())
        return float(np.mean(accuracies)) if accuracies else float("nan")

    @property
    def worst_group(self) -> tuple[str, float]:
        return min(self.group_accuracy().items(), key=lambda pair: pair[1], default=("", float("nan")))

    def no_digit_reasons(self) -> Counter[str]:
        """Why digits that were there got "no digit": which stage gave up, and how often."""
        return Counter(o.reading.reason or "" for o in self.outcomes if o.label and not o.reading.number)

    def calibration(self, bins: int = CALIBRATION_BINS) -> tuple[float, list[tuple[float, float, int]]]:
        """Expected calibration error of whole readings, and (confidence, accuracy, count) per bin."""
        return calibration_error([o.reading.confidence for o in self.outcomes], [o.correct for o in self.outcomes], bins)


class Reader(Protocol):
    """What evaluation reads with: the product's ``Predictor`` or the reference reader."""

    version: str

    def predict(self, image: bytes | Image.Image) -> Reading: ...


def evaluate(predictor: Reader, samples: Iterable[Sample], name: str, total: int | None = None) -> Report:
    """Read every sample through ``Predictor.predict``; photos are kept only where misread, for the grid."""
    return compare([predictor], samples, name, total)[0]


def compare(predictors: Sequence[Reader], samples: Iterable[Sample], name: str, total: int | None = None) -> list[Report]:
    """One report per predictor on the same samples, drawn once (the promotion gate's two models).

    Read on one torch thread, as the bot reads: one photo's small networks run several times faster
    on one thread than on two that the machine's other work keeps waiting (the number reader's
    recurrent layer most)."""
    reports = [Report(name) for _ in predictors]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for sample in tqdm(samples, total=total, desc=name, unit="img"):
            for predictor, report in zip(predictors, reports, strict=True):
                reading = predictor.predict(sample.photo)
                kept = _as_image(sample.photo) if reading.number != sample.label else Image.new("L", (1, 1))
                report.outcomes.append(Outcome(sample.label, reading, kept, sample.group))
    finally:
        torch.set_num_threads(threads)
    return reports


def _as_image(photo: Image.Image | bytes) -> Image.Image:
    if isinstance(photo, Image.Image):
        return photo
    image = Image.open(io.BytesIO(photo))
    image.thumbnail((320, 320))
    return image
