"""Things people photograph that are not digits, drawn like MNIST digits (white on black, 28x28).

A 10-class network must call every shape some digit: a cartoon face became an "8". These
drawings are the training examples of the eleventh class, "not a digit". They pass
through the same renderer and transform as the digits, so the network learns what the
transform makes of them. Shapes that *are* read as digits by people (a ring is a 0, a
bar a 1) are deliberately absent.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

Rng = np.random.Generator

SCALE = 4
"""Shapes are drawn at 4x and reduced with an area filter, which anti-aliases them like MNIST's strokes."""


def non_digit(rng: Rng) -> NDArray[np.uint8]:
    """One random non-digit shape as a 28x28 uint8 image, ink = 255."""
    size = 28 * SCALE
    image = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(image)
    width = int(rng.uniform(1.5, 4.0) * SCALE)
    box = _box(rng, size)
    kind = int(rng.integers(len(_KINDS)))
    _KINDS[kind](draw, box, width, rng)
    small = image.resize((28, 28), Image.Resampling.BOX)
    return np.asarray(small, dtype=np.uint8)


def non_digits(count: int, seed: int) -> NDArray[np.uint8]:
    """``count`` shapes, the same for the same seed."""
    rng = np.random.default_rng((seed, 10))
    return np.stack([non_digit(rng) for _ in range(count)]) if count else np.zeros((0, 28, 28), np.uint8)


Box = tuple[float, float, float, float]


def _box(rng: Rng, size: int) -> Box:
    """A 20x20-ish area like MNIST's, with a random aspect between tall and wide."""
    w = rng.uniform(0.45, 0.75) * size
    h = rng.uniform(0.45, 0.75) * size
    x0 = (size - w) / 2 + rng.uniform(-0.05, 0.05) * size
    y0 = (size - h) / 2 + rng.uniform(-0.05, 0.05) * size
    return (x0, y0, x0 + w, y0 + h)


def _face(draw: ImageDraw.ImageDraw, box: Box, width: int, rng: Rng) -> None:
    """A cartoon face as a solid shape: eyes and mouth are holes, as on a light face on a dark ground."""
    x0, y0, x1, y1 = box
    draw.ellipse(box, fill=255)
    w, h = x1 - x0, y1 - y0
    eye = rng.uniform(0.1, 0.18) * w
    for cx in (x0 + w * rng.uniform(0.28, 0.38), x0 + w * rng.uniform(0.62, 0.72)):
        cy = y0 + h * rng.uniform(0.33, 0.45)
        draw.ellipse((cx - eye, cy - eye * 0.7, cx + eye, cy + eye * 0.7), fill=0)
        if rng.random() < 0.6:
            pupil = eye * 0.45
            draw.ellipse((cx - pupil, cy - pupil, cx + pupil, cy + pupil), fill=255)
    if rng.random() < 0.8:
        mouth = (x0 + 0.28 * w, y0 + 0.5 * h, x0 + 0.72 * w, y0 + 0.8 * h)
        draw.arc(mouth, 20, 160, fill=0, width=max(2, width))


def _smiley(draw: ImageDraw.ImageDraw, box: Box, width: int, rng: Rng) -> None:
    """A drawn smiley: a ring with eyes and a smile inside (a bare ring would be a 0)."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    draw.ellipse(box, outline=255, width=width)
    dot = max(width, 0.07 * w)
    for cx in (x0 + 0.35 * w, x0 + 0.65 * w):
        cy = y0 + 0.38 * h
        draw.ellipse((cx - dot, cy - dot, cx + dot, cy + dot), fill=255)
    sad = rng.random() < 0.3
    mouth = (x0 + 0.27 * w, y0 + (0.62 if sad else 0.42) * h, x0 + 0.73 * w, y0 + (0.9 if sad else 0.78) * h)
    draw.arc(mouth, 200 if sad else 20, 340 if sad else 160, fill=255, width=width)


def _blob(draw: ImageDraw.ImageDraw, box: Box, width: int, rng: Rng) -> None:
    """A filled irregular shape: a smudge, a coloured-in area, a thumb over the lens."""
    x0, y0, x1, y1 = box
    cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
    count = int(rng.integers(7, 14))
    angles = (np.arange(count) + rng.uniform(-0.3, 0.3, count)) * 2 * math.pi / count  # round-ish, never a sliver
    radius = rng.uniform(0.65, 1.0, count)
    draw.polygon([(cx + rx * r * math.cos(a), cy + ry * r * math.sin(a)) for a, r in zip(angles, radius, strict=True)], fill=255)


def _star(draw: ImageDraw.ImageDraw, box: Box, width: int, rng: Rng) -> None:
    """An asterisk of three to five strokes, or a filled five-pointed star."""
    x0, y0, x1, y1 = box
    cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
    turn = rng.uniform(0, math.pi)
    if rng.random() < 0.5:
        spokes = int(rng.integers(3, 6))
        for k in range(spokes):
            a = turn + k * math.pi / spokes
            draw.line((cx - rx * math.cos(a), cy - ry * math.sin(a), cx + rx * math.cos(a), cy + ry * math.sin(a)), fill=255, width=width)
        return
    tips = [(turn + k * math.pi / 5, 1.0 if k % 2 == 0 else 0.4) for k in range(10)]
    draw.polygon([(cx + rx * f * math.cos(a), cy + ry * f * math.sin(a)) for a, f in tips], fill=255)


def _grid(draw: ImageDraw.ImageDraw, box: Box, width: int, rng: Rng) -> None:
    """A hash sign, a noughts-and-crosses grid or cross-hatching."""
    x0, y0, x1, y1 = box
    count = int(rng.integers(2, 6))
    slant = rng.uniform(-0.15, 0.15) * (x1 - x0)
    for k in range(count):
        t = (k + 1) / (count + 1)
        draw.line((x0 + t * (x1 - x0) + slant, y0, x0 + t * (x1 - x0) - slant, y1), fill=255, width=width)
        draw.line((x0, y0 + t * (y1 - y0) - slant, x1, y0 + t * (y1 - y0) + slant), fill=255, width=width)


def _scribble(draw: ImageDraw.ImageDraw, box: Box, width: int, rng: Rng) -> None:
    """Something scribbled over: a dense zigzag that fills its area."""
    x0, y0, x1, y1 = box
    turns = int(rng.integers(6, 14))
    ys = np.linspace(y0, y1, turns)
    points = [(x0 + (x1 - x0) * (k % 2) + rng.uniform(-0.05, 0.05) * (x1 - x0), y) for k, y in enumerate(ys)]
    if rng.random() < 0.5:
        points = [(y - y0 + x0, x - x0 + y0) for x, y in points]  # the same zigzag on its side
    draw.line(points, fill=255, width=width, joint="curve")


_KINDS = (_face, _face, _smiley, _blob, _star, _grid, _scribble)
