"""Stage 6, strip: the number the digits make, as one band of ink at a fixed height, for the number reader.

Digits that touch or crowd each other are one shape to segmentation; the number reader reads
them as a sequence instead, from a strip: the shapes on the photo's main line of writing, their
own ink only (what segmentation set aside as paper, specks or a security pattern is left out),
the band brought to a fixed height and its stroke to one range of widths, as the crops bring
a digit's stroke to MNIST's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from model.reading.transform.bounds import bounded, check_bounds
from model.reading.transform.ops import CROSS, Box, Gray, dilate, erode, height, member_mask, quantiles, resize, stroke_width, union
from model.reading.transform.segment import Group
from model.reading.transform.stage import Stage


@dataclass(frozen=True)
class StripParams:
    height: int = bounded(28, 8, 256)
    """The strip's height in pixels, as the number reader reads it ..."""
    margin: int = bounded(2, 0, 32)
    """... with this many empty rows above and below the writing."""
    min_width: int = bounded(24, 1, 4096)
    """A narrower strip (a lone 1) is widened with paper on both sides to this many pixels ..."""
    max_width: int = bounded(640, 8, 8192)
    """... and a wider one squeezed to this many (twenty digits side by side)."""
    same_line: float = bounded(0.5, 0.0, 1.0)
    """A shape is on the main line when this fraction of its height lies within that line's band."""
    pad: int = bounded(2, 0, 16)
    """Pixels around the shapes' own that keep their anti-aliased edge."""
    strength_quantile: float = bounded(0.9, 0.01, 1.0)
    """The strokes' ink at this quantile becomes full ink: a pale pen looks like a dark one ..."""
    floor: float = bounded(0.3, 0.0, 0.9)
    """... and ink under this fraction of it becomes none: a cheque's pattern or a ruled line the pen crossed,
    fainter than the pen, leaves no trace beside the strokes it touches."""
    stroke_range: tuple[float, float] = bounded((2.0, 4.0), 0.1, 64.0)
    """The stroke's width in the strip, in pixels: a hairline is thickened, a marker thinned, into this range ..."""
    fine: int = bounded(2, 1, 8)
    """... on a copy this many times the strip's size."""

    def __post_init__(self) -> None:
        check_bounds(self)
        low, high = self.stroke_range
        if not low < high or not 2 * self.margin < self.height or not self.min_width <= self.max_width:
            raise ValueError(f"need a rising stroke_range, margins inside the height, min_width <= max_width: {self}")


@dataclass(frozen=True)
class NumberStrip:
    """The number as the reader sees it (ink = 1, before normalization) and how it maps back onto the photo."""

    pixels: NDArray[np.float32]
    box: Box
    """The writing's box in the photo's pixels."""
    columns: tuple[float, float]
    """Strip column ``c`` lies at photo x ``columns[0] + c * columns[1]`` ..."""
    rows: tuple[float, float]
    """... and strip row ``r`` at photo y ``rows[0] + r * rows[1]``."""
    members: tuple[int, ...]
    """The components of the segmented ink map that the strip shows."""

    def photo_box(self, span: tuple[int, int]) -> Box:
        """The photo's box around the strip's ink between two of its columns (the whole height where there is none)."""
        left, right = span
        rows = np.flatnonzero(self.pixels[:, left:right].max(axis=1, initial=0.0) > 0.1)
        top, bottom = (int(rows[0]), int(rows[-1]) + 1) if len(rows) else (0, self.pixels.shape[0])
        (x, dx), (y, dy) = self.columns, self.rows
        return (int(x + left * dx), int(y + top * dy), int(np.ceil(x + right * dx)), int(np.ceil(y + bottom * dy)))


