"""Stage 5, crops: one digit cut out and placed the way MNIST placed its digits.

Stroke width is brought into MNIST's range, the digit fitted into 20x20 keeping its
aspect (area filter down), and its centre of mass put at the centre of 28x28. These
numbers are MNIST's own geometry, so the network sees a photo's digit as it saw MNIST's.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from model.reading.transform.ops import CROSS, Box, Gray, Mask, dilate, erode, quantiles, resize, stroke_width


@dataclass(frozen=True)
class CropParams:
    canvas: int = 28
    digit_box: int = 20
    mean: float = 0.1307
    std: float = 0.3081
    """MNIST's normalization: the network's input is (ink - mean) / std."""
    stroke_range: tuple[float, float] = (2.2, 4.6)
    """MNIST's 5th-95th percentile stroke width at 20x20, in pixels."""
    pad: int = 2
    """Pixels around the digit's mask that keep its anti-aliased edge."""
    strength_quantile: float = 0.9
    """The stroke's ink at this quantile becomes full ink: a pale pen looks like a dark one."""

    def __post_init__(self) -> None:
        low, high = self.stroke_range
        if not 0 < self.digit_box <= self.canvas or not 0 < low < high or self.std <= 0:
            raise ValueError(f"invalid crop parameters: {self}")


@dataclass(frozen=True)
class DigitCrop:
    """One digit as the network sees it (ink = 1, before normalization) and where it was."""

    pixels: NDArray[np.float32]
    box: Box


def crop_digit(ink: Gray, labels: NDArray[np.int32], members: tuple[int, ...], box: Box, scale: float, params: CropParams) -> DigitCrop:
    """Cut one digit (the components ``members`` of ``labels``, within ``box``) out of the ink and place it MNIST-style.

    ``scale`` maps working pixels back to the original photo, for the box reported.
    """
    p = params
    x0, y0, x1, y1 = box
    ya, yb = max(0, y0 - p.pad), min(ink.shape[0], y1 + p.pad)
    xa, xb = max(0, x0 - p.pad), min(ink.shape[1], x1 + p.pad)
    own = np.isin(labels[ya:yb, xa:xb], members)
    region = ink[ya:yb, xa:xb] * cv2.dilate(own.view(np.uint8), CROSS, iterations=p.pad)
    strength = quantiles(region[own], (p.strength_quantile,))[0] if own.any() else 1.0
    region = np.clip(region / max(strength, 1e-3), 0.0, 1.0).astype(np.float32)
    fit = p.digit_box / max(y1 - y0, x1 - x0)
    region = _normalize_stroke(region, own, fit, p.stroke_range)
    pixels = _place(region, fit, p.digit_box, p.canvas)
    original = (int(x0 * scale), int(y0 * scale), int(np.ceil(x1 * scale)), int(np.ceil(y1 * scale)))
    return DigitCrop(pixels=pixels, box=original)


def _normalize_stroke(region: Gray, mask: Mask, fit: float, stroke_range: tuple[float, float]) -> Gray:
    """Bring the stroke width, as it will be after fitting, into MNIST's range.

    A fine pen shrunk into 20x20 becomes a faint hairline and a fat marker fills the loops
    of an 8, and a network trained on MNIST's strokes misreads both.
    """
    width = stroke_width(mask) * fit
    if width == 0:
        return region
    low, high = stroke_range
    if width < low:
        size = 1 + round((low - width) / fit)
        return dilate(region, size, size) if size > 1 else region
    if width > high:
        size = 1 + round((width - high) / fit)
        return erode(region, size, size) if size > 1 else region
    return region


def _place(region: Gray, fit: float, box: int, canvas: int) -> NDArray[np.float32]:
    """Fit into ``box`` keeping aspect (area filter down, bilinear up); centre of mass at the centre."""
    rows, cols = region.shape
    size = (max(1, min(box, round(cols * fit))), max(1, min(box, round(rows * fit))))
    small = resize(region, size, cv2.INTER_AREA if fit < 1 else cv2.INTER_LINEAR)
    top = float(small.max())
    if top > 0:
        small = np.clip(small / top, 0.0, 1.0)
    out = np.zeros((canvas, canvas), dtype=np.float32)
    moments = cv2.moments(small)
    if moments["m00"] > 0:
        cx, cy = moments["m10"] / moments["m00"], moments["m01"] / moments["m00"]
    else:
        cy, cx = small.shape[0] / 2, small.shape[1] / 2
    oy = int(np.clip(round(canvas / 2 - cy), 0, canvas - small.shape[0]))
    ox = int(np.clip(round(canvas / 2 - cx), 0, canvas - small.shape[1]))
    out[oy : oy + small.shape[0], ox : ox + small.shape[1]] = small
    return out
