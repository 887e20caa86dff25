"""Stage 5, crops: one digit cut out and placed the way MNIST placed its digits.

Stroke width is brought into MNIST's range, the digit fitted into 20x20 keeping its
aspect (area filter down), and its centre of mass put at the centre of 28x28. These
numbers are MNIST's own geometry, so the network sees a photo's digit as it saw MNIST's.
The stroke is measured and changed on a copy a few times the size of the 20x20 box, so a
digit 30 px tall in the photo and one 300 px tall get the same stroke, in the same steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from model.reading.transform.bounds import bounded, check_bounds
from model.reading.transform.ops import CROSS, Box, Gray, Mask, dilate, erode, member_mask, quantiles, resize, stroke_width
from model.reading.transform.segment import Group
from model.reading.transform.stage import Stage


@dataclass(frozen=True)
class CropParams:
    canvas: int = bounded(28, 8, 256)
    digit_box: int = bounded(20, 4, 256)
    mean: float = bounded(0.1307, 0.0, 1.0)
    std: float = bounded(0.3081, 0.001, 10.0)
    """MNIST's normalization: the network's input is (ink - mean) / std."""
    stroke_range: tuple[float, float] = bounded((2.2, 4.6), 0.1, 20.0)
    """MNIST's 5th-95th percentile stroke width at 20x20, in pixels."""
    pad: int = bounded(2, 0, 16)
    """Pixels around the digit's mask that keep its anti-aliased edge."""
    strength_quantile: float = bounded(0.9, 0.01, 1.0)
    """The stroke's ink at this quantile becomes full ink: a pale pen looks like a dark one ..."""
    min_strength: float = bounded(1e-3, 1e-6, 1.0)
    """... divided by no less than this, so a stroke of no ink stays none."""
    fine: int = bounded(3, 1, 16)
    """The stroke is measured and thickened or thinned with the digit this many times the 20x20 box."""
    solid_level: float = bounded(0.5, 0.01, 0.99)
    """A small digit's own pixels, enlarged, are its pixels where they cover more than this: its stroke is measured there."""
    kept: float = bounded(0.05, 0.0, 0.99)
    """Ink under this (of full) around the digit is not part of the box it is fitted by."""

    def __post_init__(self) -> None:
        check_bounds(self)
        low, high = self.stroke_range
        if not self.digit_box <= self.canvas or not low < high:
            raise ValueError(f"need digit_box <= canvas and a rising stroke_range: {self}")


@dataclass(frozen=True)
class DigitCrop:
    """One digit as the network sees it (ink = 1, before normalization) and where it was.

    Two views of the same digit: ``pixels`` keeps the ink's grey levels (a faint stroke stays
    fainter, an anti-aliased edge soft), ``solid`` is the digit's pixels as full ink (every stroke
    the transform kept, however faint, as dark as the darkest). The network reads both and
    their readings are averaged; where they disagree the reading is not sure."""

    pixels: NDArray[np.float32]
    box: Box
    solid: NDArray[np.float32]


class Crop(Stage[CropParams]):
    """Stage 5: one digit's pixels to the network's 28x28 views of it."""

    def __call__(self, ink: Gray, labels: NDArray[np.int32], group: Group, scale: float) -> DigitCrop:
        """Cut one digit (a group segmentation found: components of ``labels``) out of the ink the lines
        stage cleared, and place it MNIST-style; ``scale`` maps working pixels back to the original photo,
        for the box reported (as :class:`~model.reading.transform.strip.Strip` takes them all)."""
        p = self.params
        region, (xa, ya), own = _digit_ink(ink, labels, group.members, group.box, p)
        x0, y0, x1, y1 = group.box
        zoom = p.fine * p.digit_box / max(y1 - y0, x1 - x0)
        width = _width_in_box(own[y0 - ya : y1 - ya, x0 - xa : x1 - xa], zoom, p)
        grey, full = (_place(_normalize_stroke(_zoomed(view, zoom), width, p), p) for view in (region, own.astype(np.float32)))
        original = (int(x0 * scale), int(y0 * scale), int(np.ceil(x1 * scale)), int(np.ceil(y1 * scale)))
        return DigitCrop(pixels=grey, box=original, solid=full)


