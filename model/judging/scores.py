"""The numbers every evaluation reports, computed one way: accuracy, per-digit accuracy, calibration error.

Training (validation figures on the card), ``scripts.evaluate`` (the README's figures) and the
promotion gate all call these, so a figure means the same wherever it is quoted.
"""

from __future__ import annotations

import itertools

import numpy as np
from numpy.typing import ArrayLike, NDArray

CALIBRATION_BINS = 10


def accuracy(predicted: ArrayLike, labels: ArrayLike) -> float:
    """Share of predictions equal to their labels; NaN for an empty set (no figure, not 0%)."""
    guess, truth = np.asarray(predicted), np.asarray(labels)
    return float((guess == truth).mean()) if len(truth) else float("nan")


def per_digit(predicted: ArrayLike, labels: ArrayLike) -> NDArray[np.float64]:
    """Accuracy for each true digit 0-9 (NaN where a digit does not occur)."""
    guess, truth = np.asarray(predicted), np.asarray(labels)
    out = np.full(10, np.nan)
    for d in range(10):
        mask = truth == d
        if mask.any():
            out[d] = float((guess[mask] == d).mean())
    return out


def edit_distance(read: str, truth: str) -> int:
    """Digits to insert, delete or change to turn ``read`` into ``truth`` (Levenshtein)."""
    row = list(range(len(truth) + 1))
    for i, a in enumerate(read, 1):
        previous, row[0] = row[:], i
        for j, b in enumerate(truth, 1):
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a != b))
    return row[-1]


def digit_accuracy(read: list[str], truth: list[str]) -> float:
    """How numbers are scored digit by digit in the field: 1 - (total edit distance) / (total digits)."""
    total = sum(len(t) for t in truth)
    return 1.0 - sum(edit_distance(r, t) for r, t in zip(read, truth, strict=True)) / total if total else float("nan")


Bins = list[tuple[float, float, int]]


def calibration_error(confidence: ArrayLike, correct: ArrayLike, bins: int = CALIBRATION_BINS) -> tuple[float, Bins]:
    """Expected calibration error (how far confidence is from accuracy, weighted by how many answers
    fall in each confidence bin) and (mean confidence, accuracy, count) per non-empty bin."""
    conf, hit = np.asarray(confidence, dtype=float), np.asarray(correct, dtype=float)
    rows: Bins = []
    error = 0.0
    for low, high in itertools.pairwise(np.linspace(0, 1, bins + 1)):
        inside = (conf > low) & (conf <= high)
        if inside.any():
            rows.append((float(conf[inside].mean()), float(hit[inside].mean()), int(inside.sum())))
            error += float(inside.mean()) * abs(float(conf[inside].mean()) - float(hit[inside].mean()))
    return error, rows
