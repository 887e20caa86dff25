"""A strip of writing read as a sequence: which digits, where each one lies, how sure the whole is.

The network gives every four pixels of the strip a probability of each digit and of "no new
digit here" (CTC's blank). A string's probability is what CTC gives it, summed over every way of
lining it up with the columns, with the logits softened by a temperature fitted on held-out
renders: it counts a digit too many or too few as much as a digit misread.

The strip is read three times, as it is and squeezed and stretched along its width (a hand
writes a digit narrow or wide): each reading's best path (the most probable class per column,
repeats and blanks dropped) is a candidate, and the candidate the three readings give the
highest mean probability is the answer, that mean its confidence. Readings that disagree make
an unsure answer, as the digit network's two views do. A digit lies around the columns that
read it, and its boundaries with its neighbours fall in the emptiest column between them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from model.reading.graphs import Batch, Logits, log_softmax

BLANK = 10
"""CTC's "no new digit in this column" class; 0-9 are the digits."""
CLASSES = 11
STRIDE = 4
"""Strip pixels per output column."""


@dataclass(frozen=True)
class StripDigit:
    """One digit of a strip's reading."""

    digit: int
    probabilities: NDArray[np.float32]
    """Over 0-9, where the network was surest of this digit (its other readings there, renormalized)."""
    span: tuple[int, int]
    """The strip's pixel columns it occupies, first and one past the last."""


@dataclass(frozen=True)
class StripReading:
    digits: tuple[StripDigit, ...]
    confidence: float
    """The probability of the whole string; 0 when no digit was read."""

    @property
    def text(self) -> str:
        return "".join(str(d.digit) for d in self.digits)


