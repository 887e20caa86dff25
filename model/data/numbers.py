"""Numbers drawn as people write them, photographed or scanned: what the number reader learns from.

A number is MNIST digits (and, for some, the hands MNIST barely has: ``model.data.hands``)
written side by side at one height, with the habits of a hand: gaps from overlapping through
touching to wide, size, slant and baseline drifting along it, separators between thousands,
a closing dash, line or flourish, a minus sign, cents written small and raised, an underline,
a cell's borders. Then what it is written on: paper, a cheque's wavy security pattern, a
logbook's grey cell, ruled paper; and the capture: light, blur, noise, JPEG, a resolution down
to digits ~12 px high. Every kind of failure seen on real numbers is a field of
:class:`NumberLook`, so a test can ask for exactly that kind.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from model.data.hands import HANDS, UNSEEN, hand_drawn
from model.data.render import INKS, Look, Rng, digit_glyph, ground, lit, pressure, stamp

F32 = NDArray[np.float32]
Closing = Literal["none", "dash", "line", "dot", "equals", "flourish"]


@dataclass(frozen=True)
class NumberLook:
    """What kind of number a render is: how it was written, on what, and how it was captured."""

    ground: Literal["paper", "cheque", "cell", "screen"] = "paper"
    """Plain or ruled paper; a cheque's wavy security pattern; a logbook's grey cell; a drawing app."""
    spacing: Literal["apart", "close", "touching"] = "close"
    """Gaps between digits: wider than a stroke; a stroke or less; touching or overlapping."""
    separators: bool = False
    """A dot, comma or space between thousands ("40.000")."""
    closing: Closing = "none"
    """What closes an amount: a short dash, a long line, a dot, "=", a pen's flourish."""
    minus: bool = False
    """A minus sign before the number."""
    raised: bool = False
    """The last two digits written small and raised, as cents often are ("56⁰⁰")."""
    underline: bool = False
    """A line under the number, sometimes touching its digits."""
    borders: bool = False
    """A cell's borders around the number, sometimes crossed by its digits."""
    ruled: bool = False
    """Notebook lines behind the number."""
    faint: bool = False
    """A pen pressed lightly or a grey pencil: the ink a third to half as dark, not much darker than a cheque's pattern."""
    height: tuple[float, float] = (24.0, 80.0)
    """The digits' height in the image's pixels: ~12 is a tiny table cell, ~100 a close-up."""
    hands: float = 0.4
    """The share of the digits in :data:`model.data.hands.HANDS` drawn in that hand instead of MNIST's."""
    slashed: bool = False
    """Every 0 written slashed (``model.data.hands.UNSEEN``): a hand no training draws, for tests of
    learning from corrections."""

    @classmethod
    def sample(cls, rng: Rng) -> NumberLook:
        """The mix the number reader trains on."""
        ground = str(rng.choice(["paper", "cheque", "cell", "screen"], p=[0.4, 0.3, 0.2, 0.1]))
        closings = ["none", "dash", "line", "dot", "equals", "flourish"]
        return cls(
            ground=ground,  # type: ignore[arg-type]
            spacing=str(rng.choice(["apart", "close", "touching"], p=[0.3, 0.4, 0.3])),  # type: ignore[arg-type]
            separators=bool(rng.random() < 0.35),
            closing=str(rng.choice(closings, p=[0.5, 0.15, 0.12, 0.1, 0.05, 0.08])),  # type: ignore[arg-type]
            minus=bool(rng.random() < 0.04),
            raised=bool(rng.random() < 0.04),
            underline=bool(ground != "screen" and rng.random() < 0.15),
            borders=bool(ground == "cell" or (ground == "paper" and rng.random() < 0.1)),
            ruled=bool(ground == "paper" and rng.random() < 0.3),
            faint=bool(ground != "screen" and rng.random() < 0.1),
            height=(12.0, 24.0) if rng.random() < 0.25 else (24.0, 80.0),
        )


@dataclass(frozen=True)
class DrawnNumber:
    """A render and where its digits' strokes truly are (coverage 0-1 on the image's pixels)."""

    image: Image.Image
    digits: F32


_GAP = {"apart": (0.15, 0.5), "close": (0.0, 0.15), "touching": (-0.35, 0.0)}
"""Gaps between digits, as a fraction of the number's height."""