def _digit_ink(
    ink: Gray, labels: NDArray[np.int32], members: tuple[int, ...], box: Box, params: CropParams
) -> tuple[Gray, tuple[int, int], Mask]:
    """The digit's ink around its box, as full ink where the pen is (the stroke's own strength is 1),
    with room around it for the stroke to be thickened; where that region starts (x, y); and the
    digit's own pixels there. Ink of other shapes is left out; the anti-aliased edge (``pad``) is kept."""
    p = params
    x0, y0, x1, y1 = box
    own_box = member_mask(labels[y0:y1, x0:x1], members)
    fit = p.digit_box / max(y1 - y0, x1 - x0)
    margin = p.pad + max(0, _stroke_change(stroke_width(own_box) * fit, fit, p.stroke_range))
    ya, yb = max(0, y0 - margin), min(ink.shape[0], y1 + margin)
    xa, xb = max(0, x0 - margin), min(ink.shape[1], x1 + margin)
    own = member_mask(labels[ya:yb, xa:xb], members)
    region = ink[ya:yb, xa:xb] * cv2.dilate(own.view(np.uint8), CROSS, iterations=p.pad)
    strength = quantiles(region[own], (p.strength_quantile,))[0] if own.any() else 1.0
    return np.clip(region / max(strength, p.min_strength), 0.0, 1.0).astype(np.float32), (xa, ya), own


def _width_in_box(own: Mask, zoom: float, p: CropParams) -> float:
    """The stroke width the digit will have at 20x20. A small digit's stroke is a pixel or two wide:
    measured on the enlarged copy, where it has width; a large digit's where it is (shrunk, a
    hairline would vanish)."""
    if zoom > 1:
        return stroke_width(_zoomed(own.astype(np.float32), zoom) >= p.solid_level) / p.fine
    return stroke_width(own) * zoom / p.fine


def _zoomed(image: Gray, zoom: float) -> Gray:
    size = (max(1, round(image.shape[1] * zoom)), max(1, round(image.shape[0] * zoom)))
    return resize(image, size, cv2.INTER_AREA if zoom < 1 else cv2.INTER_LINEAR)


def _stroke_change(width: float, fit: float, stroke_range: tuple[float, float]) -> int:
    """By how many pixels the stroke must grow (> 0) or shrink (< 0) so that, once the digit is fitted
    into 20x20 (``fit`` of these pixels to one), it is as wide as MNIST's pen; ``width`` is its width there."""
    low, high = stroke_range
    if width == 0 or low <= width <= high:
        return 0
    size = 1 + round(abs((low if width < low else high) - width) / fit)
    return 0 if size <= 1 else size if width < low else -size


def _normalize_stroke(fine: Gray, width: float, p: CropParams) -> Gray:
    """Bring the stroke width (``width``, as it will be at 20x20) into MNIST's range, on the digit
    ``p.fine`` times the 20x20 box.

    A fine pen shrunk into 20x20 becomes a faint hairline and a fat marker fills the loops
    of an 8, and a network trained on MNIST's strokes misreads both.
    """
    change = _stroke_change(width, 1 / p.fine, p.stroke_range)
    if change > 0:
        return dilate(fine, change, change)
    if change < 0:
        return erode(fine, -change, -change)
    return fine


def _place(region: Gray, p: CropParams) -> NDArray[np.float32]:
    """Fit the inked part into the 20x20 box keeping aspect (area filter); centre of mass at the canvas's centre."""
    rows, cols = np.nonzero(region > p.kept)
    if len(rows):
        region = region[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    box, canvas = p.digit_box, p.canvas
    fit = box / max(region.shape)
    size = (max(1, min(box, round(region.shape[1] * fit))), max(1, min(box, round(region.shape[0] * fit))))
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