class NumberReader:
    """The number network (as a function of normalized strips) with its temperature and input scale:
    strips in, readings out."""

    def __init__(self, network: Logits, temperature: float, mean: float, std: float) -> None:
        self.network = network
        self.temperature = temperature
        self.mean, self.std = mean, std

    @classmethod
    def from_card(cls, network: Logits, card: dict[str, Any]) -> NumberReader:
        """The reader a model card's ``numbers`` section describes, over its network."""
        return cls(network, float(card["temperature"]), float(card["mean"]), float(card["std"]))

    def card(self) -> dict[str, Any]:
        """What :meth:`from_card` needs beside the network, for the model card."""
        return {"temperature": self.temperature, "mean": self.mean, "std": self.std}

    def normalize(self, pixels: Batch) -> Batch:
        normalized: Batch = (pixels - np.float32(self.mean)) / np.float32(self.std)
        return normalized

    def log_probabilities(self, strips: list[NDArray[np.float32]]) -> tuple[Batch, list[int]]:
        """Per-column log-probabilities for strips of one height, padded with paper to the widest;
        each strip's own column count."""
        widest = max(s.shape[1] for s in strips)
        widest += -widest % STRIDE
        batch = np.zeros((len(strips), 1, strips[0].shape[0], widest), np.float32)
        for i, strip in enumerate(strips):
            batch[i, 0, :, : strip.shape[1]] = strip
        logits = self.network(self.normalize(batch))
        return log_softmax(logits / np.float32(self.temperature)), [-(-s.shape[1] // STRIDE) for s in strips]

    def read(self, strip: NDArray[np.float32]) -> StripReading:
        variants = [widened(strip, factor) for factor in WIDTHS]
        log_probs, lengths = self.log_probabilities(variants)
        return consensus(variants, [log_probs[k, : lengths[k]] for k in range(len(variants))])


WIDTHS = (1.0, 0.8, 1.25)
"""The strip's width is read as it is, and multiplied by each of the others."""
BEAMS = 4
"""Each reading offers its best path and this many of its likeliest strings (CTC's prefix search)."""


def widened(strip: NDArray[np.float32], factor: float) -> NDArray[np.float32]:
    """The strip's width multiplied by ``factor`` (area filter when it shrinks)."""
    if factor == 1.0:
        return strip
    width = max(STRIDE, round(strip.shape[1] * factor))
    interpolation = cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR
    return np.asarray(cv2.resize(strip, (width, strip.shape[0]), interpolation=interpolation), dtype=np.float32)


def candidates(log_probs: list[Batch], beams: int = BEAMS) -> list[tuple[int, ...]]:
    """Every reading's best path and likeliest strings, each string once."""
    found = [tuple(digit for digit, _, _ in best_path(each)) for each in log_probs]
    return list(dict.fromkeys(found + [c for each in log_probs for c in prefix_search(each, beams)]))


def probabilities(log_probs: list[Batch], strings: list[tuple[int, ...]]) -> NDArray[np.float64]:
    """CTC's probability of each string (rows) under each reading (columns), all pairs at once."""
    pairs = [(strings[s], log_probs[k]) for s in range(len(strings)) for k in range(len(log_probs))]
    return ctc_probabilities(pairs).reshape(len(strings), len(log_probs))


def ctc_probabilities(pairs: list[tuple[tuple[int, ...], Batch]]) -> NDArray[np.float64]:
    """CTC's probability of each string under its strip's log-probabilities (columns, classes): the
    sum over every alignment, by the forward recursion over the string with blanks between its
    digits, in log space, every pair a row of one array."""
    states = max(2 * len(string) + 1 for string, _ in pairs)
    columns = max(each.shape[0] for _, each in pairs)
    labels = np.full((len(pairs), states), BLANK, np.int64)
    valid = np.zeros((len(pairs), states), bool)
    scores = np.full((len(pairs), columns, states), -np.inf)
    for p, (string, each) in enumerate(pairs):
        labels[p, 1 : 2 * len(string) : 2] = string
        valid[p, : 2 * len(string) + 1] = True
        scores[p, : each.shape[0]] = each.astype(np.float64)[:, labels[p]]
    scores[~np.broadcast_to(valid[:, None, :], scores.shape)] = -np.inf
    skip = np.zeros_like(valid)
    skip[:, 2:] = (labels[:, 2:] != BLANK) & (labels[:, 2:] != labels[:, :-2])
    lengths = np.array([each.shape[0] for _, each in pairs])
    alpha = np.full((len(pairs), states), -np.inf)
    alpha[:, :2] = scores[:, 0, :2]
    for t in range(1, columns):
        step = alpha.copy()
        step[:, 1:] = np.logaddexp(step[:, 1:], alpha[:, :-1])
        step[:, 2:] = np.where(skip[:, 2:], np.logaddexp(step[:, 2:], alpha[:, :-2]), step[:, 2:])
        alpha = np.where((t < lengths)[:, None], step + scores[:, t], alpha)
    last = np.array([2 * len(string) for string, _ in pairs])
    rows = np.arange(len(pairs))
    ends = np.logaddexp(alpha[rows, last], np.where(last > 0, alpha[rows, np.maximum(last - 1, 0)], -np.inf))
    chances: NDArray[np.float64] = np.exp(ends)
    return chances


def consensus(variants: list[NDArray[np.float32]], log_probs: list[Batch], found: list[tuple[int, ...]] | None = None) -> StripReading:
    """The candidate (``found``, else the likeliest strings of each variant) with the highest mean
    probability over the variants, placed on the first variant (the strip as it is) through the
    variant that gives it the highest probability."""
    strings = found if found is not None else candidates(log_probs)
    scores = probabilities(log_probs, strings)
    best = int(np.argmax(scores.mean(axis=1)))
    if not strings[best]:
        return StripReading((), 0.0)
    k = int(np.argmax(scores[best]))
    path = best_path(log_probs[k])
    if tuple(digit for digit, _, _ in path) != strings[best]:
        path = aligned(log_probs[k], list(strings[best]))
    scale = variants[0].shape[1] / variants[k].shape[1]
    digits = tuple(
        StripDigit(d.digit, d.probabilities, (round(d.span[0] * scale), max(round(d.span[0] * scale) + 1, round(d.span[1] * scale))))
        for d in place(log_probs[k], path, variants[k])
    )
    return StripReading(digits, float(scores[best].mean()))


def prefix_search(log_probs: Batch, beams: int, floor: float = 1e-3) -> list[tuple[int, ...]]:
    """The likeliest strings of one strip, by CTC's prefix beam search (classes under ``floor`` in a
    column are not followed there); best first."""
    probs = np.exp(log_probs)
    kept: dict[tuple[int, ...], tuple[float, float]] = {(): (1.0, 0.0)}  # prefix: (ends in blank, ends in its digit)
    for column in probs:
        grown: dict[tuple[int, ...], list[float]] = {}
        digits = [int(c) for c in np.flatnonzero(column[:BLANK] > floor)]
        for prefix, (blank, last) in kept.items():
            grown.setdefault(prefix, [0.0, 0.0])[0] += (blank + last) * column[BLANK]
            for digit in digits:
                longer = grown.setdefault((*prefix, digit), [0.0, 0.0])
                if prefix and prefix[-1] == digit:
                    grown[prefix][1] += last * column[digit]
                    longer[1] += blank * column[digit]
                else:
                    longer[1] += (blank + last) * column[digit]
        ranked = sorted(grown.items(), key=lambda item: -(item[1][0] + item[1][1]))[:beams]
        top = max(sum(p) for _, p in ranked) or 1.0
        kept = {prefix: (p[0] / top, p[1] / top) for prefix, p in ranked}
    return list(kept)


def aligned(log_probs: Batch, digits: list[int]) -> list[tuple[int, int, int]]:
    """Where each of ``digits`` lies in the columns, by the most probable CTC alignment (Viterbi), as
    (digit, first column, one past its last)."""
    labels = [BLANK]
    for digit in digits:
        labels += [digit, BLANK]
    scores = log_probs[:, labels]
    columns, states = scores.shape
    best = np.full((columns, states), -np.inf)
    back = np.zeros((columns, states), np.int64)
    best[0, :2] = scores[0, :2]
    for t in range(1, columns):
        for s in range(states):
            steps = [s, s - 1] + ([s - 2] if s >= 2 and labels[s] != BLANK and labels[s] != labels[s - 2] else [])
            origin = max((q for q in steps if q >= 0), key=lambda q: best[t - 1, q])
            best[t, s], back[t, s] = best[t - 1, origin] + scores[t, s], origin
    state = states - 1 if states == 1 or best[-1, -1] >= best[-1, -2] else states - 2
    runs: dict[int, list[int]] = {}
    for t in range(columns - 1, -1, -1):
        if labels[state] != BLANK:
            runs.setdefault(state, []).append(t)
        state = int(back[t, state])
    return [(labels[s], min(runs[s]), max(runs[s]) + 1) for s in sorted(runs)]


def best_path(log_probs: Batch) -> list[tuple[int, int, int]]:
    """CTC's best path as (digit, first column, one past its last column), repeats and blanks dropped."""
    classes = log_probs.argmax(-1).tolist()
    runs: list[tuple[int, int, int]] = []
    previous = BLANK
    for column, cls in enumerate(classes):
        if cls != BLANK and cls == previous:
            digit, first, _ = runs[-1]
            runs[-1] = (digit, first, column + 1)
        elif cls != BLANK:
            runs.append((cls, column, column + 1))
        previous = cls
    return runs


def string_probability(log_probs: Batch, digits: list[int]) -> float:
    """CTC's probability of ``digits`` given one strip's log-probabilities (columns, classes)."""
    return float(ctc_probabilities([(tuple(digits), log_probs)])[0])


def place(log_probs: Batch, path: list[tuple[int, int, int]], strip: NDArray[np.float32]) -> list[StripDigit]:
    """Each digit of a best path placed on its strip, with its probabilities where the network was surest of it."""
    probs = np.exp(log_probs)
    peaks = [first + int(probs[first:end, digit].argmax()) for digit, first, end in path]
    bounds = _boundaries([STRIDE * peak + STRIDE // 2 for peak in peaks], strip)
    digits = []
    for (digit, _, _), peak, left, right in zip(path, peaks, bounds[:-1], bounds[1:], strict=True):
        over_digits = probs[peak, :BLANK]
        digits.append(StripDigit(digit, (over_digits / over_digits.sum()).astype(np.float32), (left, right)))
    return digits


def _boundaries(centres: list[int], strip: NDArray[np.float32]) -> list[int]:
    """Where each digit ends and the next begins: the column with the least ink in the middle half
    between their centres; the first digit starts and the last ends where the ink does."""
    ink = strip.sum(axis=0)
    columns = np.flatnonzero(ink > 0)
    start, end = (int(columns[0]), int(columns[-1]) + 1) if len(columns) else (0, strip.shape[1])
    cuts = [min(start, centres[0])]
    for left, right in itertools.pairwise(centres):
        low, high = left + (right - left) // 4, max(left + (right - left) // 4 + 1, right - (right - left) // 4)
        cuts.append(low + int(np.argmin(ink[low:high])))
    cuts.append(max(end, centres[-1] + 1))
    return cuts
