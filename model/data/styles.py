"""Handwriting styles MNIST barely has, drawn as pen strokes on paper: what the memory is calibrated on, and retraining's tests."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFilter


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, stop: float) -> list[tuple[float, float]]:
    """An ellipse's arc as a polyline, angles in degrees, clockwise from the right."""
    angles = np.radians(np.linspace(start, stop, 24))
    return [(float(cx + rx * np.cos(a)), float(cy + ry * np.sin(a))) for a in angles]


# Strokes in a unit box (x right, y down), one polyline per stroke.
STYLES: dict[str, tuple[str, list[list[tuple[float, float]]]]] = {
    "continental-1": ("1", [[(0.2, 0.38), (0.62, 0.0), (0.62, 1.0)]]),
    "crossed-7": ("7", [[(0.1, 0.05), (0.9, 0.05), (0.45, 1.0)], [(0.35, 0.5), (0.85, 0.5)]]),
    "open-4": ("4", [[(0.45, 0.0), (0.1, 0.6), (0.95, 0.6)], [(0.7, 0.25), (0.7, 1.0)]]),
    # A 9 as a square loop on a straight stem, as on a calculator: the shipped model reads it as 7.
    "square-9": ("9", [[(0.9, 0.45), (0.1, 0.45), (0.1, 0.0), (0.9, 0.0), (0.9, 1.0)]]),
    # Strokes that don't touch (real photos read them as "61", "81", "01"):
    "open-top-4": ("4", [[(0.1, 0.0), (0.1, 0.6), (0.62, 0.6)], [(0.8, 0.05), (0.8, 1.0)]]),
    "gapped-8": ("8", [_arc(0.5, 0.22, 0.2, 0.2, 0, 360), _arc(0.5, 0.74, 0.26, 0.24, 0, 360)]),
    "open-9": ("9", [_arc(0.42, 0.27, 0.26, 0.25, 40, 330), [(0.8, 0.15), (0.78, 1.0)]]),
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
        shake = 0.03 if len(stroke) <= 5 else 0.006  # a curve's points are close: each may move less
        for x, y in stroke:
            jx, jy = rng.normal(0, shake, 2)
            px = x0 + (x + jx + slant * (1 - y)) * digit_w
            py = y0 + (y + jy) * digit_h
            points.append((float(px), float(py)))
        draw_.line(points, fill=ink, width=pen, joint="curve")
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=int(rng.integers(60, 95)))
    return buffer.getvalue()
