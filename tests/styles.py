"""Handwriting styles MNIST barely has, drawn as pen strokes on paper: the raw material of retraining tests."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

# Strokes in a unit box (x right, y down), one polyline per stroke.
STYLES: dict[str, tuple[str, list[list[tuple[float, float]]]]] = {
    "continental-1": ("1", [[(0.2, 0.38), (0.62, 0.0), (0.62, 1.0)]]),
    "crossed-7": ("7", [[(0.1, 0.05), (0.9, 0.05), (0.45, 1.0)], [(0.35, 0.5), (0.85, 0.5)]]),
    "open-4": ("4", [[(0.45, 0.0), (0.1, 0.6), (0.95, 0.6)], [(0.7, 0.25), (0.7, 1.0)]]),
    # A 9 as a square loop on a straight stem, as on a calculator: the shipped model reads it as 7.
    "square-9": ("9", [[(0.9, 0.45), (0.1, 0.45), (0.1, 0.0), (0.9, 0.0), (0.9, 1.0)]]),
}


def draw(style: str, rng: np.random.Generator, size: tuple[int, int] = (480, 360)) -> bytes:
    """One photo of ``style`` with random size, slant, jitter, pen width and paper: a JPEG."""
    _, strokes = STYLES[style]
    width, height = size
    paper = tuple(int(v) for v in rng.integers(215, 250, 3))
    image = Image.new("RGB", size, paper)
    draw_ = ImageDraw.Draw(image)
    digit_h = rng.uniform(0.4, 0.7) * height
    digit_w = digit_h * rng.uniform(0.5, 0.7)
    x0 = rng.uniform(0.1, 0.9) * (width - digit_w)
    y0 = rng.uniform(0.1, 0.9) * (height - digit_h)
    slant = rng.uniform(-0.2, 0.2)
    pen = int(rng.integers(4, 12))
    ink = tuple(int(v) for v in rng.integers(10, 80, 3))
    for stroke in strokes:
        points = []
        for x, y in stroke:
            jx, jy = rng.normal(0, 0.03, 2)
            px = x0 + (x + jx + slant * (1 - y)) * digit_w
            py = y0 + (y + jy) * digit_h
            points.append((float(px), float(py)))
        draw_.line(points, fill=ink, width=pen, joint="curve")
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=int(rng.integers(60, 95)))
    return buffer.getvalue()
