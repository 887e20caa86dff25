"""Digits drawn from pen strokes, in the ways of writing them that MNIST barely has.

MNIST's writers were American: their 1 is a bare stick, their 7 has no bar, their 9 a round
loop on a curved tail. Much of the world writes a 1 with a long upstroke (like "^" or "/\\"),
a 7 with a bar through its stem, a 4 open at the top or closed like a triangle, a 9 as a small
loop on a straight stem ("P" turned round), a 2 with a loop at its foot. Each style here is a
few strokes in a unit box (x right, y down) whose corners move with every drawing, smoothed
into curves, drawn anti-aliased with the number's pen.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
from numpy.typing import NDArray

Rng = np.random.Generator
Point = tuple[float, float]
Strokes = list[list[Point]]


def _u(rng: Rng, low: float, high: float) -> float:
    return float(rng.uniform(low, high))


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, stop: float, steps: int = 16) -> list[Point]:
    """An ellipse's arc as points, angles in degrees, clockwise from the right (y down)."""
    angles = np.radians(np.linspace(start, stop, steps))
    return [(float(cx + rx * np.cos(a)), float(cy + ry * np.sin(a))) for a in angles]


def _one(rng: Rng) -> Strokes:
    """A 1 with an upstroke from low on the left (a flag, or a long "^" nearly as long as the stem), sometimes a foot."""
    top = (_u(rng, 0.5, 0.8), 0.0)
    flag = (_u(rng, 0.0, 0.35), _u(rng, 0.12, 0.65)) if rng.random() < 0.6 else (0.0, _u(rng, 0.6, 0.9))
    foot = (top[0] + _u(rng, -0.12, 0.05), 1.0)
    strokes = [[flag, top, foot]]
    if rng.random() < 0.12:
        strokes.append([(foot[0] - 0.3, 1.0), (foot[0] + 0.3, 1.0)])
    return strokes


def _seven(rng: Rng) -> Strokes:
    """A 7 whose top is a bar (sometimes a hook at its left end), its stem crossed by a bar, short or
    as long as the top ("+" through a 7)."""
    left, right = (_u(rng, 0.0, 0.15), _u(rng, -0.05, 0.08)), (_u(rng, 0.85, 1.0), _u(rng, -0.05, 0.08))
    foot = (_u(rng, 0.2, 0.55), 1.0)
    top = [(left[0], left[1] + _u(rng, 0.1, 0.25)), left, right] if rng.random() < 0.3 else [left, right]
    mid = _u(rng, 0.4, 0.65)
    x = right[0] + (foot[0] - right[0]) * mid
    return [[*top, foot], [(x - _u(rng, 0.15, 0.5), mid), (x + _u(rng, 0.15, 0.45), mid + _u(rng, -0.06, 0.03))]]


def _four(rng: Rng) -> Strokes:
    """A 4 closed like a triangle, open at the top (two strokes that don't meet), or its left
    stroke curving into the bar like a "Ч"."""
    bar = _u(rng, 0.5, 0.72)
    stem = _u(rng, 0.6, 0.78)
    kind = rng.random()
    if kind < 0.35:
        return [[(stem, 1.0), (stem, 0.0), (_u(rng, 0.0, 0.1), bar), (1.0, bar - 0.02)]]
    if kind < 0.7:
        return [[(_u(rng, 0.0, 0.2), 0.0), (_u(rng, 0.0, 0.1), bar), (1.0, bar)], [(stem + 0.05, _u(rng, 0.0, 0.15)), (stem, 1.0)]]
    left = _u(rng, 0.0, 0.15)
    return [[(left, 0.0), (left, bar - 0.2), (left + 0.15, bar), (stem, bar - 0.05)], [(stem + 0.05, 0.0), (stem, 1.0)]]


def _nine(rng: Rng) -> Strokes:
    """A 9 as a small loop on a straight stem (from the loop's right, or from its left like a Greek rho),
    the loop a third to half of the height."""
    size = _u(rng, 0.3, 0.5)
    rx, ry = _u(rng, 0.3, 0.45), size / 2
    kind = rng.random()
    if kind < 0.35:
        cx, cy = 0.95 - rx, ry
        return [[*_arc(cx, cy, rx, ry, -10, 350), (cx + rx, cy), (cx + rx + _u(rng, -0.25, 0.05), 1.0)]]
    if kind < 0.6:  # the tail curls back under the loop, like a "g"
        cx, cy = 0.95 - rx, ry
        tail = _arc(cx, 1.0 - ry, rx, ry * _u(rng, 0.6, 1.0), 0, _u(rng, 90, 170))
        return [[*_arc(cx, cy, rx, ry, -10, 350), (cx + rx, cy), *tail]]
    cx, cy = 0.05 + rx + _u(rng, 0.0, 0.15), ry
    foot = (cx - rx + _u(rng, -0.05, 0.15), 1.0)
    return [[foot, (cx - rx, cy + _u(rng, -0.1, 0.1)), *_arc(cx, cy, rx, ry, 180, 520)]]


