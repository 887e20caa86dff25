"""Stage 3, lines: clear ruled or squared notebook lines, keeping the strokes that cross them.

A line is long (most of the page), thin and about as dark along its whole length. Lines
are found on a half-size copy (they survive a 2x2 max-pool; it is 4x cheaper), on a
top-hat across the line's direction, so a shadow lying over part of a line does not hide
it. Only the line's own pixels are cleared: where a clearly darker stroke crosses it, the
stroke is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from model.reading.transform.bounds import bounded, check_bounds
from model.reading.transform.ops import Gray, Mask, dilate, double, erode, label
from model.reading.transform.stage import Stage


@dataclass(frozen=True)
class LineParams:
    min_span: int = bounded(16, 1, 4096)
    """Half-size copies shorter than this across have no room for lines."""
    across: float = bounded(0.027, 0.001, 0.49)
    """Top-hat window across a line, as a fraction of the long side: lines are thinner than this ..."""
    min_across: int = bounded(5, 1, 255)
    """... and at least this many half-size pixels: an enlarged small photo's lines are a few pixels of blur wide."""
    band: int = bounded(3, 1, 15)
    """The top-hat is widened across the line by this many pixels, so a line that wavers stays one band."""
    bridge: float = bounded(0.05, 0.001, 0.49)
    """Gaps up to this fraction of the long side along a line are closed first: lines cross each other on squared
    paper, and a stroke crossing a line breaks its top-hat."""
    along_divisor: int = bounded(8, 1, 256)
    """A line candidate survives an opening this many times shorter than the page ..."""
    min_along: int = bounded(5, 1, 255)
    """... and at least this many half-size pixels long."""
    candidate_level: float = bounded(0.06, 0.0, 1.0)
    """Top-hat strength above which a pixel may be on a line."""
    min_length: float = bounded(0.75, 0.01, 1.0)
    """A line runs along at least this fraction of the page ..."""
    alone_length: float = bounded(0.99, 0.01, 1.0)
    """... and a line with no other beside it (not a ruling, not a grid) runs the page's whole length,
    like a margin: a lone 1 written down most of a page is a stroke, not a line."""
    family_contrast: float = bounded(2.0, 1.0, 100.0)
    """Of two or more parallel lines (a ruling, a grid), one more than this many times darker than
    the others' median is a pen stroke drawn along a line, not a line."""
    max_thickness: float = bounded(0.023, 0.0, 1.0)
    """Area over length of a line, as a fraction of the long side, at least ..."""
    thickness_fraction: float = bounded(0.03, 0.0, 1.0)
    """... or this fraction of the line's own span, whichever is larger."""
    keep_factor: float = bounded(1.5, 0.0, 100.0)
    """Ink up to this many times the line's own level is the line's and is cleared."""
    crossing_stroke: float = bounded(0.5, 0.0, 1.0)
    """Where the top-hat is the line's but the ink is under this, it is the line's too."""
    remnant: float = bounded(1.5, 0.0, 100.0)
    """Ink up to this many times the cleared level is marked as where a line ran (two lines crossing, say);
    a pen stroke crossing the line is darker and stays the pen's."""

    def __post_init__(self) -> None:
        check_bounds(self)
        if not self.min_length <= self.alone_length or self.family_contrast == 1:
            raise ValueError(f"need min_length <= alone_length and family_contrast > 1: {self}")


@dataclass(frozen=True)
class Cleared:
    """The ink with notebook lines cleared, and where lines ran (so what is left of them is not read as a 1)."""

    ink: Gray
    on_lines: Mask