def draw_number(digits: Sequence[NDArray[np.uint8]], labels: str, rng: Rng, look: NumberLook | None = None) -> DrawnNumber:
    """Draw MNIST digits (28x28, white on black) labelled ``labels`` as one written number."""
    look = look or NumberLook.sample(rng)
    height = float(rng.uniform(*look.height))
    pen = _pen(rng, height)
    small = len(digits) - 2 if look.raised and len(digits) >= 3 else len(digits)
    glyphs = [
        _digit_glyph(image, label, height * (1.0 if i < small else _u(rng, 0.4, 0.6)), pen, look, rng)
        for i, (image, label) in enumerate(zip(digits, labels, strict=True))
    ]
    ink, marks = _written(glyphs, small, height, pen, look, rng)
    ink, marks = _trimmed(ink, marks, height)
    slant = _u(rng, -0.15, 0.5)
    ink, marks = _sheared(ink, slant), _sheared(marks, slant)
    if rng.random() < 0.5:
        ink, marks = _wobbled((ink, marks), height, rng)
    ink, marks = _framed(ink, marks, height, look, rng)
    image = _captured(np.maximum(ink, marks), height, look, rng)
    return DrawnNumber(image, ink)


def _u(rng: Rng, low: float, high: float) -> float:
    return float(rng.uniform(low, high))


def _pen(rng: Rng, height: float) -> float:
    """The stroke, in MNIST pixels added (> 0) or removed (< 0): a hairline pen to a marker."""
    if height < 20:
        return _u(rng, -0.5, 0.3)
    return float(rng.choice([_u(rng, -0.6, 0.0), _u(rng, 0.0, 0.6), _u(rng, 0.6, 1.2)], p=[0.35, 0.45, 0.2]))


def _digit_glyph(image: NDArray[np.uint8], label: str, height: float, pen: float, look: NumberLook, rng: Rng) -> F32:
    """One digit at about ``height`` (a little drift either way), cut to its ink."""
    own = height * _u(rng, 0.88, 1.1)
    if look.slashed and label in UNSEEN:
        return hand_drawn(label, own, pen, rng, UNSEEN)
    if label in HANDS and rng.random() < look.hands:
        return hand_drawn(label, own, pen, rng)
    drawn = digit_glyph(image, own / 20.0, pen, rng)
    ys, xs = np.nonzero(drawn > 0.1)
    if len(ys) == 0:
        return np.zeros((max(1, round(own)), max(1, round(own / 3))), np.float32)
    return np.ascontiguousarray(drawn[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1])


def _written(glyphs: list[F32], small: int, height: float, pen: float, look: NumberLook, rng: Rng) -> tuple[F32, F32]:
    """The digits side by side on one drifting baseline (the last ``len - small`` raised), and the
    marks that are not digits, as two layers."""
    stroke = 0.09 + 0.04 * pen
    gap_low, gap_high = _GAP[look.spacing]
    gap_low = max(gap_low, 2 * stroke - 0.35)  # a fat pen's digits overlap less before they become one blot
    thick = max(1, round(height * stroke))
    count = len(glyphs)
    sep_at = {i for i in range(small - 1) if (small - 1 - i) % 3 == 0} if look.separators else set()
    sep_kind = str(rng.choice(["dot", "comma", "space"], p=[0.6, 0.25, 0.15]))
    width = int(sum(g.shape[1] for g in glyphs) + height * (0.8 * count + 9))
    rows = int(height * 3)
    ink, marks = np.zeros((rows, width), np.float32), np.zeros((rows, width), np.float32)
    base, drift = height * 2.0, _u(rng, -0.08, 0.08)
    x = height * 1.0
    if look.minus:
        _line(marks, (x, base - 0.5 * height), (x + 0.4 * height, base - 0.5 * height), thick)
        x += 0.6 * height
    for i, g in enumerate(glyphs):
        bottom = base if i < small else base - height + g.shape[0] * _u(rng, 1.0, 1.3)
        stamp(ink, g, round(x), round(bottom - g.shape[0] + rng.normal(0, 0.04) * height + drift * (x - height)))
        x += g.shape[1] + height * _u(rng, gap_low, gap_high)
        if i in sep_at:
            x = _separator(marks, sep_kind, x, base + drift * (x - height), height, thick, rng)
    right = x
    if look.closing != "none" and rng.random() < 0.35:  # "205.-", "5580,-": a separator before the closing mark
        x = _separator(marks, "dot" if rng.random() < 0.6 else "comma", x, base + drift * (x - height), height, thick, rng)
    _closing(marks, look.closing, x, base + drift * (x - height), height, thick, rng)
    if look.underline:
        y = base + drift * height + _u(rng, -0.05, 0.25) * height
        _line(marks, (height * _u(rng, 0.6, 1.0), y), (right + _u(rng, 0, 1) * height, y + rng.normal(0, 0.05) * height), thick)
    return ink, marks