def _two(rng: Rng) -> Strokes:
    """A 2 with a loop where its diagonal meets its foot, or drawn with straight strokes like a "Z"."""
    if rng.random() < 0.3:
        return [[(0.05, _u(rng, 0.05, 0.25)), (_u(rng, 0.5, 0.9), 0.0), (0.9, 0.25), (_u(rng, 0.0, 0.15), 1.0), (1.0, _u(rng, 0.9, 1.0))]]
    head = _arc(0.5, 0.27, 0.42, 0.27, _u(rng, 150, 200), 370)
    size = _u(rng, 0.1, 0.24)
    cx, cy = 0.05 + size + _u(rng, 0.0, 0.1), 0.97 - size
    loop = _arc(cx, cy, size * _u(rng, 0.8, 1.3), size * _u(rng, 0.7, 1.0), -45, 300)
    return [[*head, (0.9, 0.35), loop[0], *loop, (_u(rng, 0.85, 1.0), _u(rng, 0.88, 1.0))]]


def _slashed_zero(rng: Rng) -> Strokes:
    """A 0 with a long slash through it, reaching well past the ring ("Ø"), as programmers and some schools write it."""
    ring = _arc(0.5, 0.5, _u(rng, 0.38, 0.48), 0.5, -90, 270, steps=24)
    return [ring, [(_u(rng, 1.15, 1.3), _u(rng, -0.25, -0.1)), (_u(rng, -0.3, -0.15), _u(rng, 1.1, 1.25))]]


HANDS: dict[str, Callable[[Rng], Strokes]] = {"1": _one, "2": _two, "4": _four, "7": _seven, "9": _nine}
"""The digits drawn in a hand MNIST barely has, by label: what the number reader trains on."""
UNSEEN: dict[str, Callable[[Rng], Strokes]] = {"0": _slashed_zero}
"""A hand no training draws (the slashed zero): what tests of learning from corrections teach."""


def hand_drawn(label: str, height: float, pen: float, rng: Rng, hands: dict[str, Callable[[Rng], Strokes]] = HANDS) -> NDArray[np.float32]:
    """``label`` drawn in its other hand (of ``hands``), ``height`` pixels tall, the stroke ``pen`` MNIST
    pixels wider (> 0) or narrower than MNIST's: coverage 0-1, cut to its ink."""
    strokes = hands[label](rng)
    width = height * _u(rng, 0.45, 0.72)
    thickness = max(1, round(height * (0.08 + 0.04 * pen)))
    border = thickness + 2
    canvas = np.zeros((round(height) + 2 * border, round(width) + 2 * border), np.uint8)
    for stroke in strokes:
        shake = 0.035 if len(stroke) <= 5 else 0.01
        jittered = np.array([(x + rng.normal(0, shake), y + rng.normal(0, shake)) for x, y in stroke])
        points = border + _smooth(jittered, int(rng.integers(0, 3))) * np.array([width, height])
        cv2.polylines(canvas, [np.round(points * 4).astype(np.int32)], False, 255, thickness, cv2.LINE_AA, shift=2)
    coverage = canvas.astype(np.float32) / np.float32(255)
    ys, xs = np.nonzero(coverage > 0.1)
    return np.ascontiguousarray(coverage[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1])


def _smooth(points: NDArray[np.float64], rounds: int) -> NDArray[np.float64]:
    """Chaikin's corner cutting: a hand rounds the corners a ruler would leave sharp."""
    for _ in range(rounds):
        if len(points) < 3:
            return points
        a, b = points[:-1], points[1:]
        cut = np.empty((2 * len(a), 2))
        cut[0::2], cut[1::2] = 0.75 * a + 0.25 * b, 0.25 * a + 0.75 * b
        points = np.vstack([points[:1], cut, points[-1:]])
    return points
