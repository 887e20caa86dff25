"""Stage 2, paper level and polarity: how much ink each pixel holds, whatever the light.

Ink is measured against the local paper level, so off-white paper, a gradient across the
page and soft shadows read as paper; polarity is detected, so chalk on a board and
MNIST's white on black read as ink too.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from model.transform.ops import Gray, dilate, enlarge, erode, quantiles, shrink_to


@dataclass(frozen=True)
class PaperParams:
    small_size: int = 48
    """Long side of the copy on which lighting and polarity are judged."""
    closing_fraction: float = 0.4
    """The paper closing's window as a fraction of that copy: wider than any stroke, narrower than a shadow."""
    level_floor: float = 0.05
    """The darkest paper level divided by; keeps black corners from blowing up."""
    polarity_sample: int = 96
    """The ground's tone is the median of every n-th pixel, n = long side / this."""
    median_divisor: int = 4
    """On a dark ground, what stands out from a median this many times narrower than the copy is ink."""

    def __post_init__(self) -> None:
        if self.small_size < 8 or not 0 < self.closing_fraction <= 1 or not 0 < self.level_floor < 1:
            raise ValueError(f"invalid paper parameters: {self}")


def dark_ink(gray: Gray, params: PaperParams) -> Gray:
    """The image with its ink darker than its ground: light ink (chalk, MNIST) is inverted."""
    return np.subtract(np.float32(1.0), gray) if light_ink(gray, shrink_to(gray, params.small_size), params) else gray


def ink_map(gray: Gray, params: PaperParams) -> Gray:
    """Ink strength per pixel of a :func:`dark_ink` image: 0 on paper, towards 1 on strokes.

    The paper is a grey closing of the small copy (max filter, then min filter): it
    fills every dark feature narrower than the window — strokes, even a fat marker's —
    while a shadow's edge, a step wider than any window, stays where it was.
    """
    small = shrink_to(gray, params.small_size)
    window = max(3, int(max(small.shape) * params.closing_fraction)) | 1
    closed = erode(dilate(small, window, window), window, window)
    level = enlarge(np.asarray(cv2.blur(closed, (3, 3), borderType=cv2.BORDER_REPLICATE), dtype=np.float32), gray.shape)
    ink = np.maximum(level, np.float32(params.level_floor))
    np.divide(gray, ink, out=ink)
    np.subtract(np.float32(1.0), ink, out=ink)
    np.clip(ink, 0.0, 1.0, out=ink)
    return ink


def light_ink(gray: Gray, small: Gray, params: PaperParams) -> bool:
    """Is the ink lighter than its ground (chalk on a board, MNIST's white on black)?

    Ink is the minority, so the ground is the median tone. A light ground means dark ink:
    that is paper, whatever its shadows. On a dark ground (a board, a screen, or paper in
    dim light) the sign of what stands out from a local median decides, since strokes
    are the thin features that do.
    """
    step = max(1, max(gray.shape) // params.polarity_sample)
    if quantiles(gray[::step, ::step].ravel(), (0.5,))[0] >= 0.5:
        return False
    coarse = np.round(small * 255).astype(np.uint8)
    residual = small - cv2.medianBlur(coarse, max(3, max(coarse.shape) // params.median_divisor) | 1).astype(np.float32) / 255
    return float(np.clip(residual, 0, None).sum()) > float(np.clip(-residual, 0, None).sum())