def _separator(marks: F32, kind: str, x: float, base: float, height: float, thick: int, rng: Rng) -> float:
    """A dot, comma or space between thousands; returns where the next digit starts."""
    if kind == "space":
        return x + height * _u(rng, 0.2, 0.5)
    x += height * _u(rng, 0.02, 0.12)
    dot = max(1.0, thick * _u(rng, 0.6, 1.2))
    y = base - height * _u(rng, 0.0, 0.12)
    if kind == "comma":
        _line(marks, (x + dot, y - dot), (x - 0.3 * dot, y + 0.25 * height), max(1, round(dot)))
    else:
        cv2.circle(marks, (round(x + dot), round(y - dot)), max(1, round(dot)), 1.0, -1, cv2.LINE_AA)
    return x + 2 * dot + height * _u(rng, 0.02, 0.15)


def _closing(marks: F32, kind: Closing, x: float, base: float, height: float, thick: int, rng: Rng) -> None:
    """What closes an amount, so nobody can add a digit after it."""
    x += height * _u(rng, 0.05, 0.4)
    mid = base - height * _u(rng, 0.2, 0.6)
    if kind == "dash":
        _line(marks, (x, mid), (x + height * _u(rng, 0.3, 0.8), mid + rng.normal(0, 0.05) * height), thick)
    elif kind == "line":
        y = base - height * _u(rng, 0.0, 0.5)
        _line(marks, (x, y), (x + height * _u(rng, 1.0, 5.0), y + rng.normal(0, 0.1) * height), thick)
    elif kind == "dot":
        cv2.circle(marks, (round(x + thick), round(base - thick)), thick, 1.0, -1, cv2.LINE_AA)
    elif kind == "equals":
        for dy in (-0.12, 0.12):
            _line(marks, (x, mid + dy * height), (x + height * _u(rng, 0.3, 0.6), mid + dy * height), thick)
    elif kind == "flourish":
        xs = x + np.linspace(0, height * _u(rng, 0.6, 2.0), 24)
        ys = mid + height * _u(rng, 0.08, 0.25) * np.sin(np.linspace(0, _u(rng, 3, 12), 24))
        points = np.round(np.stack([xs, ys], 1) * 4).astype(np.int32)
        cv2.polylines(marks, [points], False, 1.0, thick, cv2.LINE_AA, shift=2)


def _line(layer: F32, start: tuple[float, float], end: tuple[float, float], thick: int) -> None:
    points = np.round(np.array([start, end]) * 4).astype(np.int32)
    cv2.line(layer, tuple(points[0]), tuple(points[1]), 1.0, max(1, thick), cv2.LINE_AA, shift=2)


def _trimmed(ink: F32, marks: F32, height: float) -> tuple[F32, F32]:
    """Both layers cut to what was written, with a number's height of room all round for the slant."""
    ys, xs = np.nonzero(np.maximum(ink, marks) > 0.1)
    if len(ys) == 0:
        return ink, marks
    room = round(height)
    y0, y1 = max(0, ys.min() - room), min(ink.shape[0], ys.max() + 1 + room)
    x0, x1 = max(0, xs.min() - room), min(ink.shape[1], xs.max() + 1 + room)
    return ink[y0:y1, x0:x1], marks[y0:y1, x0:x1]


def _sheared(layer: F32, slant: float) -> F32:
    """The number leaning right (slant > 0) or left, about its middle row."""
    rows, cols = layer.shape
    matrix = np.array([[1.0, -slant, slant * rows / 2], [0.0, 1.0, 0.0]], np.float32)
    return np.asarray(cv2.warpAffine(layer, matrix, (cols, rows), flags=cv2.INTER_LINEAR), dtype=np.float32)


def _wobbled(layers: tuple[F32, F32], height: float, rng: Rng) -> tuple[F32, F32]:
    """A hand's wobble: both layers bent by one smooth random field, a few percent of the height."""
    rows, cols = layers[0].shape
    step = max(4.0, height / 2)
    coarse = (max(2, round(rows / step) + 1), max(2, round(cols / step) + 1))
    amount = _u(rng, 0.02, 0.06) * height
    dx, dy = (cv2.resize(rng.normal(0, amount, coarse).astype(np.float32), (cols, rows), interpolation=cv2.INTER_CUBIC) for _ in range(2))
    yy, xx = np.mgrid[0:rows, 0:cols].astype(np.float32)
    bent = [cv2.remap(layer, xx + dx, yy + dy, cv2.INTER_LINEAR, borderValue=0.0) for layer in layers]
    return np.asarray(bent[0], dtype=np.float32), np.asarray(bent[1], dtype=np.float32)


