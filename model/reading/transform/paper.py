"""Stage 2, paper level and polarity: how much ink each pixel holds, whatever the light.

Ink is measured against the local paper level, so off-white paper, a gradient across the
page and soft shadows read as paper; polarity is detected, so chalk on a board and
MNIST's white on black read as ink too.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from model.reading.transform.bounds import bounded, check_bounds
from model.reading.transform.ops import Gray, dilate, enlarge, erode, quantiles, shrink_to, stroke_width
from model.reading.transform.stage import Stage


@dataclass(frozen=True)
class PaperParams:
    small_size: int = bounded(48, 8, 1024)
    """Long side of the copy on which lighting and polarity are judged."""
    closing_fraction: float = bounded(0.4, 0.01, 1.0)
    """The paper closing's window as a fraction of that copy: wider than any stroke, narrower than a shadow."""
    min_window: int = bounded(3, 3, 31)
    """No closing or median window is narrower than this many pixels."""
    level_blur: int = bounded(3, 1, 15)
    """The paper level is smoothed with a box this many pixels wide, so its steps do not show as ink."""
    sample_step: int = bounded(4, 1, 16)
    """Quantiles of the paper level and of the ink are taken on every n-th pixel each way."""
    brightest_paper: float = bounded(0.95, 0.5, 1.0)
    """The page's brightest paper is this quantile of its paper level."""
    pen_peak: float = bounded(0.999, 0.9, 1.0)
    """The strongest ink is this quantile of the ink map: a few hot pixels do not set it ..."""
    pen_strength: float = bounded(0.6, 0.05, 1.0)
    """... and pixels with this fraction of it are the pen's, whose stroke width sets ..."""
    stroke_windows: float = bounded(4.0, 1.0, 64.0)
    """... the fine paper closing's window, this many stroke widths: a shadow or a table wider than that is paper."""
    fine_steps: int = bounded(8, 1, 256)
    """The fine closing runs on a copy where its window is about this many pixels."""
    level_floor: float = bounded(0.05, 0.001, 0.99)
    """The darkest paper level divided by; keeps black corners from blowing up."""
    polarity_sample: int = bounded(96, 8, 4096)
    """The ground's tone is the median of every n-th pixel, n = long side / this."""
    light_ground: float = bounded(0.5, 0.0, 1.0)
    """A ground (the median tone, or the border's) at least this light carries dark ink."""
    median_divisor: int = bounded(4, 1, 64)
    """On a dark ground, what stands out from a median this many times narrower than the copy is ink."""
    darkest_shadow: float = bounded(0.35, 0.0, 0.99)
    """The paper level never falls below this fraction of the page's brightest paper: light falling off
    and a shadow darken paper by half at most, while a marker's ink is darker than that, so a
    coloured-in shape wider than the closings stays ink instead of becoming its own outline."""

    def __post_init__(self) -> None:
        check_bounds(self)


@dataclass(frozen=True)
class Inked:
    """The working image with its ink darker than its ground, and how much ink each pixel holds."""

    gray: Gray
    """Light ink (chalk, MNIST) inverted: what the whole-frame reading splits."""
    ink: Gray
    """0 on paper, towards 1 on strokes."""


class Paper(Stage[PaperParams]):
    """Stage 2: the working grey to ink strength against the paper, whatever the polarity."""

    def __call__(self, gray: Gray) -> Inked:
        dark = _dark_ink(gray, self.params)
        return Inked(dark, _ink_map(dark, self.params))


def _dark_ink(gray: Gray, params: PaperParams) -> Gray:
    """The image with its ink darker than its ground: light ink (chalk, MNIST) is inverted."""
    return np.subtract(np.float32(1.0), gray) if _light_ink(gray, shrink_to(gray, params.small_size), params) else gray