class Lines(Stage[LineParams]):
    """Stage 3: ruled and squared notebook lines cleared from the ink, first across, then down."""

    def __call__(self, ink: Gray) -> Cleared:
        height, width = ink.shape
        even = ink[: height - height % 2, : width - width % 2]
        half = np.maximum(np.maximum(even[0::2, 0::2], even[1::2, 0::2]), np.maximum(even[0::2, 1::2], even[1::2, 1::2]))
        cleared = Cleared(ink.copy(), np.zeros(ink.shape, dtype=bool))
        for axis in (1, 0):
            if half.shape[axis] >= self.params.min_span:
                self._clear(half, axis, cleared)
        return cleared

    def _clear(self, half: Gray, axis: int, cleared: Cleared) -> None:
        """Clear the lines running along ``axis`` (1: across the page) of the half-size copy, in place."""
        params, span, long_side = self.params, half.shape[axis], max(half.shape)
        window = max(params.min_across, round(params.across * long_side)) | 1
        bridge = max(1, round(params.bridge * long_side))
        across = (window, 1) if axis == 0 else (1, window)  # (width, height) of a window across the lines
        thin = half - dilate(erode(half, *across), *across)
        band = dilate(thin, *(params.band if n > 1 else 1 for n in across))
        gap = (bridge, 1) if axis == 1 else (1, bridge)
        band = erode(dilate(band, *gap), *gap)
        length = max(params.min_along, span // params.along_divisor)
        along = (length, 1) if axis == 1 else (1, length)
        opened = dilate(erode(band, *along), *along)
        count, candidates, stats = label(opened > params.candidate_level)
        if count <= 1:
            return
        extents = stats[:, cv2.CC_STAT_WIDTH if axis == 1 else cv2.CC_STAT_HEIGHT]
        drawn = np.bincount(candidates[thin > params.candidate_level], minlength=count)  # the line's own pixels, not the band around it
        thickness = drawn / np.maximum(extents, 1)
        thin_enough = max(params.max_thickness * long_side, params.thickness_fraction * span)
        is_line = (extents >= params.min_length * span) & (thickness <= thin_enough)
        is_line[0] = False
        found = np.flatnonzero(is_line)
        if len(found) == 1 and _drawn_extent(candidates == int(found[0]), thin, params, axis) < params.alone_length * span:
            is_line[found[0]] = False  # a lone line short of the page's length: a stroke
        if not is_line.any():
            return
        levels = np.zeros(count, dtype=np.float32)
        for index in np.flatnonzero(is_line).tolist():
            x, y, w, h = (int(v) for v in stats[index, :4])
            levels[index] = np.median(opened[y : y + h, x : x + w][candidates[y : y + h, x : x + w] == index])
        darker = _darker_than_its_fellows(levels, is_line, params.family_contrast)
        for index in np.flatnonzero(darker).tolist():  # a margin is as dark along the page's whole length; a pen stroke along a line is not
            if _drawn_extent(candidates == index, thin, params, axis, levels[index] / params.family_contrast) >= params.alone_length * span:
                darker[index] = False
        is_line &= ~darker
        _erase(cleared, double(is_line[candidates]), double(thin), params.keep_factor * double(levels[candidates]), params)


def _erase(cleared: Cleared, lines: Mask, thin: Gray, level: NDArray[np.floating[Any]], params: LineParams) -> None:
    """Clear the lines' own pixels at full size (a clearly darker stroke crossing them stays) and mark where they ran."""
    view = cleared.ink[: lines.shape[0], : lines.shape[1]]
    line_like = lines & (thin > params.candidate_level) & (view <= params.remnant * level)
    view[lines & ((view <= level) | ((thin <= level) & (view < params.crossing_stroke)))] = 0.0
    cleared.on_lines[: lines.shape[0], : lines.shape[1]] |= line_like


def _drawn_extent(candidate: Mask, thin: Gray, params: LineParams, axis: int, level: float = 0.0) -> int:
    """How far along the page a line candidate's own ink (above ``level`` too) runs, before gaps were
    bridged (bridging stretches a stroke that nearly reaches the edge right up to it)."""
    drawn = np.flatnonzero((candidate & (thin > max(params.candidate_level, level))).any(axis=0 if axis == 1 else 1))
    return int(drawn[-1] - drawn[0] + 1) if drawn.size else 0


def _darker_than_its_fellows(levels: Gray, is_line: Mask, contrast: float) -> Mask:
    """Line candidates far darker than the median of the other candidates along the same direction."""
    darker = np.zeros(is_line.shape, dtype=bool)
    found = np.flatnonzero(is_line)
    if len(found) < 2:
        return darker
    for index in found.tolist():
        others = levels[found[found != index]]
        darker[index] = levels[index] > contrast * float(np.median(others))
    return darker
