"""Score a predictor on labelled photos, and draw what a person wants to look at.

Every evaluation goes through ``Predictor.predict`` — the whole path a user's photo
takes — so a segmentation mistake counts as a misread, as it would for a user.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from tqdm import tqdm

from model.predictor import Predictor, Reading


@dataclass
class Outcome:
    label: str
    reading: Reading
    photo: Image.Image

    @property
    def correct(self) -> bool:
        return self.reading.digits == self.label


@dataclass
class Report:
    name: str
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return float(np.mean([o.correct for o in self.outcomes])) if self.outcomes else float("nan")

    @property
    def has_digits(self) -> bool:
        """False for a set of non-digits, where confusion and calibration mean nothing."""
        return any(o.label for o in self.outcomes)

    @property
    def no_digit_rate(self) -> float:
        return float(np.mean([not o.reading.digits for o in self.outcomes])) if self.outcomes else float("nan")

    def calibration(self, bins: int = 10) -> tuple[float, list[tuple[float, float, int]]]:
        """Expected calibration error of whole readings, and (confidence, accuracy, count) per bin."""
        conf = np.array([o.reading.confidence for o in self.outcomes])
        hit = np.array([o.correct for o in self.outcomes], dtype=float)
        edges = np.linspace(0, 1, bins + 1)
        rows: list[tuple[float, float, int]] = []
        error = 0.0
        for low, high in itertools.pairwise(edges):
            inside = (conf > low) & (conf <= high)
            if inside.any():
                rows.append((float(conf[inside].mean()), float(hit[inside].mean()), int(inside.sum())))
                error += inside.mean() * abs(conf[inside].mean() - hit[inside].mean())
        return float(error), rows


def evaluate(
    predictor: Predictor, samples: Iterable[tuple[Image.Image, str]], name: str, total: int | None = None, keep_photos: bool = False
) -> Report:
    report = Report(name)
    for photo, label in tqdm(samples, total=total, desc=name, unit="img"):
        reading = predictor.predict(photo)
        kept = photo if keep_photos or reading.digits != label else Image.new("L", (1, 1))
        report.outcomes.append(Outcome(label, reading, kept))
    return report


def confusion(report: Report) -> np.ndarray:
    """Rows: true digit; columns: read digit 0-9, then 'no digit', then 'several'."""
    matrix = np.zeros((10, 12), dtype=int)
    for o in report.outcomes:
        if len(o.label) != 1:
            continue
        read = o.reading.digits
        column = int(read) if len(read) == 1 else (10 if not read else 11)
        matrix[int(o.label), column] += 1
    return matrix


def pyplot() -> Any:
    """matplotlib's pyplot drawing to files only (no screen here), imported when a picture is asked for."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_confusion(report: Report, path: Path) -> None:
    plt = pyplot()
    matrix = confusion(report)
    fig, ax = plt.subplots(figsize=(8, 6.5))
    shown = np.log1p(matrix)
    ax.imshow(shown, cmap="Blues")
    for (r, c), v in np.ndenumerate(matrix):
        if v:
            ax.text(c, r, str(v), ha="center", va="center", fontsize=7, color="white" if shown[r, c] > shown.max() / 2 else "black")
    ax.set_xticks(range(12), [*map(str, range(10)), "none", "many"])
    ax.set_yticks(range(10))
    ax.set_xlabel("read as")
    ax.set_ylabel("true digit")
    ax.set_title(f"{report.name}: accuracy {report.accuracy:.2%} on {len(report.outcomes)}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_misreads(report: Report, path: Path, limit: int = 48) -> None:
    """A grid: the photo, then what the model saw (its 28x28 inputs), with truth and guess."""
    plt = pyplot()
    wrong = [o for o in report.outcomes if not o.correct][:limit]
    wrong_count = len(wrong)
    cols = 8
    rows = max(1, (wrong_count + cols - 1) // cols)
    fig, axes = plt.subplots(rows * 2, cols, figsize=(cols * 1.6, rows * 3.4))
    for ax in np.ravel(axes):
        ax.axis("off")
    for i, outcome in enumerate(wrong):
        r, c = divmod(i, cols)
        top, bottom = axes[2 * r][c], axes[2 * r + 1][c]
        top.imshow(outcome.photo.convert("RGB"))
        seen = [item.pixels for item in outcome.reading.items] or [np.zeros((28, 28), np.float32)]
        bottom.imshow(np.concatenate(seen, axis=1), cmap="gray", vmin=0, vmax=1)
        guess = outcome.reading.digits or "none"
        bottom.set_title(f"{outcome.label} -> {guess} ({outcome.reading.confidence:.0%})", fontsize=8)
    fig.suptitle(f"{report.name}: {wrong_count} misread shown (photo above, model input below)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_calibration(reports: list[Report], path: Path) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect")
    for report in reports:
        ece, rows = report.calibration()
        if rows:
            ax.plot([r[0] for r in rows], [r[1] for r in rows], "o-", label=f"{report.name} (ECE {ece:.3f})")
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.set_title("Reliability of the reported confidence")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