def _ink_map(gray: Gray, params: PaperParams) -> Gray:
    """Ink strength per pixel of a :func:`_dark_ink` image: 0 on paper, towards 1 on strokes.

    The paper level is a grey closing (max filter, then min filter): it fills every dark
    feature narrower than its window and leaves what is wider. A first closing, 40% of
    the image wide, finds the pen at any size; a second, a few of the pen's own stroke
    widths wide, follows the paper closely, so that a shadow's body, a tinted shadow
    over a thin pen or the table beyond a page's edge read as paper, not ink. Neither may
    fall below ``darkest_shadow`` of the brightest paper: no shadow is as dark as ink.
    """
    small = shrink_to(gray, params.small_size)
    step = params.sample_step
    level = _closed(small, max(params.min_window, int(max(small.shape) * params.closing_fraction)), gray.shape, params)
    darkest = np.float32(params.darkest_shadow * quantiles(level[::step, ::step].ravel(), (params.brightest_paper,))[0])
    level = np.maximum(level, darkest)
    ink = _against(gray, level, params.level_floor)
    width = _pen_width(ink, params)
    if width > 0:
        span = params.stroke_windows * width
        factor = max(1, int(span // params.fine_steps))
        copy = shrink_to(gray, max(gray.shape) // factor)
        fine = _closed(copy, max(params.min_window, round(span * copy.shape[0] / gray.shape[0])), gray.shape, params)
        ink = _against(gray, np.maximum(np.minimum(level, fine), darkest), params.level_floor)
    return ink


def _closed(copy: Gray, window: int, shape: tuple[int, ...], params: PaperParams) -> Gray:
    """The paper level: a closing of ``copy`` with a square window, smoothed and laid on ``shape``."""
    window |= 1
    closed = erode(dilate(copy, window, window), window, window)
    blur = (params.level_blur, params.level_blur)
    return enlarge(np.asarray(cv2.blur(closed, blur, borderType=cv2.BORDER_REPLICATE), dtype=np.float32), shape)


def _against(gray: Gray, level: Gray, floor: float) -> Gray:
    """1 - gray / level, clipped to [0, 1]: how much darker than its paper each pixel is."""
    ink = np.maximum(level, np.float32(floor))
    np.divide(gray, ink, out=ink)
    np.subtract(np.float32(1.0), ink, out=ink)
    np.clip(ink, 0.0, 1.0, out=ink)
    return ink


def _pen_width(ink: Gray, params: PaperParams) -> float:
    """The pen's stroke width in pixels, from its strongest pixels (a shadow is fainter); 0 without ink."""
    step = params.sample_step
    peak = quantiles(ink[::step, ::step].ravel(), (params.pen_peak,))[0]
    if peak <= 0:
        return 0.0
    return stroke_width(ink >= params.pen_strength * peak)


def _light_ink(gray: Gray, small: Gray, params: PaperParams) -> bool:
    """Is the ink lighter than its ground (chalk on a board, MNIST's white on black)?

    Ink is the minority, so the ground is the median tone; in a crop cut tight to a fat
    marker's digit, where ink is the majority, the frame's border is still mostly ground. A
    light ground by either means dark ink: that is paper, whatever its shadows (a page on a
    dark table is light by its median). On a dark ground by both (a board, a screen, or paper
    in dim light) the sign of what stands out from a local median decides, since strokes are
    the thin features that do.
    """
    step = max(1, max(gray.shape) // params.polarity_sample)
    border = np.concatenate([gray[0, ::step], gray[-1, ::step], gray[::step, 0], gray[::step, -1]])
    if max(quantiles(gray[::step, ::step].ravel(), (0.5,))[0], quantiles(border, (0.5,))[0]) >= params.light_ground:
        return False
    coarse = np.round(small * 255).astype(np.uint8)
    window = max(params.min_window, max(coarse.shape) // params.median_divisor) | 1
    residual = small - cv2.medianBlur(coarse, window).astype(np.float32) / 255
    return float(np.clip(residual, 0, None).sum()) > float(np.clip(-residual, 0, None).sum())
