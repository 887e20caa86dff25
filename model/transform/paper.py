"""Stage 2, paper level and polarity: how much ink each pixel holds, whatever the light.

Ink is measured against the local paper level, so off-white paper, a gradient across the
page and soft shadows read as paper; polarity is detected, so chalk on a board and
MNIST's white on black read as ink too.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy import ndimage

from model.transform.ops import Gray, block_mean, dilate, enlarge, erode, quantiles, shrink_to


@dataclass(frozen=True)
class PaperParams:
    small_size: int = 48
    """Long side of the copy on which lighting and polarity are judged."""
    closing_fraction: float = 0.4
    """The paper closing's window as a fraction of that copy: wider than any stroke, narrower than a shadow."""
    level_floor: float = 0.05
    """The darkest paper level divided by; keeps black corners from blowing up."""
    border_divisor: int = 12
    """The border ring that tells an even ground is this many times narrower than the copy."""
    even_border: float = 0.08
    """A border whose 10-90% spread is under this is even: it is the ground."""
    extremes: tuple[float, float] = (0.005, 0.995)
    """Quantiles that stand for the darkest and lightest ink."""

    def __post_init__(self) -> None:
        if self.small_size < 8 or not 0 < self.closing_fraction <= 1 or not 0 < self.level_floor < 1:
            raise ValueError(f"invalid paper parameters: {self}")


def ink_map(gray: Gray, params: PaperParams) -> Gray:
    """Ink strength per pixel: 0 on paper, towards 1 on strokes, whatever the polarity.

    The paper is a grey closing of the small copy (max filter, then min filter): it
    fills every dark feature narrower than the window — strokes, even a fat marker's —
    while a shadow's edge, a step wider than any window, stays where it was.
    """
    small = shrink_to(gray, params.small_size)
    window = max(3, int(max(small.shape) * params.closing_fraction)) | 1
    if light_ink(gray, small, params):
        gray, small = 1.0 - gray, 1.0 - small
    closed = erode(dilate(small, window, window), window, window)
    level = enlarge(np.asarray(cv2.blur(closed, (3, 3), borderType=cv2.BORDER_REPLICATE), dtype=np.float32), gray.shape)
    ink = np.maximum(level, np.float32(params.level_floor))
    np.divide(gray, ink, out=ink)
    np.subtract(np.float32(1.0), ink, out=ink)
    np.clip(ink, 0.0, 1.0, out=ink)
    return ink


def light_ink(gray: Gray, small: Gray, params: PaperParams) -> bool:
    """Is the ink lighter than its ground (chalk on a board, MNIST's white on black)?

    Where the image's border is even, it is the ground, and the ink is whichever
    extreme lies farther from it. Otherwise (shadows, lines) ink is the local minority,
    so the sign of what stands out from a local median decides.
    """
    ring = max(1, min(small.shape) // params.border_divisor)
    border = np.concatenate([small[:ring].ravel(), small[-ring:].ravel(), small[:, :ring].ravel(), small[:, -ring:].ravel()])
    low, ground, high = quantiles(border, (0.1, 0.5, 0.9))
    if high - low < params.even_border:
        sample = gray[:: max(1, gray.shape[0] // 96), :: max(1, gray.shape[1] // 96)]
        darkest, lightest = quantiles(sample.ravel(), params.extremes)
        return bool(ground < 0.5 and lightest - ground > ground - darkest)  # light ink needs a dark ground
    coarse = small if min(small.shape) < 8 else block_mean(small, 2)  # the median is costly; 24 px decide a sign
    residual = coarse - ndimage.median_filter(coarse, size=max(3, max(coarse.shape) // 4) | 1, mode="nearest")
    return float(np.clip(residual, 0, None).sum()) > float(np.clip(-residual, 0, None).sum())