class Strip(Stage[StripParams]):
    """Stage 6: shapes found on an ink map to the strip of the main line they write."""

    def __call__(self, ink: Gray, labels: NDArray[np.int32], groups: Sequence[Group], scale: float) -> NumberStrip:
        p = self.params
        line = main_line(groups, p.same_line)
        box = line[0].box
        for group in line[1:]:
            box = union(box, group.box)
        members = tuple(m for group in line for m in group.members)
        x0, y0, x1, y1 = box
        xa, ya = max(0, x0 - p.pad), max(0, y0 - p.pad)
        xb, yb = min(ink.shape[1], x1 + p.pad), min(ink.shape[0], y1 + p.pad)
        near = cv2.dilate(member_mask(labels[ya:yb, xa:xb], members).view(np.uint8), CROSS, iterations=p.pad)
        inside = (slice(y0 - ya, y1 - ya), slice(x0 - xa, x1 - xa))
        own = member_mask(labels[y0:y1, x0:x1], members)
        region = ink[y0:y1, x0:x1] * near[inside]
        strength = quantiles(region[own], (p.strength_quantile,))[0] if own.any() else 1.0
        level = max(strength, 1e-3)
        region = np.clip((region - p.floor * level) / ((1 - p.floor) * level), 0.0, 1.0).astype(np.float32)
        zoom = (p.height - 2 * p.margin) / max(1, height(box))
        pixels, (shift, stretch) = _widened(_fitted(region, own, zoom, p), p)
        step = scale / (zoom * stretch)
        columns = (x0 * scale - (p.margin * stretch + shift) * step, step)
        rows = ((y0 - p.margin / zoom) * scale, scale / zoom)
        original = (int(x0 * scale), int(y0 * scale), int(np.ceil(x1 * scale)), int(np.ceil(y1 * scale)))
        return NumberStrip(pixels, original, columns, rows, members)


def main_line(groups: Sequence[Group], same_line: float) -> list[Group]:
    """The shapes on the line of writing that holds the most of them (the largest such line on a tie), left to right."""

    def on(band: Box, group: Group) -> bool:
        top, bottom = max(band[1], group.box[1]), min(band[3], group.box[3])
        return bottom - top >= same_line * height(group.box)

    def weight(group: Group) -> tuple[int, int]:
        x0, y0, x1, y1 = group.box
        return sum(on(group.box, other) for other in groups), (x1 - x0) * (y1 - y0)

    main = max(groups, key=weight)
    return sorted((group for group in groups if on(main.box, group)), key=lambda group: group.box[0])


def _fitted(region: Gray, own: NDArray[np.bool_], zoom: float, p: StripParams) -> Gray:
    """The region at the strip's height, its stroke brought into ``stroke_range`` on a ``fine`` copy."""
    rows = p.height - 2 * p.margin
    fine_size = (max(1, round(region.shape[1] * zoom * p.fine)), max(1, round(rows * p.fine)))
    fine = resize(region, fine_size, cv2.INTER_AREA if zoom * p.fine < 1 else cv2.INTER_LINEAR)
    width = stroke_width(own) * zoom
    low, high = p.stroke_range
    change = 0 if width == 0 or low <= width <= high else round(((low if width < low else high) - width) * p.fine)
    if change > 0:
        fine = dilate(fine, change + 1, change + 1)
    elif change < 0:
        fine = erode(fine, 1 - change, 1 - change)
    size = (max(1, round(region.shape[1] * zoom)), rows)
    strip = resize(fine, size, cv2.INTER_AREA)
    return np.pad(strip, ((p.margin, p.margin), (p.margin, p.margin)))


def _widened(pixels: Gray, p: StripParams) -> tuple[Gray, tuple[float, float]]:
    """The strip at least ``min_width`` wide (paper added evenly) and at most ``max_width`` (squeezed);
    returns it, how many columns were added on the left and how much it was squeezed (1: not)."""
    cols = pixels.shape[1]
    if cols < p.min_width:
        left = (p.min_width - cols) // 2
        return np.pad(pixels, ((0, 0), (left, p.min_width - cols - left))), (float(left), 1.0)
    if cols > p.max_width:
        return resize(pixels, (p.max_width, pixels.shape[0]), cv2.INTER_AREA), (0.0, p.max_width / cols)
    return pixels, (0.0, 1.0)
