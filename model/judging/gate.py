"""The promotion gate: a candidate model is read against the current one on the same photos, and a
pure decision says whether it may replace it.

Reading goes the whole way a user's photo goes (``Predictor.predict``), so segmentation,
temperature, the rejection floor and "not a digit" all count.

Both models read the same photos, so what tells them apart is the photos one reads right and the
other wrong: ``lost`` (the current model right, the candidate wrong) and ``gained``. Under "no real
difference" each such photo is as likely lost as gained, so ``lost`` of ``lost + gained`` is a fair
coin's count: the exact one-sided McNemar test. A fixed set is refused when its losses are beyond
what chance explains at :data:`ALPHA`, or when its net loss is beyond a practical :data:`MARGINS`
(a drop that large is not worth a fix, whatever chance says). The held-out corrections must gain
beyond chance at :data:`ALPHA`. Real photos given by the operator are strict: no more lost than
gained.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from model.data.sets import Sample
from model.judging.evaluation import Report, compare
from model.reading.predictor import Predictor

ALPHA = 0.01
"""One-sided level of each set's test. Four or five sets are tested per run, so a candidate no
different from the current model is refused by chance in at most about 5% of runs (the exact test
is conservative: ``power(..., drop=0)`` is 0.2-2% per set at the churn below)."""
MARGINS = {"mnist": 0.003, "photo": 0.006, "non_digits": 0.008, "written": 0.015}
"""Largest net loss (lost - gained, as a share of the set) allowed whatever the test says. One
retraining run with the defaults (``scripts.bench retrain``, 2026-12-07) changed, each way, about
0.1% of MNIST, 0.6% of the photo-like set, 0.85% of the non-digits and none of the drawn numbers;
each margin is three to four times the spread of the net loss that churn gives at the gate's sizes.

What the gate can see (``power``, at that churn, level and margin): a true 0.5-point drop is
refused with chance 0.89 on 3,000 MNIST digits, 0.50 on 4,000 photo-like digits and 0.18 on 2,000
non-digits; a 1-point drop with 1.00, 0.98 and 0.69. Seeing a 0.5-point drop with chance 0.8 on the
photo-like set would take about 7,000 photos, on the non-digits over 8,000: each 1,000 costs 35-40 s
of reading with both models (23 s for MNIST digits)."""
DEFAULT_MARGIN = 0.005


@dataclass(frozen=True)
class Rules:
    """The gate's level and margins: the defaults are the shipped gate's; tests of the retraining
    machinery on tiny sets loosen them."""

    alpha: float = ALPHA
    margins: Mapping[str, float] = field(default_factory=lambda: dict(MARGINS))

    def margin(self, name: str) -> float:
        return self.margins.get(name, DEFAULT_MARGIN)


Kind = Literal["fixed", "real", "held-out"]


@dataclass(frozen=True)
class Comparison:
    name: str
    count: int
    lost: int
    """Read right by the current model, wrong by the candidate."""
    gained: int
    current: float
    candidate: float
    kind: Kind = "fixed"

    @property
    def p_worse(self) -> float:
        """The chance of losing at least this many of the photos the two disagree on, were each a coin flip."""
        return tail(self.lost, self.lost + self.gained)

    @property
    def p_better(self) -> float:
        return tail(self.gained, self.lost + self.gained)


@dataclass(frozen=True)
class Verdict:
    promote: bool
    reasons: list[str]
    comparisons: list[Comparison]


HELD_OUT = "held-out corrections"
REAL = "real photos"

Benchmark = tuple[Iterable[Sample], int]
"""A named set's samples (drawn once) and how many there are."""


@functools.cache
def tail(k: int, n: int) -> float:
    """P(X >= k) for X ~ Binomial(n, 1/2), exactly."""
    if k <= 0:
        return 1.0
    return float(sum(math.comb(n, i) for i in range(k, n + 1)) / 2**n)


