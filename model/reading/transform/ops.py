"""Image primitives the stages share: OpenCV where it is hot, single-threaded.

A photo is small; parallelism comes from serving several photos at once, so OpenCV's own
threads would only compete with them.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

cv2.setNumThreads(1)

Gray = NDArray[np.float32]
Mask = NDArray[np.bool_]
Box = tuple[int, int, int, int]
"""x0, y0, x1, y1 with x1 and y1 exclusive."""

CROSS = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))


def resize(gray: Gray, size: tuple[int, int], interpolation: int) -> Gray:
    """OpenCV's resize: ``INTER_AREA`` is the area filter MNIST's recipe asks for, and an order
    of magnitude cheaper than Pillow's on float images."""
    return np.asarray(cv2.resize(gray, size, interpolation=interpolation), dtype=np.float32)


def block_mean(gray: Gray, factor: int) -> Gray:
    """The mean of each whole ``factor`` x ``factor`` block; whole blocks take OpenCV's fast area path."""
    rows, cols = gray.shape[0] // factor, gray.shape[1] // factor
    return resize(gray[: rows * factor, : cols * factor], (cols, rows), cv2.INTER_AREA)


def shrink_to(gray: Gray, long_side: int) -> Gray:
    """A block-mean copy whose long side is about ``long_side``: where slow judgements are cheap."""
    factor = max(1, max(gray.shape) // long_side)
    if factor == 1 or min(gray.shape) < factor:
        return gray
    return block_mean(gray, factor)


def enlarge(small: Gray, shape: tuple[int, ...]) -> Gray:
    if small.shape == shape:
        return small
    return resize(small, (shape[1], shape[0]), cv2.INTER_LINEAR)


def erode(image: Gray, width: int, height: int) -> Gray:
    """Minimum over a ``width`` x ``height`` window; pixels outside the image are ignored."""
    return np.asarray(cv2.erode(image, np.ones((height, width), np.uint8)), dtype=np.float32)


def dilate(image: Gray, width: int, height: int) -> Gray:
    """Maximum over a ``width`` x ``height`` window; pixels outside the image are ignored."""
    return np.asarray(cv2.dilate(image, np.ones((height, width), np.uint8)), dtype=np.float32)


def erode_mask(mask: Mask) -> Mask:
    """Erosion by a cross; outside the array counts as background, so pixels on its border are outline."""
    eroded = cv2.erode(np.ascontiguousarray(mask).view(np.uint8), CROSS, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    return np.asarray(eroded).view(np.bool_)


def label(mask: Mask) -> tuple[int, NDArray[np.int32], NDArray[np.int32]]:
    """8-connected components with their boxes and areas (row 0 is the background).

    Grana's algorithm: with statistics, three times faster than OpenCV's default here.
    """
    count, labels, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(
        np.ascontiguousarray(mask).view(np.uint8), 8, cv2.CV_32S, cv2.CCL_GRANA
    )
    return int(count), np.asarray(labels, dtype=np.int32), np.asarray(stats, dtype=np.int32)


def member_mask(labels: NDArray[np.int32], members: tuple[int, ...]) -> Mask:
    """Where ``labels`` is one of ``members``: most digits are one piece, and a comparison is far cheaper than ``isin``."""
    if len(members) == 1:
        return np.asarray(labels == members[0])
    return np.isin(labels, members)


def double(small: NDArray[Any]) -> NDArray[Any]:
    """Twice the size by repeating pixels: a half-resolution result laid back on the full image."""
    if small.dtype == np.bool_:
        return double(small.view(np.uint8)).view(np.bool_)
    return np.asarray(cv2.resize(small, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST_EXACT))


def quantiles(values: NDArray[np.float32], qs: tuple[float, ...]) -> list[float]:
    """``np.quantile``'s linear interpolation on a flat array, by partition: several times
    cheaper on the small arrays the stages measure, a dozen times per photo."""
    last = values.size - 1
    positions = [q * last for q in qs]
    lows = [int(p) for p in positions]
    parted = np.partition(values, sorted({*lows, *(min(lo + 1, last) for lo in lows)}))
    pairs = zip(lows, positions, strict=True)
    return [float(parted[lo]) + (float(parted[min(lo + 1, last)]) - float(parted[lo])) * (p - lo) for lo, p in pairs]


def stroke_width(mask: Mask) -> float:
    """Mean width of the strokes in a mask: area over half the outline (a stroke has two sides)."""
    outline = np.count_nonzero(mask & ~erode_mask(mask))
    return np.count_nonzero(mask) / (outline / 2.0) if outline else 0.0


def height(box: Box) -> int:
    return box[3] - box[1]


def width(box: Box) -> int:
    return box[2] - box[0]


def union(a: Box, b: Box) -> Box:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
