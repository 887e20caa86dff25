"""Shapes every person reads the same way: a lone stroke is a 1, a ring or an oval is a 0.

They are the plainest digits there are, so nothing "not a digit" may swallow them. The sweep
covers the whole range a photo shows (hairline to marker, 30% to 95% of the frame, tilted up
to 25 degrees, on white, grey and squared paper); :func:`plain_digits` draws the same shapes
at random, MNIST-style, for training (MNIST's 1s lean, its 0s are rarely true ovals).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

from model.data.render import Look, ground, ink_colour, lit

Paper = Literal["white", "grey", "squared"]
PAPERS: tuple[Paper, ...] = ("white", "grey", "squared")
LENGTHS = (0.3, 0.45, 0.6, 0.75, 0.95)
"""The shape's height as a fraction of the frame's side."""
WIDTHS = (0.004, 0.01, 0.02, 0.035, 0.06)
"""Pen widths as a fraction of the frame's side: a hairline (1 px of 300) to a fat marker (18 px)."""
TILTS = (-25.0, -12.0, 0.0, 12.0, 25.0)
SIDE = 300
SCALE = 4
"""Shapes are drawn at 4x and reduced with an area filter, so a hairline is anti-aliased as a lens sees it."""


@dataclass(frozen=True)
class Stroke:
    shape: Literal["stroke", "ring"]
    length: float
    width: float
    tilt: float
    paper: Paper
    aspect: float = 1.0
    """A ring's width over its height: 1 is a circle, 0.5 an upright oval."""

    @property
    def label(self) -> str:
        return "1" if self.shape == "stroke" else "0"


def strokes() -> Iterator[Stroke]:
    for length, width, tilt, paper in itertools.product(LENGTHS, WIDTHS, TILTS, PAPERS):
        yield Stroke("stroke", length, width, tilt, paper)


def rings() -> Iterator[Stroke]:
    for length, width, aspect, paper in itertools.product(LENGTHS, WIDTHS[1:], (0.5, 0.7, 1.0), PAPERS):
        yield Stroke("ring", length, width, 0.0, paper, aspect)
    for tilt in TILTS:
        yield Stroke("ring", 0.6, 0.02, tilt, "white", 0.6)


def photo(stroke: Stroke, seed: int = 0) -> Image.Image:
    """The stroke drawn with a dark pen on the paper it names, lit as a photo is."""
    shape = (
        stroke.shape == "ring",
        round(stroke.length * 100),
        round(stroke.width * 1000),
        round(stroke.tilt) + 90,
        round(stroke.aspect * 100),
    )
    rng = np.random.default_rng((seed, *shape, PAPERS.index(stroke.paper)))
    layer = Image.new("L", (SIDE * SCALE, SIDE * SCALE), 0)
    draw = ImageDraw.Draw(layer)
    centre, half = SIDE * SCALE / 2, stroke.length * SIDE * SCALE / 2
    width = max(SCALE, round(stroke.width * SIDE * SCALE))
    if stroke.shape == "stroke":
        draw.line([(centre, centre - half), (centre, centre + half)], fill=255, width=width)
    else:
        across = half * stroke.aspect
        draw.ellipse([centre - across, centre - half, centre + across, centre + half], outline=255, width=width)
    layer = layer.rotate(stroke.tilt, resample=Image.Resampling.BILINEAR)
    alpha = np.asarray(layer.resize((SIDE, SIDE), Image.Resampling.BOX), dtype=np.float32)[..., None] / 255
    lines: Literal["squared", "plain"] = "squared" if stroke.paper == "squared" else "plain"
    look = Look(ground="grey" if stroke.paper == "grey" else "paper", shadow="none", lines=lines)
    paper = ground(SIDE, SIDE, rng, look)
    pixels = paper + alpha * (ink_colour(rng, replace(look, ground="grey")) - paper)  # a dark pen: black or blue
    return Image.fromarray((np.clip(lit(pixels, rng, look), 0, 1) * 255).astype(np.uint8), mode="RGB")


def plain_digits(count: int, seed: int) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """``count`` lone strokes (1) and rings (0), three to two, as 28x28 uint8 images (ink = 255) in a
    20x20-ish box, drawn at 4x and reduced with an area filter like ``model.data.shapes``."""
    rng = np.random.default_rng((seed, 20))
    images, labels = [], []
    for _ in range(count):
        size = 28 * SCALE
        layer = Image.new("L", (size, size), 0)
        draw = ImageDraw.Draw(layer)
        half = rng.uniform(8, 10.5) * SCALE
        width = round(rng.uniform(1.5, 4.5) * SCALE)
        ring = rng.random() < 0.4
        if ring:
            across = half * rng.uniform(0.45, 1.0)
            draw.ellipse([size / 2 - across, size / 2 - half, size / 2 + across, size / 2 + half], outline=255, width=width)
        else:
            draw.line([(size / 2, size / 2 - half), (size / 2, size / 2 + half)], fill=255, width=width)
        layer = layer.rotate(rng.uniform(-25, 25), resample=Image.Resampling.BILINEAR)
        images.append(np.asarray(layer.resize((28, 28), Image.Resampling.BOX), dtype=np.uint8))
        labels.append(0 if ring else 1)
    return np.stack(images) if images else np.zeros((0, 28, 28), np.uint8), np.asarray(labels, dtype=np.int64)
