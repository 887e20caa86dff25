"""The promotion gate: a candidate model is read against the current one on the same photos, and a
pure decision says whether it may replace it.

Reading goes the whole way a user's photo goes (``Predictor.predict``), so segmentation,
temperature, the rejection floor and "not a digit" all count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from model.data.sets import Sample
from model.judging.evaluation import Report, compare
from model.reading.predictor import Predictor


@dataclass(frozen=True)
class Comparison:
    name: str
    current: float
    candidate: float
    count: int
    strict: bool = False
    """No drop at all is allowed (real photos: every one a person took counts)."""


@dataclass(frozen=True)
class Verdict:
    promote: bool
    reasons: list[str]
    comparisons: list[Comparison]


HELD_OUT = "held-out corrections"
REAL = "real photos"

Benchmark = tuple[Iterable[Sample], int]
"""A named set's samples (drawn once) and how many there are."""


def gate(
    current: Predictor,
    candidate: Predictor,
    fixed_sets: Mapping[str, Benchmark],
    held_out: list[Sample],
    tolerance: float,
    real: list[Sample] | None = None,
) -> tuple[Verdict, dict[str, list[Report]]]:
    """Read every fixed set, the real photos (when given) and the held-out corrections (last) with
    both models, the whole way a user's photo goes (``Predictor.predict``: segmentation,
    temperature, the rejection floor and "not a digit" all count), then decide. Returns the
    reports too, for the picture."""
    reports = {name: compare([current, candidate], samples, name, total) for name, (samples, total) in fixed_sets.items()}
    if real:
        reports[REAL] = compare([current, candidate], real, REAL, len(real))
    reports[HELD_OUT] = compare([current, candidate], held_out, HELD_OUT, len(held_out))
    comparisons = [Comparison(name, now.accuracy, then.accuracy, len(now.outcomes), name == REAL) for name, (now, then) in reports.items()]
    return decide(comparisons, tolerance), reports


def decide(comparisons: list[Comparison], tolerance: float) -> Verdict:
    """Promote only if no fixed set drops by more than ``tolerance`` (a strict one not at all) and the
    held-out corrections (the last comparison) improve: a fix that costs what already worked is not a fix."""
    reasons: list[str] = []
    for c in comparisons[:-1]:
        allowed = 0.0 if c.strict else tolerance
        if c.current - c.candidate > allowed + 1e-9:  # exactly the tolerance is allowed
            reasons.append(f"{c.name}: {c.candidate:.4f} is worse than {c.current:.4f} by more than {allowed:.4f}")
    held = comparisons[-1]
    if held.count == 0:
        reasons.append("no held-out corrections to show an improvement on")
    elif not held.candidate > held.current:
        reasons.append(f"held-out corrections: {held.candidate:.4f} is not better than {held.current:.4f}")
    return Verdict(promote=not reasons, reasons=reasons, comparisons=comparisons)