def _framed(ink: F32, marks: F32, height: float, look: NumberLook, rng: Rng) -> tuple[F32, F32]:
    """Cut the frame around what was written, as a scan's box or a photo's framing does; cell borders drawn on it."""
    ys, xs = np.nonzero(np.maximum(ink, marks) > 0.1)
    if len(ys) == 0:
        return ink, marks
    top, bottom = (_u(rng, -0.05, 0.6) * height for _ in range(2))
    left, right = (_u(rng, -0.03, 1.2) * height for _ in range(2))
    y0, y1 = max(0, round(ys.min() - top)), min(ink.shape[0], round(ys.max() + 1 + bottom))
    x0, x1 = max(0, round(xs.min() - left)), min(ink.shape[1], round(xs.max() + 1 + right))
    ink, marks = ink[y0:y1, x0:x1].copy(), marks[y0:y1, x0:x1].copy()
    if look.borders:
        _borders(marks, height, rng)
    return ink, marks


def _borders(marks: F32, height: float, rng: Rng) -> None:
    """A table cell's printed borders: top and bottom always, each side most of the time."""
    rows, cols = marks.shape
    thick = 1 if height < 30 or rng.random() < 0.5 else 2
    top, bottom, left, right = (round(_u(rng, 0.0, 0.15) * height) for _ in range(4))
    _line(marks, (0, top), (cols, top), thick)
    _line(marks, (0, rows - 1 - bottom), (cols, rows - 1 - bottom), thick)
    if rng.random() < 0.7:
        _line(marks, (left, 0), (left, rows), thick)
    if rng.random() < 0.7:
        _line(marks, (cols - 1 - right, 0), (cols - 1 - right, rows), thick)


def _captured(alpha: F32, height: float, look: NumberLook, rng: Rng) -> Image.Image:
    """The written layer on its ground, lit, blurred, noisy and compressed as a phone or a scanner leaves it."""
    rows, cols = alpha.shape
    paper = ground(cols, rows, rng, Look(ground="screen" if look.ground == "screen" else "paper", lines="ruled" if look.ruled else "plain"))
    if look.ground == "cheque":
        paper = paper * (1 - _guilloche(rows, cols, rng)[..., None])
    elif look.ground == "cell":
        paper = paper * np.float32(_u(rng, 0.6, 0.95))
    low, high = INKS[int(rng.integers(2 if look.ground in ("cheque", "cell") else len(INKS)))]
    ink = rng.uniform(np.array(low) / 255, np.array(high) / 255).astype(np.float32)
    if look.ground == "screen":
        ink = np.full(3, _u(rng, 0.0, 0.2), np.float32)
    strength = _u(rng, 0.3, 0.5) if look.faint else _u(rng, 0.6, 1.0)
    shade = alpha * np.float32(strength) * (pressure(alpha.shape, rng) if rng.random() < 0.2 else np.float32(1))
    photo = paper + shade[..., None] * (ink - paper)
    if look.ground != "screen":
        photo = lit(photo, rng, Look(shadow="soft" if rng.random() < 0.3 else "none"))
        photo += (rng.standard_normal((rows, cols), dtype=np.float32) * np.float32(_u(rng, 0, 0.03)))[..., None]
    pixels = (np.clip(photo, 0, 1) * 255).astype(np.uint8)
    if look.ground != "screen" and rng.random() < 0.7:
        pixels = cv2.GaussianBlur(pixels, (0, 0), _u(rng, 0.3, 0.6 + height / 60))
    image = Image.fromarray(pixels, mode="RGB")
    if look.ground != "screen" and rng.random() < 0.7:
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=int(rng.integers(40, 95)))
        image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    return image


def _guilloche(rows: int, cols: int, rng: Rng) -> F32:
    """A cheque's security pattern: families of thin wavy lines, a fraction of the pen's darkness."""
    yy, xx = np.mgrid[0:rows, 0:cols].astype(np.float32)
    pattern = np.zeros((rows, cols), np.float32)
    for _ in range(int(rng.integers(1, 3))):
        period = _u(rng, 2.5, 9.0)
        wave = _u(rng, 1.0, 10.0) * np.sin(2 * np.pi * xx / _u(rng, 15, 150) + _u(rng, 0, 6.3))
        phase = (yy - wave - _u(rng, -0.4, 0.4) * xx) / period
        lines = (0.5 + 0.5 * np.cos(2 * np.pi * phase)) ** _u(rng, 2, 12)
        pattern = np.maximum(pattern, lines.astype(np.float32))
    return pattern * np.float32(_u(rng, 0.08, 0.35))