def gate(
    current: Predictor,
    candidate: Predictor,
    fixed_sets: Mapping[str, Benchmark],
    held_out: list[Sample],
    real: list[Sample] | None = None,
    rules: Rules | None = None,
) -> tuple[Verdict, dict[str, list[Report]]]:
    """Read every fixed set, the real photos (when given) and the held-out corrections (last) with
    both models, then decide. Returns the reports too, for the picture."""
    reports = {name: compare([current, candidate], samples, name, total) for name, (samples, total) in fixed_sets.items()}
    if real:
        reports[REAL] = compare([current, candidate], real, REAL, len(real))
    reports[HELD_OUT] = compare([current, candidate], held_out, HELD_OUT, len(held_out))
    kinds: dict[str, Kind] = {REAL: "real", HELD_OUT: "held-out"}
    comparisons = [paired(name, now, then, kinds.get(name, "fixed")) for name, (now, then) in reports.items()]
    return decide(comparisons, rules or Rules()), reports


def paired(name: str, now: Report, then: Report, kind: Kind = "fixed") -> Comparison:
    pairs = [(a.correct, b.correct) for a, b in zip(now.outcomes, then.outcomes, strict=True)]
    lost, gained = sum(a and not b for a, b in pairs), sum(b and not a for a, b in pairs)
    return Comparison(name, len(pairs), lost, gained, now.accuracy, then.accuracy, kind)


def decide(comparisons: list[Comparison], rules: Rules | None = None) -> Verdict:
    """Promote only if no fixed set is worse beyond chance or beyond its margin, no real photo is
    lost on balance, and the held-out corrections gain beyond chance: a fix that costs what already
    worked is not a fix, and a gain chance could give is not one."""
    rules, reasons = rules or Rules(), []
    for c in comparisons:
        counts = f"{c.name}: lost {c.lost}, gained {c.gained} of {c.count}"
        if c.kind == "fixed":
            margin = rules.margin(c.name)
            if c.p_worse < rules.alpha:
                reasons.append(f"{counts}: worse beyond chance (p = {c.p_worse:.2g} < {rules.alpha})")
            elif c.lost - c.gained > margin * c.count:
                reasons.append(f"{counts}: a net loss beyond the margin of {margin:.1%}")
        elif c.kind == "real" and c.lost > c.gained:
            reasons.append(f"{counts}: more real photos lost than gained")
        elif c.kind == "held-out" and c.count == 0:
            reasons.append("no held-out corrections to show an improvement on")
        elif c.kind == "held-out" and not c.p_better < rules.alpha:
            reasons.append(f"{counts}: not better beyond chance (p = {c.p_better:.2g}, needs < {rules.alpha})")
    return Verdict(promote=not reasons, reasons=reasons, comparisons=comparisons)


def power(count: int, churn: float, drop: float, alpha: float = ALPHA, margin: float = DEFAULT_MARGIN) -> float:
    """The chance the gate refuses a candidate that truly reads ``drop`` of a set of ``count`` fewer,
    when each model reads a share ``churn`` of it right that the other reads wrong besides: lost and
    gained drawn as binomials, every outcome summed."""
    top = min(count, int(count * (churn + drop) + 8 * math.sqrt(count * (churn + drop)) + 10))
    losts, gains = _binomial(count, churn + drop, top), _binomial(count, churn, top)
    refused = 0.0
    for lost, p_lost in enumerate(losts):
        for gained, p_gained in enumerate(gains):
            if tail(lost, lost + gained) < alpha or lost - gained > margin * count:
                refused += p_lost * p_gained
    return refused


def _binomial(n: int, p: float, top: int) -> list[float]:
    """P(X = k) for k up to ``top``, X ~ Binomial(n, p)."""
    log_p, log_q, whole = math.log(p), math.log1p(-p), math.lgamma(n + 1)
    return [math.exp(whole - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * log_p + (n - k) * log_q) for k in range(top + 1)]
